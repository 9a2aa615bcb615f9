package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestTeachingTokenByteForByte(t *testing.T) {
	env := map[string]string{"S": "my_super_secret_key"}
	got := jwtgate(t, env, "", "token", "sign", "--alg", "HS256", "--secret-env", "S", "--allow-weak-secret",
		"--no-exp", "--no-iat", "--claims", `{"user_id":123,"role":"admin"}`)
	if got.code != 0 || got.stdout != teachingToken+"\n" || got.stderr != "" {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %q", got.code, got.stdout, teachingToken+"\n", got.stderr)
	}

	// The same secret from a file (one CRLF stripped) and as an oct JWK.
	dir := t.TempDir()
	sf := filepath.Join(dir, "secret")
	os.WriteFile(sf, []byte("my_super_secret_key\r\n"), 0o600)
	jf := filepath.Join(dir, "secret.jwk")
	os.WriteFile(jf, []byte(`  {"kty":"oct","k":"bXlfc3VwZXJfc2VjcmV0X2tleQ"}`), 0o600)
	for _, key := range [][]string{{"--secret-file", sf}, {"--key-file", jf}} {
		args := append([]string{"token", "sign"}, key...)
		args = append(args, "--allow-weak-secret", "--no-exp", "--no-iat", "--claims", `{ "user_id" : 123, "role" : "admin" }`)
		if got := mustOK(t, jwtgate(t, nil, "", args...)); got != teachingToken {
			t.Errorf("%v: got %s", key, got)
		}
		// Without the opt-in the short secret is a key error, exit 2.
		mustFail(t, jwtgate(t, nil, "", append([]string{"token", "verify", "--require-exp=false", teachingToken}, key...)...), 2, "--allow-weak-secret")
	}

	claims := jwtgate(t, env, "", "token", "verify", "--secret-env", "S", "--allow-weak-secret", "--require-exp=false", teachingToken)
	if claims.code != 0 || claims.stdout != `{"user_id":123,"role":"admin"}`+"\n" {
		t.Fatalf("verify: exit %d, stdout %q, stderr %q", claims.code, claims.stdout, claims.stderr)
	}
	mustFail(t, jwtgate(t, env, "", "token", "verify", "--secret-env", "S", "--require-exp=false", teachingToken), 2, "--allow-weak-secret")
	// The token never expires: the refusal names the flag that accepts it.
	mustFail(t, jwtgate(t, env, "", "token", "verify", "--secret-env", "S", "--allow-weak-secret", teachingToken), 1,
		"invalid token: jwt: token has no expiry (pass --require-exp=false to accept a token that never expires)")
	mustFail(t, jwtgate(t, env, "", "token", "sign", "--secret-env", "S", "--no-exp"), 2, "--allow-weak-secret")
}

// A secret file loses exactly one trailing newline: "x\n\n" is the secret "x\n".
func TestSecretFileStripsOneNewline(t *testing.T) {
	secret := strings.Repeat("k", 32)
	f := filepath.Join(t.TempDir(), "s")
	os.WriteFile(f, []byte(secret+"\n\n"), 0o600)
	fromFile := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--secret-file", f, "--no-exp", "--no-iat"))
	fromEnv := mustOK(t, jwtgate(t, map[string]string{"K": secret + "\n"}, "", "token", "sign", "--secret-env", "K", "--no-exp", "--no-iat"))
	other := mustOK(t, jwtgate(t, map[string]string{"K": secret}, "", "token", "sign", "--secret-env", "K", "--no-exp", "--no-iat"))
	if fromFile != fromEnv || fromFile == other {
		t.Fatalf("file %s\nenv  %s\nbare %s", fromFile, fromEnv, other)
	}
}

// Fixed times, so that verification as of --now is exact.
const (
	fixedClaims = `{"sub":"svc","iss":"me","aud":["api","web"],"iat":1700000000,"exp":1700000600}`
	fixedIat    = 1700000000 // 2023-11-14T22:13:20Z
)

