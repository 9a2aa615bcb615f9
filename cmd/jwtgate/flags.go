package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/sqlite"
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

// command is one leaf command: its flags, each over its JWTGATE_*
// environment variable (if it has one) over its default, and its help.
// Flags without a variable are registered on fs directly.
type command struct {
	fs       *flag.FlagSet
	synopsis string // "jwtgate token decode [--json] [TOKEN|-]"
	about    string // a paragraph printed between synopsis and flags
	env      func(string) string
	envOf    map[string]string // flag name → its environment variable
	fileEnv  map[string]bool   // flags whose variable has a _FILE form (secret)
	envErrs  []error           // bad variables, reported after the flags parse
}

func newCommand(name, synopsis, about string, env func(string) string) *command {
	c := &command{fs: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, about: about, env: env, envOf: map[string]string{}, fileEnv: map[string]bool{}}
	c.fs.Usage = func() {
		w := c.fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n", c.synopsis)
		if c.about != "" {
			fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.about))
		}
		fmt.Fprintln(w, flagsHeading)
		c.fs.PrintDefaults()
	}
	return c
}

// flagsHeading precedes the flags in a command's -h; completion reads the
// flags after it.
const flagsHeading = "Flags (-flag and --flag are the same):"

// fromEnv is the value of the environment variable name read by parse,
// or def when it is unset or empty. A value that does not parse gives def
// and an error naming the variable.
func fromEnv[T any](env func(string) string, name string, def T, parse func(string) (T, error)) (T, error) {
	s := env(name)
	if s == "" {
		return def, nil
	}
	v, err := parse(s)
	if err != nil {
		return def, fmt.Errorf("$%s: %w", name, err)
	}
	return v, nil
}

// withEnv is the default of flag name: its variable's value, else def.
// The help text names the variable.
func withEnv[T any](c *command, name, envName string, def T, parse func(string) (T, error), usage string) (T, string) {
	c.envOf[name] = envName
	v, err := fromEnv(c.env, envName, def, parse)
	if err != nil {
		c.envErrs = append(c.envErrs, err)
	}
	return v, usage + " ($" + envName + ")"
}

// builtinDefault makes -h show the built-in default rather than the
// variable's value, which may be a secret (a database URL's password).
func (c *command) builtinDefault(name string, def any) {
	c.fs.Lookup(name).DefValue = fmt.Sprint(def)
}

func (c *command) str(p *string, name, envName, def, usage string) {
	v, usage := withEnv(c, name, envName, def, func(s string) (string, error) { return s, nil }, usage)
	c.fs.StringVar(p, name, v, usage)
	c.builtinDefault(name, def)
}

// secret is str for a setting that may hold a secret (a database URL with
// its password): its value may also come from the file named by
// $envName_FILE, read here once, so that the secret need not sit in the
// environment, where child processes and /proc/PID/environ show it. The
// flag wins over either variable; setting both variables is an error, as
// is a file that others may read or write (the private-file check of the
// data folder) or that cannot be read.
func (c *command) secret(p *string, name, envName, def, usage string) {
	fileEnv := envName + "_FILE"
	c.fileEnv[name] = true
	v, err := secretFromEnv(c.env, envName, fileEnv, def)
	if err != nil {
		c.envErrs = append(c.envErrs, err)
	}
	c.envOf[name] = envName
	c.fs.StringVar(p, name, v, usage+" ($"+envName+" or $"+fileEnv+")")
	c.builtinDefault(name, def)
}

// secretFromEnv is $envName, else the content of the file $fileEnv names
// without one trailing newline, else def.
func secretFromEnv(env func(string) string, envName, fileEnv, def string) (string, error) {
	direct, path := env(envName), env(fileEnv)
	switch {
	case direct != "" && path != "":
		return def, fmt.Errorf("$%s and $%s are both set: keep one", envName, fileEnv)
	case direct != "":
		return direct, nil
	case path == "":
		return def, nil
	}
	if _, err := sqlite.CheckPrivate(path); err != nil {
		return def, fmt.Errorf("$%s: %w", fileEnv, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return def, fmt.Errorf("$%s: %w", fileEnv, err)
	}
	v := string(trimNewline(b))
	if v == "" {
		return def, fmt.Errorf("$%s: %s is empty", fileEnv, path)
	}
	return v, nil
}

func (c *command) dur(p *time.Duration, name, envName string, def time.Duration, usage string) {
	v, usage := withEnv(c, name, envName, def, time.ParseDuration, usage)
	c.fs.DurationVar(p, name, v, usage)
	c.builtinDefault(name, def)
}

func (c *command) int(p *int, name, envName string, def int, usage string) {
	v, usage := withEnv(c, name, envName, def, envInt, usage)
	c.fs.IntVar(p, name, v, usage)
	c.builtinDefault(name, def)
}

func (c *command) bool(p *bool, name, envName string, def bool, usage string) {
	v, usage := withEnv(c, name, envName, def, envBool, usage)
	c.fs.BoolVar(p, name, v, usage)
	c.builtinDefault(name, def)
}

func envInt(s string) (int, error) {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		return 0, errors.New("not a number")
	}
	return n, nil
}

func envBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true, nil
	case "0", "false", "no":
		return false, nil
	}
	return false, errors.New("want true or false")
}

// parseArgs parses flags anywhere among args and returns the positional
// arguments. Its errors: flag.ErrHelp after -h or --help, the flag
// package's (which has written them and the usage to fs.Output()), then
// the environment variables that did not parse, even when their flag was
// given.
func (c *command) parseArgs(args []string) ([]string, error) {
	pos, err := parseInterspersed(c.fs, args)
	if err != nil {
		return nil, err
	}
	if len(c.envErrs) > 0 {
		return nil, errors.Join(c.envErrs...)
	}
	return pos, nil
}

// parse parses args. When ok is false the command is over and exits with
// code (see usageExit).
func (c *command) parse(args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	var out bytes.Buffer
	c.fs.SetOutput(&out)
	pos, err := c.parseArgs(args)
	if err != nil {
		return nil, usageExit(c.fs.Name(), out.Bytes(), err, stdout, stderr), false
	}
	return pos, 0, true
}

// usageExit ends a command whose arguments were not accepted and returns
// its exit code. After -h or --help (flag.ErrHelp) the usage out is the
// answer: on stdout, 0. Otherwise out (the flag package's complaint and
// the usage), or else one line naming the command and err, goes to
// stderr: 2.
func usageExit(name string, out []byte, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		stdout.Write(out)
		return 0
	}
	if len(out) > 0 {
		stderr.Write(out)
	} else {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	}
	return 2
}

// set reports whether the flag was given, on the command line or by its
// environment variable: whether its value is the user's choice.
func (c *command) set(name string) bool {
	e := c.envOf[name]
	found := e != "" && (c.env(e) != "" || c.fileEnv[name] && c.env(e+"_FILE") != "")
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
