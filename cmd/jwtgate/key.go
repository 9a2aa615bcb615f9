package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jwtgate/jwtgate/jwt"
)

const keyUsage = `Usage:
  jwtgate key generate --alg ALG [--out F] [--kid ID] [--format pem|jwk]   make a key
  jwtgate key jwks FILE...                                              public JWKS of key files
  jwtgate key rotate [--alg ALG] [--grace D] [--data DIR]               new active server key
  jwtgate key list [--data DIR]                                         the server's keys

Run a command with -h for its flags.
`

func keyGenerate(args []string, stdout, stderr io.Writer) int {
	const prefix = "jwtgate key generate"
	c := newCommand(prefix, "jwtgate key generate --alg ALG [--out F] [--kid ID] [--format pem|jwk] [--force]", `
Makes a new random key: a 32/48/64-byte secret for HS256/384/512, a
2048-bit RSA key for RS* and PS*, a key on the algorithm's curve for ES*,
an Ed25519 key for EdDSA. Asymmetric keys are written as a PKCS#8 PEM
private key, secrets as a JWK {"kty":"oct",…}; --format jwk gives a
private JWK for any algorithm. The kid defaults to the key's RFC 7638
thumbprint; a PEM file cannot hold a kid or an algorithm, so --kid needs
--format jwk. The key goes to stdout, or to --out, created with mode 0600
and never overwritten without --force. Exit status: 0 written, 1 the file
could not be written (or exists), 2 usage error.`, nil)
	alg := c.fs.String("alg", "", "algorithm `ALG`: "+algList()+" (required)")
	out := c.fs.String("out", "", "write the key to `FILE` (mode 0600) instead of stdout")
	kid := c.fs.String("kid", "", "key id `ID` (default: the RFC 7638 thumbprint; needs --format jwk)")
	format := c.fs.String("format", "", "`pem` or jwk (default: pem for asymmetric keys, jwk for HMAC secrets)")
	force := c.fs.Bool("force", false, "replace --out if it exists")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0]))
	}
	if *alg == "" {
		return exitFor(stderr, prefix, fmt.Errorf("%w: --alg is required (one of %s)", errUsage, algList()))
	}
	a := jwt.Algorithm(*alg)
	if !a.Valid() {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unknown --alg %q (want one of %s)", errUsage, *alg, algList()))
	}
	if *format == "" {
		*format = "pem"
		if a.IsHMAC() {
			*format = "jwk"
		}
	}
	switch {
	case *format != "pem" && *format != "jwk":
		return exitFor(stderr, prefix, fmt.Errorf("%w: --format must be pem or jwk, not %q", errUsage, *format))
	case *format == "pem" && a.IsHMAC():
		return exitFor(stderr, prefix, fmt.Errorf("%w: an HMAC secret has no PEM form; use --format jwk", errUsage))
	case *format == "pem" && *kid != "":
		return exitFor(stderr, prefix, fmt.Errorf("%w: a PEM file cannot hold a kid; use --format jwk, or --kid when signing", errUsage))
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
	var data []byte
	if *format == "pem" {
		data, err = jwt.MarshalPEMPrivateKey(key)
	} else {
		data, err = key.MarshalPrivateJWK()
		data = append(data, '\n')
	}
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	if *out == "" {
		if _, err := stdout.Write(data); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
			return 1
		}
		return 0
	}
	if err := writeKeyFile(*out, data, *force); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	note := ""
	if def, err := jwt.DefaultAlgorithm(key.PublicKey()); *format == "pem" && err == nil && def != a {
		note = fmt.Sprintf("; PEM does not record the algorithm: pass --alg %s when using it", a)
	}
	fmt.Fprintf(stderr, "wrote %s key, kid %s, to %s%s\n", a, *kid, *out, note)
	return 0
}

// writeKeyFile creates path with mode 0600. Without force an existing
// file is refused; with force it is replaced atomically by a new file, so
// an old file's mode or a failed write cannot leave a readable or broken key.
func writeKeyFile(path string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; not overwriting it (use --force to replace it)", path)
		}
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func keyJWKS(args []string, stdout, stderr io.Writer) int {
	const prefix = "jwtgate key jwks"
	c := newCommand(prefix, "jwtgate key jwks [--alg ALG] FILE...", `
Prints the public JWK Set {"keys":[…]} of the key files (PEM or JWK,
private or public), for publishing at a jwks_uri: never private members.
Keys without a kid are named by their RFC 7638 thumbprint, as "jwtgate
token sign" names them in tokens. HMAC secrets cannot be published.
Exit status: 0 printed, 2 usage or key error.`, nil)
	alg := c.fs.String("alg", "", "algorithm `ALG` to publish PEM keys for (default: the key decides, RS256 for RSA: pass PS256 etc. for RSA-PSS)")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: give one or more key files", errUsage))
	}
	if *alg != "" && !jwt.Algorithm(*alg).Valid() {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unknown --alg %q (want one of %s)", errUsage, *alg, algList()))
	}
	var keys []*jwt.Key
	for _, p := range pos {
		// allowWeak: a short oct JWK is still recognised as a secret and
		// refused below for that reason.
		k, err := readKeyFile(p, jwt.Algorithm(*alg), true)
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
		keys = append(keys, k.Public())
	}
	data, err := jwt.MarshalJWKS(keys...)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	fmt.Fprintf(stdout, "%s\n", data)
	return 0
}
