package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

var fastArgon = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// newClock returns the clock shared by a test and its server.
func newClock() *testutil.Clock { return testutil.NewClock(time.Unix(1_700_000_000, 0)) }

type envOptions struct {
	ipLimit    *auth.Limiter
	hasher     *auth.Hasher
	trustProxy bool
	insecure   bool     // InsecureCookies
	key        *jwt.Key // signing key (default: an HS256 test key)
	publicURL  string   // Config.PublicURL
	issuer     string   // default "jwtgate"
	noUsers    bool     // seed no users
	setupHint  string   // Config.SetupHint
	// logWrap, if set, wraps the server's log handler (the JSON one that
	// writes e.logs).
	logWrap func(slog.Handler) slog.Handler
}

type env struct {
	t      *testing.T
	srv    *httptest.Server
	h      *server
	store  *faultStore
	svc    *auth.Service
	tokens *auth.Tokens
	clock  *testutil.Clock
	logs   *testutil.LockedBuffer
}

// Seeded users; each one's password is pw(name).
var seedUsers = []struct {
	name     string
	role     auth.Role
	disabled bool
}{
	{"alice", auth.RoleAdmin, false},
	{"eddie", auth.RoleEditor, false},
	{"edna", auth.RoleEditor, false},
	{"rita", auth.RoleReader, false},
	{"dora", auth.RoleReader, true},
}

func pw(name string) string { return name + "-correct-horse" }

func testKey(t testing.TB, fill string) *jwt.Key {
	t.Helper()
	k, err := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat(fill, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// genKey generates an alg key whose kid is its thumbprint.
func genKey(t testing.TB, alg jwt.Algorithm) *jwt.Key {
	t.Helper()
	k, err := jwt.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := k.Thumbprint()
	if err != nil {
		t.Fatal(err)
	}
	return k.WithKeyID(tp)
}

func newTokens(t testing.TB, key *jwt.Key, c *testutil.Clock) *auth.Tokens {
	t.Helper()
	return newTokensIssuer(t, key, c, "jwtgate")
}

func newTokensIssuer(t testing.TB, key *jwt.Key, c *testutil.Clock, issuer string) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: key, Issuer: issuer, Audience: "jwtgate-api",
		TTL: 15 * time.Minute, Leeway: 30 * time.Second, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func newOIDCTokens(t testing.TB, key *jwt.Key, c *testutil.Clock, issuer, oidcIssuer string) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: key, Issuer: issuer, OIDCIssuer: oidcIssuer, Audience: "jwtgate-api",
		TTL: 15 * time.Minute, Leeway: 30 * time.Second, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, store: newFaultStore(t), clock: newClock(), logs: &testutil.LockedBuffer{}}
	var lh slog.Handler = slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	if o.logWrap != nil {
		lh = o.logWrap(lh)
	}
	log := slog.New(lh)
	if o.hasher == nil {
		o.hasher = auth.NewHasher(fastArgon, 2, time.Second)
	}
	if o.key == nil {
		o.key = testKey(t, "k")
	}
	if o.issuer == "" {
		o.issuer = "jwtgate"
	}
	e.tokens = newOIDCTokens(t, o.key, e.clock, o.issuer, oidcBaseURL(o.publicURL))
	e.svc = &auth.Service{Store: e.store, Hasher: o.hasher, Tokens: e.tokens, IPLimit: o.ipLimit, Now: e.clock.Now, Log: log}
	for _, u := range seedUsers {
		if o.noUsers {
			break
		}
		if _, err := e.svc.CreateUser(context.Background(), u.name, pw(u.name), u.role); err != nil {
			t.Fatal(err)
		}
		if u.disabled {
			yes := true
			if _, err := e.store.UpdateUser(context.Background(), u.name, auth.UserUpdate{Disabled: &yes}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.h = New(Config{Service: e.svc, Log: log, TrustProxyHeaders: o.trustProxy, InsecureCookies: o.insecure, PublicURL: o.publicURL, SetupHint: o.setupHint}).(*server)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

// resp is a response with its body read.
type resp struct {
	*http.Response
	body []byte
}

func (r resp) String() string { return r.Status + " " + string(r.body) }

// req describes a request: method and path, plus optional parts.
type req struct {
	method, path string
	token        string // sent as Authorization: Bearer <token>
	ctype        string
	body         string
	bodyReader   io.Reader // instead of body, e.g. for chunked uploads
	header       http.Header
	host         string // the Host header, instead of the server's address
}

func (e *env) send(q req) resp {
	e.t.Helper()
	var body io.Reader
	if q.bodyReader != nil {
		body = q.bodyReader
	} else if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, e.srv.URL+q.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range q.header {
		r.Header[k] = v
	}
	if q.host != "" {
		r.Host = q.host
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	res, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", q.method, q.path, err)
	}
	return resp{res, b}
}

func (e *env) get(path, token string) resp {
	e.t.Helper()
	return e.send(req{method: "GET", path: path, token: token})
}

func (e *env) sendJSON(method, path, token, body string) resp {
	e.t.Helper()
	return e.send(req{method: method, path: path, token: token, ctype: "application/json", body: body})
}

// login logs name in with JSON and returns the access token.
func (e *env) login(name string) string {
	e.t.Helper()
	r := e.sendJSON("POST", "/login", "", `{"username":`+jsonQuote(name)+`,"password":`+jsonQuote(pw(name))+`}`)
	if r.StatusCode != 200 {
		e.t.Fatalf("login %s: %v", name, r)
	}
	var tok grantResponse
	decodeStrict(e.t, r.body, &tok)
	return tok.AccessToken
}

func loginForm(username, password string) string {
	return url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}.Encode()
}

func decodeStrict(t testing.TB, b []byte, dst any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// wantStatus fails unless r has the status.
func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("got %v, want %d", r, status)
	}
}

// wantProblem checks that r is an RFC 9457 problem with status and code,
// and returns it.
func wantProblem(t testing.TB, r resp, status int, code string) problem {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("got %v, want %d %s", r, status, code)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json (body %s)", ct, r.body)
	}
	var p problem
	decodeStrict(t, r.body, &p)
	if p.Code != code || p.Status != status || p.Type != "urn:jwtgate:problem:"+code || p.Title == "" {
		t.Fatalf("problem %s, want status %d code %s", r.body, status, code)
	}
	return p
}

// waitLog waits until the log holds substr (the access line is written
// as the handler returns, which may be just after the client has the
// response) and returns the whole log.
func (e *env) waitLog(substr string) string {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		s := e.logs.String()
		if strings.Contains(s, substr) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}
