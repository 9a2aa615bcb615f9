package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// startServer runs `jwtgate serve` in-process on a random loopback port
// with a real SQLite file in a temporary data folder.
func startServer(t *testing.T, extra ...string) (base, data string, logs *testutil.LockedBuffer) {
	t.Helper()
	data = t.TempDir()
	base, logs = startServerAt(t, data, nil, extra...)
	return base, data, logs
}

// startServerAt is startServer on the data folder data, with the clock now
// (nil: time.Now) for its tokens and sessions.
func startServerAt(t *testing.T, data string, now func() time.Time, extra ...string) (base string, logs *testutil.LockedBuffer) {
	t.Helper()
	args := append([]string{"--addr", "127.0.0.1:0", "--data", data, "--hash-concurrency", "2"}, extra...)
	c, err := parseServeFlags(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.now = now
	logs = &testutil.LockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, c, func(string) string { return "" }, log, ready) }()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return base, logs
}

func addUser(t *testing.T, data, name, role, password string) {
	t.Helper()
	r := jwtgate(t, nil, password+"\n", "user", "add", name, "--role", role, "--data", data)
	if r.code != 0 {
		t.Fatalf("user add %s: %d %s", name, r.code, r.stderr)
	}
}

func call(t *testing.T, method, url, token, ctype, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

// callErr is call for requests that may fail in transport.
func callErr(method, url, token, ctype, body string) (int, map[string]any, error) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, nil
}

func login(t *testing.T, base, user, pw string) string {
	t.Helper()
	code, _, m := call(t, "POST", base+"/login", "", "application/json", `{"username":"`+user+`","password":"`+pw+`"}`)
	if code != 200 {
		t.Fatalf("login %s: %d %v", user, code, m)
	}
	return m["access_token"].(string)
}

