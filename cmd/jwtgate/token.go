package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func cmdToken(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "decode":
		return tokenDecode(args[1:], stdin, stdout, stderr)
	case "sign":
		return tokenSign(args[1:], stdout, stderr, env)
	case "verify":
		return tokenVerify(args[1:], stdin, stdout, stderr, env)
	}
	fmt.Fprintf(stderr, "jwtgate token: unknown command %q (decode, sign, verify)\n", args[0])
	return 2
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func tokenDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("jwtgate token decode", "jwtgate token decode [--json] [TOKEN|-]", stderr)
	asJSON := fs.Bool("json", false, `print {"header":…,"payload":…} as JSON`)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	tok, err := readToken(pos, stdin)
	if err != nil {
		return exitFor(stderr, "jwtgate token decode", err)
	}
	u, err := jwt.DecodeUnverified(tok)
	if err != nil {
		fmt.Fprintln(stderr, "jwtgate token decode:", err)
		return 1
	}
	if *asJSON {
		out, _ := json.Marshal(struct {
			Header  json.RawMessage `json:"header"`
			Payload json.RawMessage `json:"payload"`
		}{u.Header, u.Payload})
		fmt.Fprintf(stdout, "%s\n", out)
		return 0
	}
	fmt.Fprintln(stdout, "WARNING: signature NOT verified: anyone can make a token that decodes to this.")
	fmt.Fprintln(stdout, "Header:")
	writeIndented(stdout, u.Header)
	fmt.Fprintln(stdout, "Payload:")
	writeIndented(stdout, u.Payload)
	var times map[string]json.RawMessage
	json.Unmarshal(u.Payload, &times)
	now := time.Now()
	for _, name := range []string{"iat", "nbf", "exp"} {
		raw, ok := times[name]
		if !ok {
			continue
		}
		var d jwt.NumericDate
		if err := json.Unmarshal(raw, &d); err != nil {
			continue
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", name, d.UTC().Format(time.RFC3339), relative(name, d.Time, now))
	}
	fmt.Fprintf(stdout, "Signature: %d bytes, alg %q (not verified)\n", len(u.Signature), u.Algorithm)
	return 0
}

func writeIndented(w io.Writer, raw []byte) {
	var b bytes.Buffer
	if json.Indent(&b, raw, "  ", "  ") != nil {
		b.Reset()
		b.Write(raw)
	}
	fmt.Fprintf(w, "  %s\n", b.Bytes())
}

func relative(name string, t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case name == "exp" && d <= 0:
		return "expired " + (-d).String() + " ago"
	case d > 0:
		return "in " + d.String()
	}
	return (-d).String() + " ago"
}

// claimList collects repeated --claim k=v flags.
type claimList []string

func (c *claimList) String() string     { return strings.Join(*c, ",") }
func (c *claimList) Set(v string) error { *c = append(*c, v); return nil }