func TestVerifyExitCodes(t *testing.T) {
	tok := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claims", fixedClaims))
	if _, vals := members(t, decodePayload(t, tok)); string(vals["iat"]) != "1700000000" || string(vals["exp"]) != "1700000600" {
		t.Fatalf("sign replaced the given iat/exp: %s", decodePayload(t, tok))
	}
	parts := strings.Split(tok, ".")
	forged := strings.Replace(fixedClaims, `"sub":"svc"`, `"sub":"adm"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	live := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claim", "sub=1", "--exp", "1h"))
	shortLived := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claim", "sub=1", "--exp", "1s"))
	noExp := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claim", "sub=1", "--no-exp", "--no-iat"))
	in10s := strconv.FormatInt(time.Now().Add(10*time.Second).Unix(), 10)
	keyDir := t.TempDir()
	os.WriteFile(filepath.Join(keyDir, "garbage.pem"), []byte("not a key"), 0o600)
	wrong := map[string]string{"S": strings.Repeat("x", 32)}

	const at = "--now"
	cases := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		code  int
		out   string // exact stdout for code 0; a part of the stderr line otherwise
	}{
		{"valid unix now", strong, "", []string{"--secret-env", "S", at, "1700000300", tok}, 0, fixedClaims},
		{"valid rfc3339 now", strong, "", []string{at, "2023-11-14T22:18:20Z", "--secret-env", "S", tok}, 0, fixedClaims},
		{"valid rfc3339 with offset", strong, "", []string{"--secret-env", "S", at, "2023-11-14T23:23:19+01:00", tok}, 0, fixedClaims},
		{"valid from stdin", strong, "  " + tok + "\n", []string{"--secret-env", "S", at, "1700000300"}, 0, fixedClaims},
		{"valid from stdin dash", strong, tok + "\n", []string{"--secret-env", "S", "-", at, "1700000300"}, 0, fixedClaims},
		{"valid iss aud", strong, "", []string{"--secret-env", "S", at, "1700000300", "--iss", "me", "--aud", "web", tok}, 0, fixedClaims},
		{"valid with explicit alg", strong, "", []string{"--secret-env", "S", "--alg", "HS256", at, "1700000300", tok}, 0, fixedClaims},
		{"last valid second", strong, "", []string{"--secret-env", "S", at, "1700000599", tok}, 0, fixedClaims},
		{"expired unix", strong, "", []string{"--secret-env", "S", at, "1700000600", tok}, 1, "invalid token: jwt: token expired at 2023-11-14T22:23:20Z"},
		{"expired rfc3339", strong, "", []string{"--secret-env", "S", at, "2030-01-01T00:00:00Z", tok}, 1, "token expired"},
		{"leeway", strong, "", []string{"--secret-env", "S", at, "1700000630", "--leeway", "31s", tok}, 0, fixedClaims},
		{"leeway too small", strong, "", []string{"--secret-env", "S", at, "1700000630", "--leeway", "30s", tok}, 1, "token expired"},
		{"issued in the future", strong, "", []string{"--secret-env", "S", at, "2023-11-14T22:13:19Z", tok}, 1, "issued in the future"},
		{"live without now", strong, "", []string{"--secret-env", "S", live}, 0, ""},
		{"exp 1s, checked 10s later", strong, "", []string{"--secret-env", "S", at, in10s, shortLived}, 1, "token expired"},
		{"no exp refused", strong, "", []string{"--secret-env", "S", noExp}, 1, "token has no expiry (pass --require-exp=false"},
		{"no exp allowed", strong, "", []string{"--secret-env", "S", "--require-exp=false", noExp}, 0, `{"sub":"1"}`},
		{"tampered payload", strong, "", []string{"--secret-env", "S", at, "1700000300", tampered}, 1, "invalid token: jwt: signature invalid"},
		{"wrong key", wrong, "", []string{"--secret-env", "S", at, "1700000300", tok}, 1, "invalid token: jwt: signature invalid"},
		{"wrong issuer", strong, "", []string{"--secret-env", "S", at, "1700000300", "--iss", "you", tok}, 1, "issuer not accepted"},
		{"wrong audience", strong, "", []string{"--secret-env", "S", at, "1700000300", "--aud", "app", tok}, 1, "audience not accepted"},
		{"malformed", strong, "", []string{"--secret-env", "S", "not.a-token"}, 1, "invalid token: jwt: malformed token"},
		{"empty stdin", strong, "\n", []string{"--secret-env", "S"}, 1, "malformed token"},
		{"alg mismatch", strong, "", []string{"--secret-env", "S", "--alg", "HS384", "--allow-weak-secret", tok}, 1, "algorithm does not match key"},
		{"missing key flag", strong, "", []string{tok}, 2, "give exactly one key"},
		{"two key flags", strong, "", []string{"--secret-env", "S", "--secret-file", "x", tok}, 2, "give exactly one key"},
		{"unset env", strong, "", []string{"--secret-env", "NOPE", tok}, 2, "NOPE is not set or empty"},
		{"weak secret", strong, "", []string{"--secret-env", "WEAK", tok}, 2, "pass --allow-weak-secret"},
		{"unknown alg", strong, "", []string{"--secret-env", "S", "--alg", "none", tok}, 2, `unknown --alg "none"`},
		{"secret with RSA alg", strong, "", []string{"--secret-env", "S", "--alg", "RS256", tok}, 2, "a secret can only be used with HS256"},
		{"unreadable secret file", strong, "", []string{"--secret-file", filepath.Join(keyDir, "missing"), tok}, 2, "no such file"},
		{"unreadable key file", strong, "", []string{"--key-file", filepath.Join(keyDir, "missing"), tok}, 2, "no such file"},
		{"garbage key file", strong, "", []string{"--key-file", filepath.Join(keyDir, "garbage.pem"), tok}, 2, "garbage.pem"},
		{"bad --now", strong, "", []string{"--secret-env", "S", at, "tomorrow", tok}, 2, `--now "tomorrow"`},
		{"negative leeway", strong, "", []string{"--secret-env", "S", "--leeway", "-1s", tok}, 2, "--leeway"},
		{"two tokens", strong, "", []string{"--secret-env", "S", tok, tok}, 2, "want one token, got 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := jwtgate(t, tc.env, tc.stdin, append([]string{"token", "verify"}, tc.args...)...)
			if tc.code != 0 {
				mustFail(t, r, tc.code, tc.out)
				return
			}
			got := mustOK(t, r)
			if tc.out != "" && got != tc.out {
				t.Fatalf("claims %s, want %s", got, tc.out)
			}
			if tc.out == "" && !strings.HasPrefix(got, `{"sub":"1","iat":`) {
				t.Fatalf("claims %s", got)
			}
		})
	}
}

func decodePayload(t *testing.T, tok string) []byte {
	t.Helper()
	u, err := jwt.DecodeUnverified(tok)
	if err != nil {
		t.Fatalf("%s: %v", tok, err)
	}
	return u.Payload
}

func TestClaimTyping(t *testing.T) {
	tok := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--no-iat", "--no-exp",
		"--claims", `{ "role" : "reader", "keep": [1, 2], "html": "<a&b>", "\u0061b": 1 }`,
		"--claim", "n=5", "--claim", "f=-1.5e3", "--claim", "admin=true", "--claim", "off=false", "--claim", "nil=null",
		"--claim", "name=Ada Lovelace", "--claim", `quoted="x"`, "--claim", "empty=", "--claim", "eq=a=b", "--claim", "lt=a<b&c>",
		"--claim", `obj={"a": [1, {"b": null}]}`, "--claim", "arr=[1,2]",
		"--claim", "sub=7", "--claim", `iss="x"`, "--claim", "jti=true", "--claim", "aud=5", "--claim", `ab=2`,
		"--claim", "role=admin", "--claim", "bad={x"))
	want := `{"role":"admin","keep":[1,2],"html":"<a&b>","\u0061b":2,"n":5,"f":-1.5e3,"admin":true,"off":false,"nil":null,` +
		`"name":"Ada Lovelace","quoted":"x","empty":"","eq":"a=b","lt":"a<b&c>","obj":{"a":[1,{"b":null}]},"arr":[1,2],` +
		`"sub":"7","iss":"x","jti":"true","aud":"5","bad":"{x"}`
	if got := string(decodePayload(t, tok)); got != want {
		t.Fatalf("payload %s\nwant    %s", got, want)
	}
	names, vals := members(t, decodePayload(t, tok))
	if len(names) != 21 || string(vals["n"]) != "5" || string(vals["admin"]) != "true" || string(vals["name"]) != `"Ada Lovelace"` || string(vals["obj"]) != `{"a":[1,{"b":null}]}` {
		t.Fatalf("members %q %s", names, vals)
	}
	// aud stays an array when given as one.
	tok = mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--no-iat", "--no-exp", "--claim", `aud=["a","b"]`))
	if got := string(decodePayload(t, tok)); got != `{"aud":["a","b"]}` {
		t.Fatalf("payload %s", got)
	}
}

// A member named twice in the inputs appears once in the token: --claim
// replaces a --claims member in place, and iat/exp never duplicate one.
func TestClaimOverrideNoDuplicates(t *testing.T) {
	before := time.Now().Unix()
	cases := []struct {
		name  string
		args  []string
		order string            // member names in order
		fixed map[string]string // exact values
		exp   int64             // exp - iat, when iat is the current time
	}{
		{"claim replaces claims", []string{"--claims", `{"role":"reader","x":1}`, "--claim", "role=admin", "--claim", "role=root", "--no-iat", "--no-exp"},
			"role,x", map[string]string{"role": `"root"`, "x": "1"}, 0},
		{"given exp and iat kept", []string{"--claims", `{"exp":2000000000,"iat":1900000000}`},
			"exp,iat", map[string]string{"exp": "2000000000", "iat": "1900000000"}, 0},
		{"claim exp kept over default", []string{"--claim", "exp=2000000000"},
			"exp,iat", map[string]string{"exp": "2000000000"}, 0},
		{"explicit --exp replaces given exp", []string{"--claims", `{"exp":1,"a":true}`, "--exp", "10m"},
			"exp,a,iat", map[string]string{"a": "true"}, 600},
		{"claim replaces claims exp", []string{"--claims", `{"exp":1}`, "--claim", "exp=1999999999", "--no-iat"},
			"exp", map[string]string{"exp": "1999999999"}, 0},
		{"defaults appended iat then exp", []string{"--claim", "sub=u"},
			"sub,iat,exp", map[string]string{"sub": `"u"`}, 900},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := mustOK(t, jwtgate(t, strong, "", append([]string{"token", "sign", "--secret-env", "S"}, tc.args...)...))
			names, vals := members(t, decodePayload(t, tok))
			if strings.Join(names, ",") != tc.order {
				t.Fatalf("members %q, want %s", names, tc.order)
			}
			for k, v := range tc.fixed {
				if string(vals[k]) != v {
					t.Errorf("%s = %s, want %s", k, vals[k], v)
				}
			}
			if tc.exp != 0 {
				iat, _ := strconv.ParseInt(string(vals["iat"]), 10, 64)
				exp, _ := strconv.ParseInt(string(vals["exp"]), 10, 64)
				if iat < before || iat > time.Now().Unix() || exp-iat != tc.exp {
					t.Fatalf("iat %d exp %d (started %d)", iat, exp, before)
				}
			}
		})
	}
}

func TestSignUsageErrors(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "ed.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", priv))
	pubFile := writePublicPEM(t, priv, "")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--claims", `[1]`}, "--claims: not a JSON object"},
		{[]string{"--claims", `{"a":1,"a":2}`}, `member "a" appears twice`},
		{[]string{"--claims", `{"a":1} x`}, "--claims"},
		{[]string{"--claims", `{"a":}`}, "--claims"},
		{[]string{"--claim", "novalue"}, `--claim "novalue": want name=value`},
		{[]string{"--claim", "=5"}, "want name=value"},
		{[]string{"--claim", "exp=soon"}, "would make an invalid token"},
		{[]string{"--claims", `{"role":1}`, "--claim", "Role=2"}, `duplicate claim "Role"`},
		{[]string{"--claim", "EXP=5"}, "lower case"},
		{[]string{"--exp", "0s"}, "--exp must be positive"},
		{[]string{"--exp", "1h", "--no-exp"}, "--exp and --no-exp"},
		{[]string{"literal-secret"}, `unexpected argument "literal-secret"`},
		{[]string{"--alg", "ES256"}, "a secret can only be used with HS256"},
		{[]string{"--alg", "HS257"}, `unknown --alg "HS257"`},
	} {
		mustFail(t, jwtgate(t, strong, "", append([]string{"token", "sign", "--secret-env", "S"}, tc.args...)...), 2, tc.msg)
	}
	mustFail(t, jwtgate(t, strong, "", "token", "sign", "--claim", "a=1"), 2, "give exactly one key")
	mustFail(t, jwtgate(t, nil, "", "token", "sign", "--key-file", pubFile), 2, "public key: signing needs the private key")
	if r := jwtgate(t, nil, "", "token", "sign", "--jwks-file", pubFile); r.code != 2 || !strings.HasPrefix(r.stderr, "flag provided but not defined: -jwks-file\n") {
		t.Fatalf("sign --jwks-file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestKidInHeader(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "es.pem")
	r := jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", priv)
	mustOK(t, r)
	thumb := kidFromNote(t, r.stderr)
	jwk := filepath.Join(dir, "es.jwk")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES384", "--format", "jwk", "--kid", "jwk-kid", "--out", jwk))
	for _, tc := range []struct {
		args   []string
		header string
	}{
		{[]string{"--key-file", priv}, `{"alg":"ES256","kid":"` + thumb + `","typ":"JWT"}`},
		{[]string{"--key-file", priv, "--kid", "mine"}, `{"alg":"ES256","kid":"mine","typ":"JWT"}`},
		{[]string{"--key-file", jwk}, `{"alg":"ES384","kid":"jwk-kid","typ":"JWT"}`},
		{[]string{"--key-file", jwk, "--kid", "over"}, `{"alg":"ES384","kid":"over","typ":"JWT"}`},
		{[]string{"--secret-env", "S"}, `{"alg":"HS256","typ":"JWT"}`},
		{[]string{"--secret-env", "S", "--kid", "k1", "--alg", "HS256"}, `{"alg":"HS256","kid":"k1","typ":"JWT"}`},
	} {
		tok := mustOK(t, jwtgate(t, strong, "", append([]string{"token", "sign"}, tc.args...)...))
		u, err := jwt.DecodeUnverified(tok)
		if err != nil || string(u.Header) != tc.header {
			t.Errorf("%v: header %s, want %s (%v)", tc.args, u.Header, tc.header, err)
		}
	}
}

func TestDecode(t *testing.T) {
	r := jwtgate(t, nil, "", "token", "decode", teachingToken)
	want := `Signature NOT verified: anyone can make a token that decodes to this.
Header:
{
  "alg": "HS256",
  "typ": "JWT"
}
Payload:
{
  "user_id": 123,
  "role": "admin"
}
Signature: 32 bytes, alg "HS256", NOT verified
`
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}

	// --json, token from stdin (absent argument and "-").
	for _, args := range [][]string{{"--json"}, {"--json", "-"}, {"-", "--json"}} {
		r := jwtgate(t, nil, "\n  "+teachingToken+"  \n", append([]string{"token", "decode"}, args...)...)
		if r.code != 0 || r.stdout != `{"header":{"alg":"HS256","typ":"JWT"},"payload":{"user_id":123,"role":"admin"}}`+"\n" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc) != 2 {
			t.Fatalf("--json output %s: %v", r.stdout, err)
		}
		if names, vals := members(t, doc["header"]); strings.Join(names, ",") != "alg,typ" || string(vals["alg"]) != `"HS256"` {
			t.Fatalf("header %s", doc["header"])
		}
		if names, vals := members(t, doc["payload"]); strings.Join(names, ",") != "user_id,role" || string(vals["user_id"]) != "123" {
			t.Fatalf("payload %s", doc["payload"])
		}
	}

	// Time claims as RFC 3339 UTC with a relative note.
	tok := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claims", `{"iat":1700000000,"nbf":1700000000,"exp":1700000600}`))
	out := mustOK(t, jwtgate(t, nil, "", "token", "decode", tok))
	for _, re := range []string{
		`(?m)^iat: 2023-11-14T22:13:20Z \(\d+d(\d+h)? ago\)$`,
		`(?m)^nbf: 2023-11-14T22:13:20Z \(\d+d(\d+h)? ago\)$`,
		`(?m)^exp: 2023-11-14T22:23:20Z \(expired \d+d(\d+h)? ago\)$`,
		`^Signature NOT verified`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", re, out)
		}
	}
	tok = mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--exp", "1h"))
	out = mustOK(t, jwtgate(t, nil, "", "token", "decode", tok))
	if !regexp.MustCompile(`(?m)^exp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((in 59m\d+s|in 1h)\)$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^iat: \S+Z \((now|\ds ago)\)$`).MatchString(out) {
		t.Fatalf("relative times:\n%s", out)
	}

	for _, bad := range []string{"garbage", "a.b.c", teachingToken + ".x", strings.Replace(teachingToken, ".", "=.", 1), "e30.e30"} {
		mustFail(t, jwtgate(t, nil, "", "token", "decode", bad), 1, "jwtgate token decode: jwt: malformed token")
	}
	mustFail(t, jwtgate(t, nil, "", "token", "decode", "--json", "garbage"), 1, "malformed token")
	mustFail(t, jwtgate(t, nil, "", "token", "decode", "a", "b"), 2, "want one token, got 2")
}

func TestRelativeTime(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name string
		d    time.Duration
		want string
	}{
		{"exp", -3 * time.Minute, "expired 3m ago"},
		{"exp", 14 * time.Minute, "in 14m"},
		{"exp", 14*time.Minute + 59*time.Second + 900*time.Millisecond, "in 14m59s"},
		{"exp", 0, "expired 0s ago"},
		{"iat", 0, "now"},
		{"iat", -45 * time.Second, "45s ago"},
		{"iat", -(2*time.Hour + 5*time.Minute + 9*time.Second), "2h5m ago"},
		{"nbf", 2*time.Hour + 9*time.Second, "in 2h"},
		{"nbf", 3*24*time.Hour + 4*time.Hour + 5*time.Minute, "in 3d4h"},
		{"iat", -400 * 24 * time.Hour, "400d ago"},
	} {
		if got := relative(tc.name, now.Add(tc.d), now); got != tc.want {
			t.Errorf("relative(%s, %v) = %q, want %q", tc.name, tc.d, got, tc.want)
		}
	}
}

// RFC 7517 makes a JWK's "alg" optional. Without it, a JWK serves any
// algorithm of its type named with --alg, as the same key in PEM does;
// a JWK that names its alg serves that one alone.
func TestJWKWithoutAlg(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	// stripAlg writes the JWK in file without its "alg" to name.
	stripAlg := func(jwk []byte, name string) string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(jwk, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "alg")
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path(name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path(name)
	}
	read := func(f string) []byte {
		t.Helper()
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "RS256", "--format", "jwk", "--kid", "r1", "--out", path("rsa.jwk")))
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "HS512", "--format", "jwk", "--kid", "h1", "--out", path("hs.jwk")))
	rsaPriv := stripAlg(read(path("rsa.jwk")), "rsa-noalg.jwk")
	hsKey := stripAlg(read(path("hs.jwk")), "hs-noalg.jwk")
	rsa, err := readKeyFile(path("rsa.jwk"), "", false)
	if err != nil {
		t.Fatal(err)
	}
	pubJWK, err := rsa.MarshalPublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := stripAlg(pubJWK, "rsa-pub-noalg.jwk")
	pubPEM := writePublicPEM(t, path("rsa.jwk"), "")
	os.WriteFile(path("set.json"), []byte(`{"keys":[`+string(read(rsaPub))+`]}`), 0o644)

	for _, tc := range []struct {
		alg, signWith, named string
		verifyWith           [][]string
	}{
		{"RS256", rsaPriv, path("rsa.jwk"), [][]string{{"--key-file", rsaPub}, {"--key-file", pubPEM}, {"--jwks-file", path("set.json")}}},
		{"RS384", rsaPriv, path("rsa.jwk"), [][]string{{"--key-file", rsaPub}, {"--key-file", pubPEM}, {"--jwks-file", path("set.json")}}},
		{"PS256", rsaPriv, path("rsa.jwk"), [][]string{{"--key-file", rsaPub}, {"--key-file", pubPEM}, {"--jwks-file", path("set.json")}}},
		{"PS512", rsaPriv, path("rsa.jwk"), [][]string{{"--key-file", rsaPub}, {"--jwks-file", path("set.json")}}},
		{"HS256", hsKey, path("hs.jwk"), [][]string{{"--key-file", hsKey}}},
		{"HS512", hsKey, path("hs.jwk"), [][]string{{"--key-file", hsKey}}},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			tok := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--alg", tc.alg, "--key-file", tc.signWith, "--claims", fixedClaims))
			if u, err := jwt.DecodeUnverified(tok); err != nil || u.Algorithm != tc.alg {
				t.Fatalf("signed %+v, %v", u, err)
			}
			for _, with := range tc.verifyWith {
				args := append([]string{"token", "verify", "--alg", tc.alg, "--now", "1700000300"}, with...)
				if got := mustOK(t, jwtgate(t, nil, "", append(args, tok)...)); got != fixedClaims {
					t.Fatalf("%v: claims %s", with, got)
				}
			}
			// The JWK that names its alg stays bound to it.
			named := jwtgate(t, nil, "", "token", "verify", "--alg", tc.alg, "--now", "1700000300", "--key-file", tc.named, tok)
			namedAlg := map[string]string{"RS": "RS256", "PS": "RS256", "HS": "HS512"}[tc.alg[:2]]
			if tc.alg == namedAlg {
				mustOK(t, named)
			} else {
				mustFail(t, named, 2, "the JWK is for "+namedAlg+", not "+tc.alg)
			}
		})
	}
	// Of another type: refused, naming the mismatch.
	for _, tc := range []struct{ key, alg, msg string }{
		{rsaPub, "ES256", "ES256 does not match kty RSA"},
		{rsaPub, "HS256", "HS256 does not match kty RSA"},
		{hsKey, "RS256", "RS256 does not match kty oct"},
	} {
		mustFail(t, jwtgate(t, nil, "", "token", "verify", "--alg", tc.alg, "--key-file", tc.key, "x.y.z"), 2, tc.msg)
	}
	mustFail(t, jwtgate(t, nil, "", "token", "verify", "--alg", "ES256", "--jwks-file", path("set.json"), "x.y.z"), 2, "no ES256 key in the set")
}
