package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

const teachingToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc"

type result struct {
	code           int
	stdout, stderr string
}

// jwtgate runs the command in-process with the given environment and stdin.
func jwtgate(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

func mustOK(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

var strong = map[string]string{"S": strings.Repeat("s", 32), "WEAK": "my_super_secret_key"}

func TestTeachingTokenByteForByte(t *testing.T) {
	got := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--alg", "HS256", "--secret-env", "WEAK",
		"--allow-weak-secret", "--no-exp", "--no-iat", "--claims", `{"user_id":123,"role":"admin"}`))
	if got != teachingToken {
		t.Fatalf("got  %s\nwant %s", got, teachingToken)
	}
	claims := mustOK(t, jwtgate(t, strong, "", "token", "verify", "--secret-env", "WEAK", "--allow-weak-secret", "--require-exp=false", teachingToken))
	if claims != `{"user_id":123,"role":"admin"}` {
		t.Fatalf("verified claims %s", claims)
	}
	// Without the opt-in the short secret is a key error (exit 2).
	r := jwtgate(t, strong, "", "token", "verify", "--secret-env", "WEAK", "--require-exp=false", teachingToken)
	if r.code != 2 || !strings.Contains(r.stderr, "--allow-weak-secret") {
		t.Fatalf("weak secret without opt-in: exit %d, %s", r.code, r.stderr)
	}
}

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	for _, alg := range []string{"HS256", "HS512", "RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "key")
			r := jwtgate(t, nil, "", "key", "generate", "--alg", alg, "--out", keyFile)
			mustOK(t, r)
			st, err := os.Stat(keyFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
			}
			tok := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--alg", alg, "--key-file", keyFile, "--claim", "sub=42", "--exp", "5m"))
			got := mustOK(t, jwtgate(t, nil, "", "token", "verify", "--key-file", keyFile, "--alg", alg, tok))
			if !strings.Contains(got, `"sub":"42"`) {
				t.Fatalf("claims %s", got)
			}
			if strings.HasPrefix(alg, "HS") {
				r := jwtgate(t, nil, "", "key", "jwks", keyFile)
				if r.code != 2 || !strings.Contains(r.stderr, "secret") {
					t.Fatalf("jwks of a secret: exit %d %s", r.code, r.stderr)
				}
				return
			}
			jwks := mustOK(t, jwtgate(t, nil, "", "key", "jwks", "--alg", alg, keyFile))
			for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
				if strings.Contains(jwks, private) {
					t.Fatalf("JWKS contains %s: %s", private, jwks)
				}
			}
			jwksFile := filepath.Join(dir, "jwks.json")
			os.WriteFile(jwksFile, []byte(jwks), 0o644)
			mustOK(t, jwtgate(t, nil, "", "token", "verify", "--jwks-file", jwksFile, "--alg", alg, tok))
			// A key of the same kind but another key must not verify it.
			other := filepath.Join(dir, "other")
			mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", alg, "--out", other))
			if r := jwtgate(t, nil, "", "token", "verify", "--key-file", other, "--alg", alg, tok); r.code != 1 {
				t.Fatalf("other key: exit %d, %s", r.code, r.stderr)
			}
		})
	}
}

func TestVerifyExitCodes(t *testing.T) {
	tok := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claim", "sub=1", "--exp", "1h"))
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + parts[1][:len(parts[1])-2] + "x" + parts[1][len(parts[1])-1:] + "." + parts[2]
	future := strconv.FormatInt(time.Now().Add(2*time.Hour).Unix(), 10)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"valid", strong, []string{"--secret-env", "S", tok}, 0, ""},
		{"valid stdin", strong, []string{"--secret-env", "S", "-"}, 0, ""},
		{"expired via --now unix", strong, []string{"--secret-env", "S", "--now", future, tok}, 1, "expired"},
		{"expired via --now rfc3339", strong, []string{"--secret-env", "S", "--now", time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339), tok}, 1, "expired"},
		{"leeway covers it", strong, []string{"--secret-env", "S", "--now", future, "--leeway", "2h", tok}, 0, ""},
		{"tampered", strong, []string{"--secret-env", "S", tampered}, 1, "invalid token"},
		{"wrong key", map[string]string{"S": strings.Repeat("x", 32)}, []string{"--secret-env", "S", tok}, 1, "signature"},
		{"malformed", strong, []string{"--secret-env", "S", "not.a-token"}, 1, "malformed"},
		{"wrong issuer", strong, []string{"--secret-env", "S", "--iss", "someone", tok}, 1, "issuer"},
		{"no key flag", strong, []string{tok}, 2, "exactly one"},
		{"two key flags", strong, []string{"--secret-env", "S", "--secret-file", "x", tok}, 2, "exactly one"},
		{"unset env", strong, []string{"--secret-env", "NOPE", tok}, 2, "not set"},
		{"unknown alg", strong, []string{"--secret-env", "S", "--alg", "none", tok}, 2, "unknown"},
		{"bad --now", strong, []string{"--secret-env", "S", "--now", "tomorrow", tok}, 2, "--now"},
		{"bad flag", strong, []string{"--secret-env", "S", "--frobnicate", tok}, 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := jwtgate(t, tc.env, tok+"\n", append([]string{"token", "verify"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tc.code, r.stderr, tc.msg)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Fatalf("want one line on stderr, got %q", r.stderr)
			}
			if tc.code == 0 && !strings.Contains(r.stdout, `"sub":"1"`) {
				t.Fatalf("stdout %q", r.stdout)
			}
		})
	}
}

