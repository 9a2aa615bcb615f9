package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

var noteRE = regexp.MustCompile(`^wrote (\S+) key, kid (\S+), to (.+?)(; PEM does not record the algorithm: pass --alg (\S+) when using it)?\n$`)

// kidFromNote checks the one-line note of `key generate --out` and
// returns the kid it names.
func kidFromNote(t *testing.T, note string) string {
	t.Helper()
	m := noteRE.FindStringSubmatch(note)
	if m == nil {
		t.Fatalf("note %q", note)
	}
	return m[2]
}

// writePublicPEM writes the PKIX public key of a private key file next to
// it and returns its path.
func writePublicPEM(t *testing.T, privFile string, alg jwt.Algorithm) string {
	t.Helper()
	key, err := readKeyFile(privFile, alg, false)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwt.MarshalPEMPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := privFile + ".pub.pem"
	if err := os.WriteFile(f, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"}

// jwksKeys parses a JWKS printed by `key jwks`, checking that no key has a
// private member, and returns each key's members.
func jwksKeys(t *testing.T, out string) []map[string]json.RawMessage {
	t.Helper()
	names, set := members(t, []byte(out))
	if strings.Join(names, ",") != "keys" {
		t.Fatalf("JWKS members %q", names)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(set["keys"], &raw); err != nil {
		t.Fatal(err)
	}
	var keys []map[string]json.RawMessage
	for _, r := range raw {
		_, m := members(t, r)
		for _, p := range privateMembers {
			if _, ok := m[p]; ok {
				t.Fatalf("JWKS key has private member %q: %s", p, r)
			}
		}
		keys = append(keys, m)
	}
	return keys
}

func jsonStr(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return s
}

// Generate a key with `key generate --out`, sign with it, publish it with
// `key jwks`, and verify with the key file, the JWKS and the public PEM.
func TestRoundTripEveryAlgorithm(t *testing.T) {
	for _, alg := range []string{"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "key")
			r := jwtgate(t, nil, "", "key", "generate", "--alg", alg, "--out", keyFile)
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("generate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			kid := kidFromNote(t, r.stderr)
			m := noteRE.FindStringSubmatch(r.stderr)
			wantHint := ""
			if alg == "PS256" {
				wantHint = "PS256"
			}
			if m[1] != alg || m[3] != keyFile || m[5] != wantHint {
				t.Fatalf("note %q", r.stderr)
			}
			st, err := os.Stat(keyFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, %v; want mode 0600", st, err)
			}
			key, err := readKeyFile(keyFile, jwt.Algorithm(alg), false)
			if err != nil {
				t.Fatal(err)
			}
			if tp, _ := key.Thumbprint(); tp != kid {
				t.Fatalf("kid %s, thumbprint %s", kid, tp)
			}

			tok := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--alg", alg, "--key-file", keyFile, "--claims", fixedClaims))
			u, err := jwt.DecodeUnverified(tok)
			if err != nil || string(u.Header) != `{"alg":"`+alg+`","kid":"`+kid+`","typ":"JWT"}` {
				t.Fatalf("header %s (%v)", u.Header, err)
			}
			verify := func(args ...string) result {
				return jwtgate(t, nil, "", append(append([]string{"token", "verify", "--now", "1700000300"}, args...), tok)...)
			}
			if got := mustOK(t, verify("--key-file", keyFile, "--alg", alg)); got != fixedClaims {
				t.Fatalf("claims %s", got)
			}
			// Without --alg the key decides; a PEM RSA key means RS256.
			if r := verify("--key-file", keyFile); alg == "PS256" {
				mustFail(t, r, 1, "invalid token: jwt: algorithm does not match key: token says PS256, key is RS256")
			} else if got := mustOK(t, r); got != fixedClaims {
				t.Fatalf("claims %s", got)
			}
			other := filepath.Join(dir, "other")
			mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", alg, "--out", other))

			if strings.HasPrefix(alg, "HS") {
				mustFail(t, jwtgate(t, nil, "", "key", "jwks", keyFile), 2, "is an HMAC secret: secrets cannot be published")
				// The other secret's JWK has another kid.
				mustFail(t, verify("--key-file", other), 1, "invalid token: jwt: key not found")
				return
			}
			mustFail(t, verify("--key-file", other, "--alg", alg), 1, "invalid token: jwt: signature invalid")

			jwks := mustOK(t, jwtgate(t, nil, "", "key", "jwks", "--alg", alg, keyFile))
			keys := jwksKeys(t, jwks)
			if len(keys) != 1 || jsonStr(t, keys[0]["kid"]) != kid || jsonStr(t, keys[0]["alg"]) != alg || jsonStr(t, keys[0]["use"]) != "sig" {
				t.Fatalf("JWKS %s", jwks)
			}
			jwksFile := filepath.Join(dir, "jwks.json")
			os.WriteFile(jwksFile, []byte(jwks), 0o644)
			for _, args := range [][]string{{"--jwks-file", jwksFile}, {"--jwks-file", jwksFile, "--alg", alg}} {
				if got := mustOK(t, verify(args...)); got != fixedClaims {
					t.Fatalf("%v: claims %s", args, got)
				}
			}
			pubFile := writePublicPEM(t, keyFile, jwt.Algorithm(alg))
			if got := mustOK(t, verify("--key-file", pubFile, "--alg", alg)); got != fixedClaims {
				t.Fatalf("public PEM: claims %s", got)
			}
			mustFail(t, jwtgate(t, nil, "", "token", "sign", "--alg", alg, "--key-file", pubFile), 2, "signing needs the private key")
			// A JWKS of another key does not know this token's kid.
			otherJWKS := filepath.Join(dir, "other.json")
			os.WriteFile(otherJWKS, []byte(mustOK(t, jwtgate(t, nil, "", "key", "jwks", "--alg", alg, other))), 0o644)
			mustFail(t, verify("--jwks-file", otherJWKS), 1, "invalid token: jwt: key not found")
		})
	}
}

func TestKeyGenerateFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "k.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", f))
	before, _ := os.ReadFile(f)
	mustFail(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", f), 1, "exists; not overwriting it (use --force")
	if after, _ := os.ReadFile(f); !bytes.Equal(before, after) {
		t.Fatal("existing key file changed")
	}

	// --force replaces the file, with mode 0600 even if the old one was 0644.
	os.Chmod(f, 0o644)
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", f, "--force"))
	st, _ := os.Stat(f)
	after, _ := os.ReadFile(f)
	if st.Mode().Perm() != 0o600 || bytes.Equal(before, after) {
		t.Fatalf("after --force: mode %v, changed %v", st.Mode().Perm(), !bytes.Equal(before, after))
	}
	if k, err := jwt.ParsePEMKey(after, ""); err != nil || k.Algorithm() != jwt.EdDSA {
		t.Fatalf("replaced key: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	mustFail(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", filepath.Join(dir, "no", "such", "dir")), 1, "no such file")
}

func TestKeyGenerateOutput(t *testing.T) {
	// Asymmetric: a PKCS#8 PEM private key on stdout, nothing on stderr.
	r := jwtgate(t, nil, "", "key", "generate", "--alg", "ES384")
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "-----BEGIN PRIVATE KEY-----\n") || !strings.HasSuffix(r.stdout, "-----END PRIVATE KEY-----\n") {
		t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	if k, err := jwt.ParsePEMKey([]byte(r.stdout), ""); err != nil || k.Algorithm() != jwt.ES384 || !k.CanSign() {
		t.Fatalf("PEM output: %v", err)
	}

	// HMAC: an oct JWK with a secret as long as the hash, named by its thumbprint.
	for alg, size := range map[string]int{"HS256": 32, "HS384": 48, "HS512": 64} {
		out := mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", alg))
		names, m := members(t, []byte(out))
		secret, err := base64.RawURLEncoding.DecodeString(jsonStr(t, m["k"]))
		if err != nil || len(secret) != size || jsonStr(t, m["kty"]) != "oct" || jsonStr(t, m["alg"]) != alg {
			t.Fatalf("%s: %s (%d-byte secret, %v)", alg, out, len(secret), err)
		}
		k, err := jwt.ParseJWK([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		if tp, _ := k.Thumbprint(); jsonStr(t, m["kid"]) != tp {
			t.Fatalf("%s: kid %s, thumbprint %s (members %q)", alg, m["kid"], tp, names)
		}
	}

	// --format jwk: a private JWK for any algorithm, with the given kid.
	out := mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--format", "jwk", "--kid", "my-key"))
	_, m := members(t, []byte(out))
	if jsonStr(t, m["kty"]) != "EC" || jsonStr(t, m["crv"]) != "P-256" || jsonStr(t, m["kid"]) != "my-key" || jsonStr(t, m["alg"]) != "ES256" || len(m["d"]) == 0 {
		t.Fatalf("private JWK %s", out)
	}

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{}, "--alg is required"},
		{[]string{"--alg", "none"}, `unknown --alg "none"`},
		{[]string{"--alg", "ES256", "--kid", "x"}, "a PEM file cannot hold a kid"},
		{[]string{"--alg", "HS256", "--format", "pem"}, "an HMAC secret has no PEM form"},
		{[]string{"--alg", "ES256", "--format", "der"}, `--format must be pem or jwk, not "der"`},
		{[]string{"--alg", "ES256", "extra"}, `unexpected argument "extra"`},
	} {
		mustFail(t, jwtgate(t, nil, "", append([]string{"key", "generate"}, tc.args...)...), 2, tc.msg)
	}
}

func TestKeyJWKS(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", path("es.pem")))
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", path("ed.pem")))
	edPub := writePublicPEM(t, path("ed.pem"), "")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "RS256", "--format", "jwk", "--kid", "rsa-1", "--out", path("rsa.jwk")))
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES384", "--format", "jwk", "--kid", "pub-1", "--out", path("es384.jwk")))
	es384, err := readKeyFile(path("es384.jwk"), "", false)
	if err != nil {
		t.Fatal(err)
	}
	pubJWK, _ := es384.MarshalPublicJWK()
	os.WriteFile(path("es384.pub.jwk"), pubJWK, 0o644)

	thumb := func(f string) string {
		k, err := readKeyFile(f, "", false)
		if err != nil {
			t.Fatal(err)
		}
		tp, _ := k.Thumbprint()
		return tp
	}
	jwks := mustOK(t, jwtgate(t, nil, "", "key", "jwks", path("es.pem"), edPub, path("rsa.jwk"), path("es384.pub.jwk")))
	keys := jwksKeys(t, jwks)
	want := []struct{ kty, alg, kid string }{
		{"EC", "ES256", thumb(path("es.pem"))},
		{"OKP", "EdDSA", thumb(edPub)},
		{"RSA", "RS256", "rsa-1"},
		{"EC", "ES384", "pub-1"},
	}
	if len(keys) != len(want) {
		t.Fatalf("JWKS %s", jwks)
	}
	for i, w := range want {
		if jsonStr(t, keys[i]["kty"]) != w.kty || jsonStr(t, keys[i]["alg"]) != w.alg || jsonStr(t, keys[i]["kid"]) != w.kid {
			t.Errorf("key %d: %v, want %v", i, keys[i], w)
		}
	}

	// A verifier with several keys picks the one the token's kid names.
	jwksFile := path("jwks.json")
	os.WriteFile(jwksFile, []byte(jwks), 0o644)
	for _, f := range []string{"es.pem", "ed.pem", "rsa.jwk", "es384.jwk"} {
		tok := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--key-file", path(f), "--claim", "sub="+f))
		got := mustOK(t, jwtgate(t, nil, "", "token", "verify", "--jwks-file", jwksFile, tok))
		if !strings.HasPrefix(got, `{"sub":"`+f+`","iat":`) {
			t.Errorf("%s: claims %s", f, got)
		}
		if f == "rsa.jwk" { // --alg picks the keys of that algorithm
			mustOK(t, jwtgate(t, nil, "", "token", "verify", "--jwks-file", jwksFile, "--alg", "RS256", tok))
			mustFail(t, jwtgate(t, nil, "", "token", "verify", "--jwks-file", jwksFile, "--alg", "ES256", tok), 1, "invalid token: jwt: key not found")
			mustFail(t, jwtgate(t, nil, "", "token", "verify", "--jwks-file", jwksFile, "--alg", "PS512", tok), 2, "no PS512 key in the set")
		}
	}
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "ES256", "--out", path("stranger.pem")))
	tok := mustOK(t, jwtgate(t, nil, "", "token", "sign", "--key-file", path("stranger.pem")))
	mustFail(t, jwtgate(t, nil, "", "token", "verify", "--jwks-file", jwksFile, tok), 1, "invalid token: jwt: key not found")

	// Secrets, weak or not, are never published.
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "HS256", "--out", path("hs.jwk")))
	os.WriteFile(path("weak.jwk"), []byte(`{"kty":"oct","k":"c2hvcnQ"}`), 0o600)
	for _, f := range []string{"hs.jwk", "weak.jwk"} {
		r := jwtgate(t, nil, "", "key", "jwks", path("es.pem"), path(f))
		mustFail(t, r, 2, f+" is an HMAC secret: secrets cannot be published")
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "give one or more key files"},
		{[]string{path("missing.pem")}, "no such file"},
		{[]string{path("es.pem"), path("es.pem")}, "two keys with kid"},
		{[]string{"--alg", "ES384", path("rsa.jwk")}, "the JWK is for RS256, not ES384"},
		{[]string{"--alg", "XS1", path("es.pem")}, `unknown --alg "XS1"`},
	} {
		mustFail(t, jwtgate(t, nil, "", append([]string{"key", "jwks"}, tc.args...)...), 2, tc.msg)
	}
	if r := jwtgate(t, nil, "", "key", "jwks", "--jwks-file", path("es.pem")); r.code != 2 {
		t.Fatalf("jwks --jwks-file: exit %d", r.code)
	}
}

