package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"
)

// parseInterspersed parses flags anywhere among the positional arguments
// (the flag package alone stops at the first positional one) and returns
// the positional arguments in order. "-" is positional (stdin); after "--"
// everything is positional. A flag that takes a value takes the next
// argument even when it starts with "-", exactly as the flag package does.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return pos, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// command is one leaf command's flag set and help text.
type command struct {
	fs             *flag.FlagSet
	synopsis       string // "jwtgate token decode [--json] [TOKEN|-]"
	about          string // a paragraph printed between synopsis and flags
	stdout, stderr io.Writer
}

func newCommand(name, synopsis, about string, stdout, stderr io.Writer) *command {
	c := &command{fs: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, about: about, stdout: stdout, stderr: stderr}
	c.fs.Usage = func() {
		w := c.fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n", c.synopsis)
		if c.about != "" {
			fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.about))
		}
		fmt.Fprintf(w, "Flags (-flag and --flag are the same):\n")
		c.fs.PrintDefaults()
	}
	return c
}

// parse parses args. When ok is false the command is over and exits with
// code: 0 after -h/--help (usage on stdout), 2 after a bad flag (the
// complaint and usage on stderr).
func (c *command) parse(args []string) (pos []string, code int, ok bool) {
	var out bytes.Buffer
	c.fs.SetOutput(&out)
	pos, err := parseInterspersed(c.fs, args)
	c.fs.SetOutput(c.stderr)
	if err != nil {
		return nil, flagOutput(out.Bytes(), err, c.stdout, c.stderr), false
	}
	return pos, 0, true
}

// flagOutput writes what a flag set printed while parsing and returns the
// exit code: after -h or --help (flag.ErrHelp) the usage is the answer,
// on stdout with 0; after anything else it explains an error, on stderr
// with 2.
func flagOutput(out []byte, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		stdout.Write(out)
		return 0
	}
	stderr.Write(out)
	return 2
}

// set reports whether the flag was given on the command line.
func (c *command) set(name string) bool {
	found := false
	c.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// keyFlags are the ways to name a key. Secrets never come as literal
// arguments: they would show in ps and in shell history.
type keyFlags struct {
	secretEnv, secretFile, keyFile, jwksFile string
	allowWeak                                bool
}

const keyHelp = `KEY is exactly one of --secret-env NAME, --secret-file F, --key-file F`

func (k *keyFlags) register(fs *flag.FlagSet, verify bool) {
	fs.StringVar(&k.secretEnv, "secret-env", "", "HMAC secret from the environment variable `NAME`")
	fs.StringVar(&k.secretFile, "secret-file", "", "HMAC secret from `FILE` (one trailing newline is ignored)")
	fs.StringVar(&k.keyFile, "key-file", "", "PEM key (PKCS#8, PKIX, PKCS#1, SEC1) or one JWK (JSON, kty oct too) from `FILE`")
	if verify {
		fs.StringVar(&k.jwksFile, "jwks-file", "", "JWK Set from `FILE`; every signature key in it is tried by kid")
	}
	fs.BoolVar(&k.allowWeak, "allow-weak-secret", false, "accept HMAC secrets shorter than the hash (legacy and teaching tokens only)")
}

// errUsage marks errors that are the caller's to fix (exit status 2 like
// every other key error, but worth telling apart in messages and tests).
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
		names := "--secret-env, --secret-file, --key-file"
		if k.jwksFile != "" || n == 0 {
			names += ", --jwks-file (verify only)"
		}
		return nil, fmt.Errorf("%w: give exactly one key: %s", errUsage, names)
	}
	if alg != "" && !alg.Valid() {
		return nil, fmt.Errorf("%w: unknown --alg %q (want one of %s)", errUsage, alg, algList())
	}
	switch {
	case k.secretEnv != "":
		s := env(k.secretEnv)
		if s == "" {
			return nil, fmt.Errorf("environment variable %s is not set or empty", k.secretEnv)
		}
		key, err := k.hmac(alg, []byte(s))
		if err != nil {
			return nil, err
		}
		return []*jwt.Key{key}, nil
	case k.secretFile != "":
		b, err := os.ReadFile(k.secretFile)
		if err != nil {
			return nil, err
		}
		key, err := k.hmac(alg, trimNewline(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.secretFile, err)
		}
		return []*jwt.Key{key}, nil
	case k.keyFile != "":
		key, err := readKeyFile(k.keyFile, alg, k.allowWeak)
		if err != nil {
			return nil, err
		}
		return []*jwt.Key{key}, nil
	}
	b, err := os.ReadFile(k.jwksFile)
	if err != nil {
		return nil, err
	}
	// With --alg, the keys of the set that name it, and those that name
	// no alg (RFC 7517 makes it optional) and whose type serves it.
	keys, err := jwt.ParseJWKSFor(b, alg)
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
	return key, weakHint(err)
}

func weakHint(err error) error {
	if errors.Is(err, jwt.ErrWeakKey) {
		return fmt.Errorf("%w (pass --allow-weak-secret to accept it for legacy tokens)", err)
	}
	return err
}

// readKeyFile reads a PEM key or a JWK (a file whose first non-space byte
// is '{'). alg "" means the key decides. A JWK that names its alg serves
// that alone; one without (RFC 7517 makes it optional) serves any alg of
// its type, as the same key in PEM does.
func readKeyFile(path string, alg jwt.Algorithm, allowWeak bool) (*jwt.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var key *jwt.Key
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		if allowWeak {
			key, err = jwt.ParseJWKInsecureWeakSecretFor(b, alg)
		} else {
			key, err = jwt.ParseJWKFor(b, alg)
			err = weakHint(err)
		}
	} else {
		key, err = jwt.ParsePEMKey(b, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// trimNewline strips one trailing "\n" or "\r\n", as a file written by an
// editor or `echo` ends with one that is not part of the secret.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// maxStdinToken bounds what is read from stdin; jwt.DefaultMaxSize refuses
// long tokens anyway.
const maxStdinToken = 1 << 20

// readToken takes the token from the argument, or from stdin for "-" or
// no argument, without surrounding whitespace.
func readToken(pos []string, stdin io.Reader) (string, error) {
	if len(pos) > 1 {
		return "", fmt.Errorf("%w: want one token, got %d arguments", errUsage, len(pos))
	}
	if len(pos) == 1 && pos[0] != "-" {
		return strings.TrimSpace(pos[0]), nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, maxStdinToken))
	if err != nil {
		return "", fmt.Errorf("reading the token from stdin: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// exitFor reports a usage or key error: one line on stderr, exit status 2.
func exitFor(stderr io.Writer, prefix string, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
	return 2
}

// oneLine keeps a message to one line, whatever a wrapped error contains.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func algList() string {
	var names []string
	for _, a := range jwt.Algorithms() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}
