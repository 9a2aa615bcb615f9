package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jwtgate/jwtgate/jwt"
)

func cmdKey(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "generate":
		return keyGenerate(args[1:], stdout, stderr)
	case "jwks":
		return keyJWKS(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "jwtgate key: unknown command %q (generate, jwks)\n", args[0])
	return 2
}

func keyGenerate(args []string, stdout, stderr io.Writer) int {
	const prefix = "jwtgate key generate"
	fs := newFlagSet(prefix, "jwtgate key generate --alg ALG [--out F] [--kid ID] [--format pem|jwk] [--force]", stderr)
	alg := fs.String("alg", "", "algorithm: HS256/384/512, RS*, PS*, ES256/384/512, EdDSA")
	out := fs.String("out", "", "write to this file (mode 0600) instead of stdout")
	kid := fs.String("kid", "", "key id (default: the RFC 7638 thumbprint)")
	format := fs.String("format", "", "pem or jwk (default: pem for asymmetric keys, jwk for HMAC secrets)")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if len(pos) > 0 || *alg == "" {
		return exitFor(stderr, prefix, errors.New("want --alg ALG and no arguments"))
	}
	a := jwt.Algorithm(*alg)
	if !a.Valid() {
		return exitFor(stderr, prefix, fmt.Errorf("unknown algorithm %q", *alg))
	}
	key, err := jwt.GenerateKey(a)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	if *kid == "" {
		if *kid, err = key.Thumbprint(); err != nil {
			return exitFor(stderr, prefix, err)
		}
	}
	key = key.WithKeyID(*kid)
	if *format == "" {
		*format = "pem"
		if a.IsHMAC() {
			*format = "jwk"
		}
	}
	var data []byte
	switch *format {
	case "pem":
		if a.IsHMAC() {
			return exitFor(stderr, prefix, errors.New("an HMAC secret has no PEM form; use --format jwk"))
		}
		data, err = jwt.MarshalPEMPrivateKey(key)
	case "jwk":
		data, err = key.MarshalPrivateJWK()
		data = append(data, '\n')
	default:
		return exitFor(stderr, prefix, fmt.Errorf("--format must be pem or jwk"))
	}
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	if *out == "" {
		stdout.Write(data)
		return 0
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(*out, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("%s exists (use --force to overwrite)", *out)
		}
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return 1
	}
	if err := f.Chmod(0o600); err == nil { // O_TRUNC keeps an old file's mode
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return 1
	}
	fmt.Fprintf(stderr, "wrote %s key %s to %s\n", a, *kid, *out)
	return 0
}

func keyJWKS(args []string, stdout, stderr io.Writer) int {
	const prefix = "jwtgate key jwks"
	fs := newFlagSet(prefix, "jwtgate key jwks [--alg ALG] FILE...", stderr)
	alg := fs.String("alg", "", "algorithm to publish the keys for (default: the key decides, e.g. RS256 for RSA)")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if len(pos) == 0 {
		return exitFor(stderr, prefix, errors.New("give one or more key files"))
	}
	var keys []*jwt.Key
	for _, p := range pos {
		k, err := readKeyFile(p, jwt.Algorithm(*alg), false)
		if err != nil {
			return exitFor(stderr, prefix, err)
		}
		if k.IsSymmetric() {
			return exitFor(stderr, prefix, fmt.Errorf("%s is an HMAC secret: secrets cannot be published", p))
		}
		if k.KeyID() == "" {
			tp, err := k.Thumbprint()
			if err != nil {
				return exitFor(stderr, prefix, err)
			}
			k = k.WithKeyID(tp)
		}
		keys = append(keys, k)
	}
	data, err := jwt.MarshalJWKS(keys...)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	fmt.Fprintf(stdout, "%s\n", data)
	return 0
}