func tokenSign(args []string, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate token sign"
	fs := newFlagSet(prefix, "jwtgate token sign --alg ALG KEY [--claims JSON] [--claim k=v]... [--exp 15m|--no-exp] [--no-iat] [--kid ID]", stderr)
	var kf keyFlags
	kf.register(fs, false)
	alg := fs.String("alg", "", "algorithm (default: the key decides)")
	claimsJSON := fs.String("claims", "", "claims as one JSON object, kept as given")
	var claims claimList
	fs.Var(&claims, "claim", "claim k=v (repeatable); v is JSON when it parses as JSON, else a string")
	exp := fs.Duration("exp", 15*time.Minute, "lifetime: exp = now + this")
	noExp := fs.Bool("no-exp", false, "add no exp claim")
	noIat := fs.Bool("no-iat", false, "add no iat claim")
	kid := fs.String("kid", "", "key id for the header")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if len(pos) > 0 {
		return exitFor(stderr, prefix, fmt.Errorf("unexpected argument %q (secrets are never arguments; use --secret-env or --secret-file)", pos[0]))
	}
	keys, err := kf.load(jwt.Algorithm(*alg), env)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	key := keys[0]
	if !key.CanSign() {
		return exitFor(stderr, prefix, errors.New("this is a public key: signing needs the private key"))
	}
	if *kid == "" && key.KeyID() == "" && !key.IsSymmetric() {
		// Match `jwtgate key jwks`, which names keys by thumbprint.
		if *kid, err = key.Thumbprint(); err != nil {
			return exitFor(stderr, prefix, err)
		}
	}
	if *kid != "" {
		key = key.WithKeyID(*kid)
	}
	payload, err := buildClaims(*claimsJSON, claims, *noIat, *noExp, *exp, time.Now())
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	tok, err := jwt.Sign(key, json.RawMessage(payload))
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

var stringClaims = map[string]bool{"iss": true, "sub": true, "jti": true}

type member struct {
	name  string
	value json.RawMessage
}

// buildClaims merges --claims (member order kept) with --claim overrides
// and the iat/exp the flags ask for, without ever writing a name twice.
func buildClaims(base string, set []string, noIat, noExp bool, exp time.Duration, now time.Time) ([]byte, error) {
	var members []member
	if strings.TrimSpace(base) != "" {
		var err error
		if members, err = objectMembers([]byte(base)); err != nil {
			return nil, fmt.Errorf("--claims: %w", err)
		}
	}
	put := func(name string, v json.RawMessage) {
		for i := range members {
			if members[i].name == name {
				members[i].value = v
				return
			}
		}
		members = append(members, member{name, v})
	}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--claim %q: want name=value", kv)
		}
		raw := json.RawMessage(v)
		// iss, sub and jti must be strings (RFC 7519), so sub=123 means
		// the string "123", not a number no verifier would accept.
		if !json.Valid(raw) || (stringClaims[k] && v[0] != '"') {
			raw, _ = json.Marshal(v)
		}
		put(k, raw)
	}
	if !noIat {
		put("iat", json.RawMessage(strconv.FormatInt(now.Unix(), 10)))
	}
	if !noExp {
		if exp <= 0 {
			return nil, errors.New("--exp must be positive (or use --no-exp)")
		}
		put("exp", json.RawMessage(strconv.FormatInt(now.Add(exp).Unix(), 10)))
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		if err := json.Compact(&b, m.value); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// objectMembers splits a JSON object into its members, in order.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name := t.(string)
		if seen[name] {
			return nil, fmt.Errorf("member %q appears twice", name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

func tokenVerify(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate token verify"
	fs := newFlagSet(prefix, "jwtgate token verify KEY [--alg ALG] [--iss I] [--aud A] [--leeway D] [--require-exp=false] [--now TIME] [TOKEN|-]", stderr)
	var kf keyFlags
	kf.register(fs, true)
	alg := fs.String("alg", "", "expected algorithm (default: the key decides)")
	iss := fs.String("iss", "", "required issuer")
	aud := fs.String("aud", "", "required audience")
	leeway := fs.Duration("leeway", 0, "clock skew allowed for exp, nbf, iat")
	requireExp := fs.Bool("require-exp", true, "refuse tokens without exp")
	nowFlag := fs.String("now", "", "check times as of this moment (RFC 3339 or Unix seconds)")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	keys, err := kf.load(jwt.Algorithm(*alg), env)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	if *alg != "" {
		for _, k := range keys {
			if k.Algorithm() != jwt.Algorithm(*alg) {
				return exitFor(stderr, prefix, fmt.Errorf("key %q is for %s, not %s", k.KeyID(), k.Algorithm(), *alg))
			}
		}
	}
	opts := []jwt.Option{jwt.WithLeeway(*leeway)}
	if *iss != "" {
		opts = append(opts, jwt.WithIssuer(*iss))
	}
	if *aud != "" {
		opts = append(opts, jwt.WithAudience(*aud))
	}
	if !*requireExp {
		opts = append(opts, jwt.AllowMissingExp())
	}
	if *nowFlag != "" {
		t, err := parseNow(*nowFlag)
		if err != nil {
			return exitFor(stderr, prefix, err)
		}
		opts = append(opts, jwt.WithClock(func() time.Time { return t }))
	}
	v, err := jwt.NewVerifier(keys, opts...)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	tok, err := readToken(pos, stdin)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	var claims json.RawMessage
	if err := v.Verify(tok, &claims); err != nil {
		fmt.Fprintln(stderr, "invalid token:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", claims)
	return 0
}

func parseNow(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --now wants RFC 3339 (2030-01-02T15:04:05Z) or Unix seconds", errUsage)
	}
	return t, nil
}
