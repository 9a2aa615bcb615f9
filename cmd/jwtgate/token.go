package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

const tokenUsage = `Usage:
  jwtgate token decode [--json] [TOKEN|-]          show a token WITHOUT verifying it
  jwtgate token sign --alg ALG KEY [flags]          make a token
  jwtgate token verify KEY [flags] [TOKEN|-]        check a token, print its claims

KEY is exactly one of --secret-env NAME, --secret-file F, --key-file F, or,
to verify, --jwks-file F. Run a command with -h for its flags.
`

// ---- decode ----

func tokenDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const prefix = "jwtgate token decode"
	c := newCommand(prefix, "jwtgate token decode [--json] [TOKEN|-]", `
Prints a token's header and payload WITHOUT checking its signature or its
times: anyone can make a token that decodes to anything, so never trust
what this shows. The token comes from the argument, or from stdin when the
argument is "-" or absent. Exit status: 0 decoded, 1 malformed token,
2 usage error.`, nil)
	asJSON := c.fs.Bool("json", false, `print one JSON object {"header":{…},"payload":{…}}`)
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	tok, err := readToken(pos, stdin)
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	u, err := jwt.DecodeUnverified(tok)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	if *asJSON {
		// An Encoder without HTML escaping prints the JSON as it was sent
		// (compacted), where json.Marshal would rewrite <, > and &.
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		err := enc.Encode(struct {
			Header  json.RawMessage `json:"header"`
			Payload json.RawMessage `json:"payload"`
		}{u.Header, u.Payload})
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(stdout, "Signature NOT verified: anyone can make a token that decodes to this.")
	fmt.Fprintln(stdout, "Header:")
	writeIndented(stdout, u.Header)
	fmt.Fprintln(stdout, "Payload:")
	writeIndented(stdout, u.Payload)
	var members map[string]json.RawMessage
	_ = json.Unmarshal(u.Payload, &members) // validated by DecodeUnverified
	now := time.Now()
	for _, name := range []string{"iat", "nbf", "exp"} {
		raw, ok := members[name]
		if !ok {
			continue
		}
		var d jwt.NumericDate
		if err := json.Unmarshal(raw, &d); err != nil {
			continue
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", name, d.UTC().Format(time.RFC3339), relative(name, d.Time, now))
	}
	fmt.Fprintf(stdout, "Signature: %d bytes, alg %q, NOT verified\n", len(u.Signature), u.Algorithm)
	return 0
}

func writeIndented(w io.Writer, raw []byte) {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		b.Reset()
		b.Write(raw)
	}
	fmt.Fprintf(w, "%s\n", b.Bytes())
}

// relative says how far t is from now: "in 14m", "3m ago", and for exp in
// the past "expired 3m ago".
func relative(name string, t, now time.Time) string {
	d := t.Sub(now).Truncate(time.Second)
	switch {
	case d > 0:
		return "in " + human(d)
	case name == "exp":
		return "expired " + human(-d) + " ago"
	case d == 0:
		return "now"
	}
	return human(-d) + " ago"
}

// human formats a non-negative duration with at most its two largest
// units: "45s", "3m", "14m59s", "2h5m", "3d4h".
func human(d time.Duration) string {
	vals := []time.Duration{d / (24 * time.Hour), d % (24 * time.Hour) / time.Hour, d % time.Hour / time.Minute, d % time.Minute / time.Second}
	const names = "dhms"
	for i, v := range vals {
		if v == 0 {
			continue
		}
		s := strconv.FormatInt(int64(v), 10) + names[i:i+1]
		if i+1 < len(vals) && vals[i+1] > 0 {
			s += strconv.FormatInt(int64(vals[i+1]), 10) + names[i+1:i+2]
		}
		return s
	}
	return "0s"
}

// ---- sign ----

// claimList collects repeated --claim k=v flags.
type claimList []string

func (c *claimList) String() string     { return strings.Join(*c, " ") }
func (c *claimList) Set(v string) error { *c = append(*c, v); return nil }