func TestServeEndToEnd(t *testing.T) {
	base, data, logs := startServer(t)
	addUser(t, data, "root", "admin", "admin-password-1")
	addUser(t, data, "ed", "editor", "editor-password-1")
	addUser(t, data, "rita", "reader", "reader-password-1")

	admin := login(t, base, "root", "admin-password-1")
	editor := login(t, base, "ed", "editor-password-1")
	reader := login(t, base, "rita", "reader-password-1")

	// The OAuth2 password form works too.
	code, _, m := call(t, "POST", base+"/login", "", "application/x-www-form-urlencoded", "grant_type=password&username=ed&password=editor-password-1")
	if code != 200 || m["token_type"] != "Bearer" || m["expires_in"].(float64) != 900 {
		t.Fatalf("form login: %d %v", code, m)
	}

	code, _, m = call(t, "GET", base+"/me", editor, "", "")
	if code != 200 || m["name"] != "ed" || m["role"] != "editor" {
		t.Fatalf("/me: %d %v", code, m)
	}
	code, hdr, post := call(t, "POST", base+"/posts", editor, "application/json", `{"title":"First","body":"hello"}`)
	if code != 201 || hdr.Get("Location") == "" {
		t.Fatalf("create post: %d %v", code, post)
	}
	id := strings.TrimPrefix(hdr.Get("Location"), "/posts/")
	if code, _, m = call(t, "GET", base+"/posts", reader, "", ""); code != 200 || len(m["posts"].([]any)) != 1 {
		t.Fatalf("list posts: %d %v", code, m)
	}
	if code, _, m = call(t, "POST", base+"/posts", reader, "application/json", `{"title":"nope"}`); code != 403 || m["code"] != "forbidden" {
		t.Fatalf("reader creates post: %d %v", code, m)
	}
	if code, _, _ = call(t, "DELETE", base+"/posts/"+id, reader, "", ""); code != 403 {
		t.Fatalf("reader deletes post: %d", code)
	}
	if code, _, _ = call(t, "DELETE", base+"/posts/"+id, admin, "", ""); code != 204 {
		t.Fatalf("admin deletes post: %d", code)
	}
	if code, _, _ = call(t, "GET", base+"/posts/"+id, reader, "", ""); code != 404 {
		t.Fatalf("deleted post: %d", code)
	}

	// Wrong password and unknown user: the same 401.
	c1, _, m1 := call(t, "POST", base+"/login", "", "application/json", `{"username":"ed","password":"wrong-password"}`)
	c2, _, m2 := call(t, "POST", base+"/login", "", "application/json", `{"username":"ghost","password":"wrong-password"}`)
	if c1 != 401 || c2 != 401 || m1["code"] != "invalid_credentials" || m1["detail"] != m2["detail"] {
		t.Fatalf("bad logins: %d %v / %d %v", c1, m1, c2, m2)
	}

	// Tokens the server must refuse.
	keyJSON, err := os.ReadFile(filepath.Join(data, "hs256.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(data, "hs256.jwk"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("generated key file mode %v", st.Mode().Perm())
	}
	key, err := jwt.ParseJWK(keyJSON)
	if err != nil {
		t.Fatal(err)
	}
	expired := auth.AccessClaims{Claims: jwt.Claims{Issuer: "jwtgate", Audience: jwt.Audience{"jwtgate"}, Subject: "2",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Minute)), IssuedAt: jwt.NewNumericDate(time.Now().Add(-20 * time.Minute))}, Name: "ed", Role: auth.RoleEditor}
	expiredTok, _ := jwt.Sign(key, &expired)
	otherKey, _ := jwt.NewHMACKey(jwt.HS256, bytes.Repeat([]byte("o"), 32))
	good := expired
	good.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Minute))
	foreignTok, _ := jwt.Sign(otherKey.WithKeyID(key.KeyID()), &good)
	parts := strings.Split(editor, ".")
	evil := auth.AccessClaims{Claims: good.Claims, Name: "ed", Role: auth.RoleAdmin}
	tampered := parts[0] + "." + strings.Split(mustSignUnverified(t, &evil), ".")[1] + "." + parts[2]
	for name, tc := range map[string]struct {
		token, code string
	}{
		"expired":  {expiredTok, "token_expired"},
		"foreign":  {foreignTok, "token_invalid"},
		"tampered": {tampered, "token_invalid"},
		"missing":  {"", "token_missing"},
	} {
		code, hdr, m := call(t, "GET", base+"/posts", tc.token, "", "")
		if code != 401 || m["code"] != tc.code || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s token: %d %v %q", name, code, m, hdr.Get("WWW-Authenticate"))
		}
	}

	// A disabled user cannot log in.
	if r := jwtgate(t, nil, "", "user", "disable", "rita", "--data", data); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if code, _, _ := call(t, "POST", base+"/login", "", "application/json", `{"username":"rita","password":"reader-password-1"}`); code != 401 {
		t.Fatalf("disabled user logged in: %d", code)
	}
	if code, _, _ := call(t, "GET", base+"/readyz", "", "", ""); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	for _, secret := range []string{"admin-password-1", "editor-password-1", editor} {
		if strings.Contains(logs.String(), secret) {
			t.Fatal("a password or token reached the log")
		}
	}
}

