package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"
)

// parseInterspersed parses flags anywhere among the positional arguments
// (the flag package alone stops at the first positional one).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "-" || !strings.HasPrefix(rest[0], "-") {
			pos = append(pos, rest[0])
			args = rest[1:]
			continue
		}
		args = rest // after "--": everything left is positional
		return append(pos, args...), nil
	}
}

// keyFlags are the ways to name a key. Secrets never come as literal
// arguments: they would show in ps and in shell history.
type keyFlags struct {
	secretEnv, secretFile, keyFile, jwksFile string
	allowWeak                                bool
}

func (k *keyFlags) register(fs *flag.FlagSet, verify bool) {
	fs.StringVar(&k.secretEnv, "secret-env", "", "HMAC secret from this environment variable")
	fs.StringVar(&k.secretFile, "secret-file", "", "HMAC secret from this file (one trailing newline is ignored)")
	fs.StringVar(&k.keyFile, "key-file", "", "PEM key (PKCS#8, PKIX, PKCS#1, SEC1) or one JWK (JSON, kty oct too)")
	if verify {
		fs.StringVar(&k.jwksFile, "jwks-file", "", "JWKS document (verify only)")
	}
	fs.BoolVar(&k.allowWeak, "allow-weak-secret", false, "accept HMAC secrets shorter than the hash (legacy and teaching tokens only)")
}

// errUsage marks errors that exit with status 2.
var errUsage = errors.New("usage")

// load returns the keys named by the flags. alg "" lets the key decide.
func (k *keyFlags) load(alg jwt.Algorithm, env func(string) string) ([]*jwt.Key, error) {
	n := 0
	for _, s := range []string{k.secretEnv, k.secretFile, k.keyFile, k.jwksFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: give exactly one of --secret-env, --secret-file, --key-file, --jwks-file", errUsage)
	}
	if alg != "" && !alg.Valid() {
		return nil, fmt.Errorf("%w: unknown --alg %q", errUsage, alg)
	}
	switch {
	case k.secretEnv != "":
		s := env(k.secretEnv)
		if s == "" {
			return nil, fmt.Errorf("environment variable %s is not set or empty", k.secretEnv)
		}
		key, err := k.hmac(alg, []byte(s))
		return []*jwt.Key{key}, err
	case k.secretFile != "":
		b, err := os.ReadFile(k.secretFile)
		if err != nil {
			return nil, err
		}
		key, err := k.hmac(alg, trimNewline(b))
		return []*jwt.Key{key}, err
	case k.keyFile != "":
		key, err := readKeyFile(k.keyFile, alg, k.allowWeak)
		return []*jwt.Key{key}, err
	}
	b, err := os.ReadFile(k.jwksFile)
	if err != nil {
		return nil, err
	}
	keys, err := jwt.ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.jwksFile, err)
	}
	return keys, nil
}

func (k *keyFlags) hmac(alg jwt.Algorithm, secret []byte) (*jwt.Key, error) {
	if alg == "" {
		alg = jwt.HS256
	}
	if !alg.IsHMAC() {
		return nil, fmt.Errorf("%w: a secret can only be used with HS256, HS384 or HS512, not %s", errUsage, alg)
	}
	if k.allowWeak {
		return jwt.NewInsecureWeakHMACKey(alg, secret)
	}
	key, err := jwt.NewHMACKey(alg, secret)
	if errors.Is(err, jwt.ErrWeakKey) {
		return nil, fmt.Errorf("%w (pass --allow-weak-secret to accept it for legacy tokens)", err)
	}
	return key, err
}

// readKeyFile reads a PEM key or a JWK. alg "" means the key decides.
func readKeyFile(path string, alg jwt.Algorithm, allowWeak bool) (*jwt.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var key *jwt.Key
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
		if allowWeak {
			key, err = jwt.ParseJWKInsecureWeakSecret(b)
		} else {
			key, err = jwt.ParseJWK(b)
		}
		if err == nil && alg != "" && alg != key.Algorithm() {
			err = fmt.Errorf("%w: the JWK is for %s, not %s", errUsage, key.Algorithm(), alg)
		}
	} else {
		key, err = jwt.ParsePEMKey(b, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// readToken takes the token from the argument, or from stdin for "-" or
// no argument.
func readToken(pos []string, stdin io.Reader) (string, error) {
	if len(pos) > 1 {
		return "", fmt.Errorf("%w: more than one token given", errUsage)
	}
	if len(pos) == 1 && pos[0] != "-" {
		return strings.TrimSpace(pos[0]), nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// exitFor maps an error to an exit status: 2 for usage and key problems.
func exitFor(stderr io.Writer, prefix string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
	return 2
}