// A server with --key-file keeps no keys in the database: key list and key
// rotate there say where its keys come from and how to rotate them,
// instead of an empty table and a rotation no server would follow; the
// server says so in its log at start.
func TestKeyCommandsOnFileKeyServers(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "signing.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", key))
	data := filepath.Join(dir, "data")
	_, logs := startServerAt(t, data, nil, "--key-file", key)
	if !hasLine(logs.String(), "level=INFO", "signing with the key in --key-file "+key, "jwtgate key rotate and key list do not apply", "SIGHUP") {
		t.Errorf("the log does not say the key comes from the file:\n%s", logs)
	}
	for _, tc := range []struct {
		cmd  string
		code int
	}{{"list", 0}, {"rotate", 1}} {
		r := jwtgate(t, nil, "", "key", tc.cmd, "--data", data)
		out := r.stdout + r.stderr
		for _, want := range []string{"no signing keys in the database", "--key-file", "replacing the file", "--verify-key-file", "SIGHUP"} {
			if !strings.Contains(out, want) {
				t.Errorf("key %s: %q does not say %q", tc.cmd, out, want)
			}
		}
		if r.code != tc.code || strings.Count(out, "\n") != 1 || strings.Contains(out, "switch") {
			t.Errorf("key %s: exit %d, output %q; want exit %d and one line", tc.cmd, r.code, out, tc.code)
		}
	}

	// On a database with keys, rotation says which servers follow it.
	data = filepath.Join(dir, "dbkeys")
	startServerAt(t, data, nil)
	out := mustOK(t, jwtgate(t, nil, "", "key", "rotate", "--data", data))
	if !strings.Contains(out, "servers that use the database's keys switch") || !strings.Contains(out, "--key-file, --secret-file or $JWTGATE_SECRET do not use these keys") {
		t.Errorf("key rotate: %q", out)
	}
	// A key-file server on it warns that it ignores them.
	_, logs = startServerAt(t, data, nil, "--key-file", key)
	if !hasLine(logs.String(), "level=WARN", "the database holds signing keys this server does not use", "keys=2") {
		t.Errorf("no warning of unused database keys:\n%s", logs)
	}
}

// hasLine reports whether a line of text contains all of parts.
func hasLine(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