func tokenSign(args []string, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate token sign"
	c := newCommand(prefix, "jwtgate token sign --alg ALG KEY [--claims JSON] [--claim k=v]... [--exp 15m|--no-exp] [--no-iat] [--kid ID]", keyHelp+`.
Secrets are never arguments: they would show in ps and in shell history.

--claims is one JSON object, kept as given (compacted, member order kept).
Each --claim k=v adds a member, or replaces the one of that name: v is JSON
when it parses as JSON (n=5 a number, admin=true a boolean, o={"a":1} an
object), else a string; iss, sub and jti are always strings and aud a
string unless v is a JSON array (RFC 7519). iat (now) and then exp (now +
--exp) are added unless --no-iat/--no-exp; an exp or iat from --claims or
--claim is kept unless --exp is given explicitly, which replaces it.
Asymmetric keys without a kid sign with their RFC 7638 thumbprint as kid,
the name "jwtgate key jwks" gives them. Prints the token and a newline.
Exit status: 0 signed, 2 usage or key error.`, env)
	var kf keyFlags
	kf.register(c.fs, false)
	alg := c.fs.String("alg", "", "signing algorithm `ALG`: "+algList()+" (default: the key decides)")
	claimsJSON := c.fs.String("claims", "", "claims as one JSON `object`, kept as given")
	var claims claimList
	c.fs.Var(&claims, "claim", "claim `k=v` (repeatable); v is JSON when it parses as JSON, else a string")
	exp := c.fs.Duration("exp", auth.DefaultAccessTTL, "lifetime: exp = now + this (the server's access-token lifetime)")
	noExp := c.fs.Bool("no-exp", false, "add no exp claim (a token that never expires)")
	noIat := c.fs.Bool("no-iat", false, "add no iat claim")
	kid := c.fs.String("kid", "", "key id `ID` for the header (default: the JWK's kid, or the thumbprint of an asymmetric key)")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unexpected argument %q (a secret is never an argument: use --secret-env or --secret-file)", errUsage, pos[0]))
	}
	if *noExp && c.set("exp") {
		return exitFor(stderr, prefix, fmt.Errorf("%w: --exp and --no-exp contradict each other", errUsage))
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
		// Match `jwtgate key jwks`, which names keys by thumbprint. Not for
		// secrets: their thumbprint is a hash of the secret.
		if *kid, err = key.Thumbprint(); err != nil {
			return exitFor(stderr, prefix, err)
		}
	}
	if *kid != "" {
		key = key.WithKeyID(*kid)
	}
	opts := claimOptions{iat: !*noIat, exp: !*noExp, lifetime: *exp, forceExp: c.set("exp"), now: time.Now()}
	payload, err := buildClaims(*claimsJSON, claims, opts)
	if err != nil {
		return exitFor(stderr, prefix, fmt.Errorf("%w: %w", errUsage, err))
	}
	tok, err := jwt.Sign(key, rawClaims(payload))
	if err != nil {
		return exitFor(stderr, prefix, err)
	}
	// Refuse to hand out a token that every verifier would reject, such as
	// one with "exp":"soon" or both "role" and "Role".
	if _, err := jwt.DecodeUnverified(tok); err != nil {
		return exitFor(stderr, prefix, fmt.Errorf("%w: the claims would make an invalid token: %w", errUsage, err))
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// rawClaims is a payload signed byte for byte. (A json.RawMessage would go
// through json.Marshal, which rewrites <, > and & in strings as \u003c…)
type rawClaims []byte

func (r rawClaims) AppendJSON(dst []byte) []byte { return append(dst, r...) }

type claimOptions struct {
	iat, exp bool          // add iat / exp
	lifetime time.Duration // exp = now + lifetime
	forceExp bool          // --exp was given: replace an exp from the claims
	now      time.Time
}

// member is one member of a JSON object: rawName is the name as written
// (with its quotes and escapes), name its decoded value.
type member struct {
	name    string
	rawName []byte
	value   []byte
}

// buildClaims merges --claims (member order and spelling kept) with the
// --claim overrides and the iat/exp the flags ask for, never writing a name
// twice, and returns the compact JSON object.
func buildClaims(base string, set []string, o claimOptions) ([]byte, error) {
	var members []member
	if strings.TrimSpace(base) != "" {
		var err error
		if members, err = objectMembers([]byte(base)); err != nil {
			return nil, fmt.Errorf("--claims: %w", err)
		}
	}
	find := func(name string) int {
		for i := range members {
			if members[i].name == name {
				return i
			}
		}
		return -1
	}
	put := func(name string, v []byte) {
		if i := find(name); i >= 0 {
			members[i].value = v
			return
		}
		members = append(members, member{name: name, rawName: jsonString(name), value: v})
	}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--claim %q: want name=value", kv)
		}
		put(k, claimValue(k, v))
	}
	if o.iat && find("iat") < 0 {
		put("iat", strconv.AppendInt(nil, o.now.Unix(), 10))
	}
	if o.exp && (o.forceExp || find("exp") < 0) {
		if o.lifetime <= 0 {
			return nil, errors.New("--exp must be positive (or use --no-exp)")
		}
		put("exp", strconv.AppendInt(nil, o.now.Add(o.lifetime).Unix(), 10))
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.rawName)
		b.WriteByte(':')
		if err := json.Compact(&b, m.value); err != nil {
			return nil, fmt.Errorf("claim %q: %w", m.name, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// claimValue is v as JSON when it parses as JSON, else as a string. iss,
// sub and jti must be strings and aud a string or an array of strings
// (RFC 7519), so sub=123 means "123", not a number no verifier accepts.
func claimValue(name, v string) []byte {
	t := strings.TrimSpace(v)
	switch {
	case !json.Valid([]byte(v)):
	case name == "iss" || name == "sub" || name == "jti":
		if t[0] == '"' {
			return []byte(v)
		}
	case name == "aud":
		if t[0] == '"' || t[0] == '[' {
			return []byte(v)
		}
	default:
		return []byte(v)
	}
	return jsonString(v)
}

// jsonString encodes s without encoding/json's HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// objectMembers splits a JSON object into its members, in order, keeping
// each name as written. A name given twice is refused.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		start := dec.InputOffset()
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := t.(string)
		if !ok {
			return nil, errors.New("not a JSON object")
		}
		if seen[name] {
			return nil, fmt.Errorf("member %q appears twice", name)
		}
		seen[name] = true
		rawName := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n,")
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{name: name, rawName: rawName, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// ---- verify ----

func tokenVerify(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate token verify"
	c := newCommand(prefix, "jwtgate token verify KEY [--alg ALG] [--iss I] [--aud A] [--leeway D] [--require-exp=false] [--allow-weak-secret] [--now TIME] [TOKEN|-]", keyHelp+`, or
--jwks-file F. Without --alg the key decides: a secret means HS256, RSA
RS256, P-256/384/521 ES256/384/512, Ed25519 EdDSA, a JWK its own alg. A
JWK that names an alg serves only that one; one without, any of its type.
The token comes from the argument, or from stdin when it is "-" or absent.
Exit status: 0 valid (the claims as JSON on stdout), 1 invalid (one line on
stderr saying why), 2 usage or key error.`, env)
	var kf keyFlags
	kf.register(c.fs, true)
	alg := c.fs.String("alg", "", "expected algorithm `ALG` (default: the key decides)")
	iss := c.fs.String("iss", "", "required issuer")
	aud := c.fs.String("aud", "", "required audience")
	leeway := c.fs.Duration("leeway", 0, "clock skew allowed for exp, nbf and iat")
	requireExp := c.fs.Bool("require-exp", true, "refuse tokens without exp")
	nowFlag := c.fs.String("now", "", "check times as of `TIME` (RFC 3339 or Unix seconds) instead of now")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if *leeway < 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: --leeway must not be negative", errUsage))
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
	keys, err := kf.load(jwt.Algorithm(*alg), env)
	if err != nil {
		return exitFor(stderr, prefix, err)
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
		msg := oneLine(err.Error())
		if errors.Is(err, jwt.ErrMissingExp) {
			msg += " (pass --require-exp=false to accept a token that never expires)"
		}
		fmt.Fprintf(stderr, "invalid token: %s\n", msg)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", claims)
	return 0
}

// parseNow reads --now: Unix seconds or RFC 3339.
func parseNow(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --now %q: want RFC 3339 (2030-01-02T15:04:05Z) or Unix seconds", errUsage, s)
	}
	return t, nil
}