// mustSignUnverified signs with a throwaway key: only the payload segment
// is used, grafted onto a real token.
func mustSignUnverified(t *testing.T, c *auth.AccessClaims) string {
	k, _ := jwt.NewHMACKey(jwt.HS256, bytes.Repeat([]byte("t"), 32))
	tok, err := jwt.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestServeReusesGeneratedKeyAndHonoursEnv(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &serveConfig{Data: data, Alg: "HS256"}
	noEnv := func(string) string { return "" }
	load := func(env func(string) string) (*auth.KeySet, string) {
		t.Helper()
		r, err := newKeyring(ctx, c, env, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ks, err := r.load(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ks, r.source
	}
	k1, src := load(noEnv)
	if src != "database (generated)" || k1.Signing.Algorithm() != jwt.HS256 {
		t.Fatalf("first start: %q %s", src, k1.Signing.Algorithm())
	}
	// The secret is in the data folder too, private.
	fi, err := os.Stat(filepath.Join(data, "hs256.jwk"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("hs256.jwk: %v %v", fi, err)
	}
	k2, src := load(noEnv)
	if src != "database" || k1.Signing.KeyID() != k2.Signing.KeyID() {
		t.Fatalf("restart: %q kid %s vs %s", src, k1.Signing.KeyID(), k2.Signing.KeyID())
	}
	env := map[string]string{"JWTGATE_SECRET": strings.Repeat("e", 32)}
	k3, src := load(func(k string) string { return env[k] })
	if src != "environment" || k3.Signing.KeyID() == k1.Signing.KeyID() {
		t.Fatalf("env secret: %q", src)
	}
	env["JWTGATE_SECRET"] = "short"
	if _, err := newKeyring(ctx, c, func(k string) string { return env[k] }, db, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("accepted a short JWTGATE_SECRET")
	}
	// A rotation in the database is what the next load returns.
	if _, err := auth.RotateSigningKey(ctx, db, jwt.EdDSA, time.Minute, time.Now()); err != nil {
		t.Fatal(err)
	}
	k4, _ := load(noEnv)
	if k4.Signing.Algorithm() != jwt.EdDSA || len(k4.Verify) != 2 || k4.Verify[1].KeyID() != k1.Signing.KeyID() {
		st, _ := db.SigningKeys(ctx)
		t.Fatalf("after rotation: signing %s, %d verify keys %+v", k4.Signing.Algorithm(), len(k4.Verify), st)
	}
}

func TestServeFlagsAndEnv(t *testing.T) {
	env := map[string]string{"JWTGATE_ADDR": "127.0.0.1:9999", "JWTGATE_ACCESS_TTL": "5m"}
	c, err := parseServeFlags([]string{"--access-ttl", "7m"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.Addr != "127.0.0.1:9999" || c.AccessTTL != 7*time.Minute || c.Data != "./jwtgate-data" {
		t.Fatalf("flags over env over defaults: %+v %v", c, err)
	}
	env["JWTGATE_LEEWAY"] = "soon"
	if _, err := parseServeFlags(nil, func(k string) string { return env[k] }, io.Discard); err == nil {
		t.Fatal("accepted a bad JWTGATE_LEEWAY")
	}
	var help bytes.Buffer
	parseServeFlags([]string{"--help"}, func(string) string { return "" }, &help)
	for _, want := range []string{"-addr", "JWTGATE_ADDR", "127.0.0.1:8080", "-data", "-access-ttl", "-issuer", "-audience", "-key-file", "JWTGATE_SECRET_FILE"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// --alg picks among the algorithms a key file allows (an RSA key signs
// RS256 or PS256); without it the key decides; a contradiction is refused.
func TestServeKeyFileAlg(t *testing.T) {
	k, err := jwt.GenerateKey(jwt.RS256)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := jwt.MarshalPEMPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "rsa.pem")
	if err := os.WriteFile(f, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		env  func(string) string
		want jwt.Algorithm // "" means refused
	}{
		{[]string{"--key-file", f}, noEnv, jwt.RS256},
		{[]string{"--key-file", f, "--alg", "PS256"}, noEnv, jwt.PS256},
		{[]string{"--key-file", f}, func(k string) string {
			if k == "JWTGATE_ALG" {
				return "PS384"
			}
			return ""
		}, jwt.PS384},
		{[]string{"--key-file", f, "--alg", "ES256"}, noEnv, ""},
	} {
		c, err := parseServeFlags(tc.args, tc.env, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		key, _, err := configuredKey(c, tc.env)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%v: an RSA key accepted as %s", tc.args, key.Algorithm())
		case tc.want != "" && (err != nil || key.Algorithm() != tc.want):
			t.Errorf("%v: %v %v, want %s", tc.args, key, err, tc.want)
		}
	}
}

// --alg only chooses the first key. On a data folder that already has a
// key set the flag changes nothing, and the log says so and how to switch,
// instead of leaving the operator to think the algorithm changed.
func TestServeAlgOnExistingKeySetWarns(t *testing.T) {
	_, data, first := startServer(t)
	if strings.Contains(first.String(), "first start only") {
		t.Fatalf("warned on the first start: %s", first)
	}
	_, logs := startServerAt(t, data, nil, "--alg", "EdDSA")
	out := logs.String()
	if !strings.Contains(out, "--alg applies to the first start only") || !strings.Contains(out, "key rotate --alg EdDSA") {
		t.Errorf("no warning about the ignored --alg: %s", out)
	}
	if !strings.Contains(out, "alg=HS256") {
		t.Errorf("the active key should still be HS256: %s", out)
	}
	_, same := startServerAt(t, data, nil, "--alg", "HS256")
	if strings.Contains(same.String(), "first start only") {
		t.Errorf("warned although --alg matches the active key: %s", same)
	}
}