// payloadMembers decodes a token's payload into its members in order,
// keeping duplicates so a test can see them.
func payloadMembers(t *testing.T, tok string) []member {
	t.Helper()
	u, err := jwt.DecodeUnverified(tok)
	if err != nil {
		t.Fatal(err)
	}
	m, err := objectMembers(u.Payload)
	if err != nil {
		t.Fatalf("payload %s: %v", u.Payload, err)
	}
	return m
}

func TestClaimFlags(t *testing.T) {
	tok := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--no-iat", "--no-exp",
		"--claims", `{ "role" : "reader", "keep": [1, 2] }`,
		"--claim", "n=5", "--claim", "admin=true", "--claim", "sub=7", "--claim", "name=Ada", "--claim", `obj={"a":1}`, "--claim", "role=admin"))
	u, _ := jwt.DecodeUnverified(tok)
	want := `{"role":"admin","keep":[1,2],"n":5,"admin":true,"sub":"7","name":"Ada","obj":{"a":1}}`
	if string(u.Payload) != want {
		t.Fatalf("payload %s\nwant    %s", u.Payload, want)
	}
	// exp inside --claims is replaced, not duplicated.
	tok = mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--claims", `{"exp":1,"iat":2}`, "--exp", "10m"))
	seen := map[string]int{}
	for _, m := range payloadMembers(t, tok) {
		seen[m.name]++
	}
	if seen["exp"] != 1 || seen["iat"] != 1 {
		t.Fatalf("members %v", seen)
	}
	var c struct{ Exp, Iat int64 }
	u, _ = jwt.DecodeUnverified(tok)
	json.Unmarshal(u.Payload, &c)
	if d := c.Exp - c.Iat; d != 600 || c.Iat < time.Now().Unix()-60 {
		t.Fatalf("iat %d exp %d", c.Iat, c.Exp)
	}
	for _, bad := range [][]string{{"--claims", `[1]`}, {"--claims", `{"a":1,"a":2}`}, {"--claim", "novalue"}, {"--claims", `{"a":1} x`}} {
		r := jwtgate(t, strong, "", append([]string{"token", "sign", "--secret-env", "S"}, bad...)...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, r.code)
		}
	}
}

func TestDecode(t *testing.T) {
	r := jwtgate(t, nil, "", "token", "decode", teachingToken)
	out := mustOK(t, r)
	if !strings.Contains(out, "NOT verified") || !strings.Contains(out, `"user_id": 123`) {
		t.Fatalf("decode output:\n%s", out)
	}
	js := mustOK(t, jwtgate(t, nil, teachingToken, "token", "decode", "--json"))
	var doc struct {
		Header  map[string]any `json:"header"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.Header["alg"] != "HS256" || doc.Payload["role"] != "admin" {
		t.Fatalf("--json output %s: %v", js, err)
	}
	tok := mustOK(t, jwtgate(t, strong, "", "token", "sign", "--secret-env", "S", "--exp", "1h"))
	if out := mustOK(t, jwtgate(t, nil, "", "token", "decode", tok)); !strings.Contains(out, "exp: ") || !strings.Contains(out, "(in ") {
		t.Fatalf("no readable exp:\n%s", out)
	}
	for _, bad := range []string{"garbage", "a.b.c", teachingToken + ".x", strings.ReplaceAll(teachingToken, "J9", "J9=")} {
		if r := jwtgate(t, nil, "", "token", "decode", bad); r.code != 1 || r.stderr == "" {
			t.Errorf("decode %q: exit %d", bad, r.code)
		}
	}
}

func TestKeyGenerateRefusesOverwrite(t *testing.T) {
	f := filepath.Join(t.TempDir(), "k.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", f))
	before, _ := os.ReadFile(f)
	if r := jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", f); r.code == 0 {
		t.Fatal("overwrote an existing key file")
	}
	after, _ := os.ReadFile(f)
	if !bytes.Equal(before, after) {
		t.Fatal("existing key file changed")
	}
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", f, "--force"))
	if r := jwtgate(t, nil, "", "key", "generate", "--alg", "none"); r.code != 2 {
		t.Fatalf("alg none: exit %d", r.code)
	}
}

func TestSecretFileAndPublicKeyCannotSign(t *testing.T) {
	dir := t.TempDir()
	sf := filepath.Join(dir, "secret")
	os.WriteFile(sf, []byte(strings.Repeat("z", 32)+"\n"), 0o600)
	tok := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--secret-file", sf))
	mustOK(t, jwtgate(t, map[string]string{"Z": strings.Repeat("z", 32)}, "", "token", "verify", "--secret-env", "Z", tok))

	priv := filepath.Join(dir, "p.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", priv))
	key, err := readKeyFile(priv, "", false)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jwt.MarshalPEMPublicKey(key)
	pubFile := filepath.Join(dir, "pub.pem")
	os.WriteFile(pubFile, pub, 0o644)
	if r := jwtgate(t, nil, "", "token", "sign", "--key-file", pubFile); r.code != 2 || !strings.Contains(r.stderr, "private") {
		t.Fatalf("sign with public key: exit %d %s", r.code, r.stderr)
	}
	if r := jwtgate(t, nil, "", "token", "sign", "--secret-env", "X", "literal-secret"); r.code != 2 {
		t.Fatalf("positional secret accepted: exit %d", r.code)
	}
}
