package guard_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/jwt"
)

// keyServer serves a JWKS that tests change, counting the fetches.
type keyServer struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	ctype   string
	delay   time.Duration
	fetches atomic.Int64
}

func newKeyServer(t *testing.T, keys ...*jwt.Key) *keyServer {
	ks := &keyServer{t: t, status: 200, ctype: "application/jwk-set+json"}
	ks.setKeys(keys...)
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		doc, status, ctype, delay := ks.doc, ks.status, ks.ctype, ks.delay
		ks.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		w.Write(doc)
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keyServer) setKeys(keys ...*jwt.Key) {
	doc, err := jwt.MarshalJWKS(keys...)
	if err != nil {
		ks.t.Fatal(err)
	}
	ks.setDoc(doc)
}

func (ks *keyServer) setDoc(doc []byte) {
	ks.mu.Lock()
	ks.doc = doc
	ks.mu.Unlock()
}

func (ks *keyServer) url() string { return ks.srv.URL + "/.well-known/jwks.json" }

// clock is the guard's time source (Config.Now) that tests move forward
// instead of waiting. The guard module imports nothing of the server's,
// whose tests share a fuller testutil.Clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Unix(1_800_000_000, 0).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// eventually fails the test unless cond holds within five seconds; what
// names the condition.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
	}
}

func genKey(t *testing.T, alg jwt.Algorithm) *jwt.Key {
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

// token signs jwtgate-shaped claims; edit changes them first.
func token(t *testing.T, k *jwt.Key, now time.Time, role string, edit ...func(*guard.Claims)) string {
	t.Helper()
	c := &guard.Claims{
		Claims: jwt.Claims{
			Issuer: "jwtgate", Subject: "42", Audience: jwt.Audience{"jwtgate"},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			ID: "jti-1",
		},
		Name: "ada", Role: role, SessionID: "s1",
	}
	for _, e := range edit {
		e(c)
	}
	tok, err := jwt.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// echo answers with the claims the guard put in the context.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := guard.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims in context", 500)
		return
	}
	fmt.Fprintf(w, "%s %s %s %s", c.Subject, c.Name, c.Role, c.SessionID)
})

type result struct {
	code    int
	body    string
	problem map[string]any
	header  http.Header
}

func do(t *testing.T, h http.Handler, method, tok string, edit ...func(*http.Request)) result {
	t.Helper()
	r := httptest.NewRequest(method, "/x", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, e := range edit {
		e(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := result{code: w.Code, body: w.Body.String(), header: w.Header()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		if err := json.Unmarshal(w.Body.Bytes(), &res.problem); err != nil {
			t.Fatalf("problem body %q: %v", w.Body, err)
		}
	}
	return res
}

func (r result) wantCode(t *testing.T, status int, code string) {
	t.Helper()
	if r.code != status || (code != "" && r.problem["code"] != code) {
		t.Fatalf("got %d %q, want %d %s", r.code, r.body, status, code)
	}
}

func newGuard(t *testing.T, cfg guard.Config) *guard.Guard {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	g, err := guard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNewRefusesBadConfig(t *testing.T) {
	k := genKey(t, jwt.EdDSA)
	for name, cfg := range map[string]guard.Config{
		"neither":     {},
		"both":        {JWKSURL: "https://a.example/jwks.json", Keys: []*jwt.Key{k}},
		"not http":    {JWKSURL: "file:///etc/passwd"},
		"no host":     {JWKSURL: "https:///jwks.json"},
		"kid clashes": {Keys: []*jwt.Key{k, genKey(t, jwt.EdDSA).WithKeyID(k.KeyID())}},
	} {
		if _, err := guard.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestRequireWithJWKS(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	ks := newKeyServer(t, k)
	g := newGuard(t, guard.Config{JWKSURL: ks.url(), Now: clk.Now})
	h := g.Require(echo)
	now := clk.Now()

	r := do(t, h, "GET", token(t, k, now, "reader"))
	if r.code != 200 || r.body != "42 ada reader s1" {
		t.Fatalf("valid token: %d %q", r.code, r.body)
	}

	r = do(t, h, "GET", "")
	r.wantCode(t, 401, "token_missing")
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate %q", got)
	}

	good := token(t, k, now, "reader")
	parts := strings.Split(good, ".")
	payload := []byte(parts[1])
	payload[10] ^= 1
	refused := map[string]string{
		"tampered payload": parts[0] + "." + string(payload) + "." + parts[2],
		"stripped sig":     parts[0] + "." + parts[1] + ".",
		"two segments":     parts[0] + "." + parts[1],
		"other key":        token(t, genKey(t, jwt.EdDSA).WithKeyID(k.KeyID()), now, "reader"),
		"wrong issuer":     token(t, k, now, "reader", func(c *guard.Claims) { c.Issuer = "evil" }),
		"wrong audience":   token(t, k, now, "reader", func(c *guard.Claims) { c.Audience = jwt.Audience{"other"} }),
		"no exp":           token(t, k, now, "reader", func(c *guard.Claims) { c.ExpiresAt = jwt.NumericDate{} }),
		"alg none":         "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
	}
	for name, tok := range refused {
		r := do(t, h, "GET", tok)
		r.wantCode(t, 401, "token_invalid")
		if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q", name, r.header.Get("WWW-Authenticate"))
		}
		if strings.Contains(r.body, tok) {
			t.Errorf("%s: the token is echoed in the response", name)
		}
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1: only unknown kids and age cause a re-fetch", n)
	}
	clk.Advance(15*time.Minute + 31*time.Second) // past exp and the 30 s leeway
	do(t, h, "GET", good).wantCode(t, 401, "token_expired")
	// The set is re-read once it is older than RefreshInterval, in the
	// background.
	eventually(t, "a second JWKS fetch", func() bool { return ks.fetches.Load() == 2 })
	do(t, h, "GET", good).wantCode(t, 401, "token_expired")
	if n := ks.fetches.Load(); n != 2 {
		t.Errorf("%d JWKS fetches, want 2", n)
	}
}

// HS256 with the key's own public JWK bytes as the secret is the classic
// key-confusion attack; the header must never pick the key type.
func TestKeyConfusionRefused(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.ES256)
	ks := newKeyServer(t, k)
	h := newGuard(t, guard.Config{JWKSURL: ks.url(), Now: clk.Now}).Require(echo)
	pub, err := k.MarshalPublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	forged, err := jwt.NewHMACKey(jwt.HS256, pub)
	if err != nil {
		t.Fatal(err)
	}
	do(t, h, "GET", token(t, forged.WithKeyID(k.KeyID()), clk.Now(), "admin")).wantCode(t, 401, "token_invalid")
}

func TestRequireRoleRanks(t *testing.T) {
	clk := newClock()
	secret := make([]byte, 32)
	rand.Read(secret)
	k, err := jwt.NewHMACKey(jwt.HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	g := newGuard(t, guard.Config{Keys: []*jwt.Key{k}, Now: clk.Now})
	for _, tc := range []struct {
		need, have string
		ok         bool
	}{
		{"reader", "reader", true}, {"reader", "admin", true},
		{"editor", "reader", false}, {"editor", "editor", true}, {"editor", "admin", true},
		{"admin", "editor", false}, {"admin", "admin", true},
		{"reader", "root", false}, {"reader", "", false},
	} {
		r := do(t, g.RequireRole(tc.need, echo), "GET", token(t, k, clk.Now(), tc.have))
		if tc.ok && r.code != 200 {
			t.Errorf("%s on a %s route: %d %s", tc.have, tc.need, r.code, r.body)
		}
		if !tc.ok {
			r.wantCode(t, 403, "forbidden")
		}
	}
	// Require takes any role a valid token carries.
	if r := do(t, g.Require(echo), "GET", token(t, k, clk.Now(), "root")); r.code != 200 {
		t.Errorf("Require: %d", r.code)
	}
	defer func() {
		if recover() == nil {
			t.Error("RequireRole accepted an unknown role")
		}
	}()
	g.RequireRole("superuser", echo)
}

func TestCookieAndCSRF(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	g := newGuard(t, guard.Config{Keys: []*jwt.Key{k.Public()}, Now: clk.Now})
	h := g.Require(echo)
	tok := token(t, k, clk.Now(), "editor")
	cookies := func(csrfCookie, csrfHeader string) func(*http.Request) {
		return func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "access_token", Value: tok})
			if csrfCookie != "" {
				r.AddCookie(&http.Cookie{Name: "csrf_token", Value: csrfCookie})
			}
			if csrfHeader != "" {
				r.Header.Set("X-CSRF-Token", csrfHeader)
			}
		}
	}
	if r := do(t, h, "GET", "", cookies("", "")); r.code != 200 {
		t.Fatalf("GET by cookie: %d %s", r.code, r.body)
	}
	do(t, h, "POST", "", cookies("", "")).wantCode(t, 403, "csrf_failed")
	do(t, h, "POST", "", cookies("abc", "")).wantCode(t, 403, "csrf_failed")
	do(t, h, "DELETE", "", cookies("abc", "abd")).wantCode(t, 403, "csrf_failed")
	do(t, h, "PATCH", "", cookies("", "abc")).wantCode(t, 403, "csrf_failed")
	if r := do(t, h, "POST", "", cookies("abc", "abc")); r.code != 200 {
		t.Errorf("POST with matching CSRF: %d %s", r.code, r.body)
	}
	// A Bearer header needs no CSRF token; it wins over a cookie.
	if r := do(t, h, "POST", tok); r.code != 200 {
		t.Errorf("POST by Bearer: %d %s", r.code, r.body)
	}
	do(t, h, "GET", "garbage", cookies("", "")).wantCode(t, 401, "token_invalid")

	off := newGuard(t, guard.Config{Keys: []*jwt.Key{k.Public()}, Now: clk.Now, Cookie: "-"}).Require(echo)
	do(t, off, "GET", "", cookies("", "")).wantCode(t, 401, "token_missing")
}

// TestHostPrefixedCookies: jwtgate's cookies are __Host- prefixed unless
// it runs with --insecure-cookies; the guard reads both, the prefixed one
// first, and the CSRF cookie must be the access cookie's partner: a
// tossed unprefixed csrf_token cannot pass for a __Host- session's.
func TestHostPrefixedCookies(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	h := newGuard(t, guard.Config{Keys: []*jwt.Key{k.Public()}, Now: clk.Now}).RequireRole("editor", echo)
	editor, reader := token(t, k, clk.Now(), "editor"), token(t, k, clk.Now(), "reader")
	jar := func(cookies map[string]string, csrfHeader string) func(*http.Request) {
		return func(r *http.Request) {
			for name, v := range cookies {
				r.AddCookie(&http.Cookie{Name: name, Value: v})
			}
			if csrfHeader != "" {
				r.Header.Set("X-CSRF-Token", csrfHeader)
			}
		}
	}
	for _, tc := range []struct {
		name    string
		method  string
		cookies map[string]string
		header  string
		status  int
		code    string
	}{
		{"__Host- access cookie", "GET", map[string]string{"__Host-access_token": editor}, "", 200, ""},
		{"plain access cookie", "GET", map[string]string{"access_token": editor}, "", 200, ""},
		{"__Host- read first", "GET", map[string]string{"__Host-access_token": editor, "access_token": reader}, "", 200, ""},
		{"__Host- read first, the other ignored", "GET", map[string]string{"__Host-access_token": reader, "access_token": editor}, "", 403, "forbidden"},
		{"__Host- write with its CSRF cookie", "POST", map[string]string{"__Host-access_token": editor, "__Host-csrf_token": "abc"}, "abc", 200, ""},
		{"__Host- write with a plain CSRF cookie", "POST", map[string]string{"__Host-access_token": editor, "csrf_token": "abc"}, "abc", 403, "csrf_failed"},
		{"plain write with a __Host- CSRF cookie", "POST", map[string]string{"access_token": editor, "__Host-csrf_token": "abc"}, "abc", 403, "csrf_failed"},
		{"plain write with its CSRF cookie", "POST", map[string]string{"access_token": editor, "csrf_token": "abc"}, "abc", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, tc.method, "", jar(tc.cookies, tc.header))
			if tc.status == 200 {
				if r.code != 200 {
					t.Fatalf("%d %s", r.code, r.body)
				}
				return
			}
			r.wantCode(t, tc.status, tc.code)
		})
	}
	// A Config.Cookie names the one cookie read.
	only := newGuard(t, guard.Config{Keys: []*jwt.Key{k.Public()}, Now: clk.Now, Cookie: "access_token"}).Require(echo)
	do(t, only, "GET", "", jar(map[string]string{"__Host-access_token": editor}, "")).wantCode(t, 401, "token_missing")
}

func TestRotationRefetchesOnUnknownKid(t *testing.T) {
	clk := newClock()
	old, next := genKey(t, jwt.EdDSA), genKey(t, jwt.ES256)
	ks := newKeyServer(t, old)
	g := newGuard(t, guard.Config{JWKSURL: ks.url(), Now: clk.Now, MinRefreshInterval: time.Minute})
	h := g.Require(echo)
	if r := do(t, h, "GET", token(t, old, clk.Now(), "reader")); r.code != 200 {
		t.Fatalf("old key: %d", r.code)
	}
	ks.setKeys(next, old) // the server rotated; the old key is in its grace period
	// Within MinRefreshInterval of the last fetch the unknown kid waits.
	do(t, h, "GET", token(t, next, clk.Now(), "reader")).wantCode(t, 401, "token_invalid")
	clk.Advance(time.Minute)
	if r := do(t, h, "GET", token(t, next, clk.Now(), "reader")); r.code != 200 {
		t.Fatalf("new key after rotation: %d %s", r.code, r.body)
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	if r := do(t, h, "GET", token(t, old, clk.Now(), "reader")); r.code != 200 {
		t.Fatalf("old key in its grace period: %d", r.code)
	}
	// Grace over: the old key leaves the set; the periodic re-read, in
	// the background, drops it.
	ks.setKeys(next)
	clk.Advance(guard.DefaultRefreshInterval)
	oldTok := token(t, old, clk.Now(), "reader")
	if r := do(t, h, "GET", oldTok); r.code != 200 {
		t.Fatalf("old key while the re-read runs: %d", r.code)
	}
	eventually(t, "the old key to be dropped", func() bool { return do(t, h, "GET", oldTok).code == 401 })
	do(t, h, "GET", oldTok).wantCode(t, 401, "token_invalid")
	if r := do(t, h, "GET", token(t, next, clk.Now(), "reader")); r.code != 200 {
		t.Fatalf("new key: %d", r.code)
	}
}

// Tokens with made-up key ids must not turn into a stream of JWKS fetches.
func TestUnknownKidFetchesAreRateLimited(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	ks := newKeyServer(t, k)
	g := newGuard(t, guard.Config{JWKSURL: ks.url(), Now: clk.Now, MinRefreshInterval: 10 * time.Second})
	h := g.Require(echo)
	do(t, h, "GET", token(t, k, clk.Now(), "reader")) // first fetch
	clk.Advance(11 * time.Second)

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forged := genKey(t, jwt.EdDSA).WithKeyID(fmt.Sprintf("forged-%d", i))
			if r := do(t, h, "GET", token(t, forged, clk.Now(), "admin")); r.code != 401 {
				t.Errorf("forged kid: %d", r.code)
			}
		}()
	}
	wg.Wait()
	if n := ks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches for 200 unknown kids, want 2 (the first and one refresh)", n)
	}
	clk.Advance(11 * time.Second)
	do(t, h, "GET", token(t, genKey(t, jwt.EdDSA).WithKeyID("x"), clk.Now(), "admin"))
	if n := ks.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after the interval, want 3", n)
	}
}

// Concurrent first requests share one fetch.
func TestFirstFetchIsShared(t *testing.T) {
	k := genKey(t, jwt.EdDSA)
	ks := newKeyServer(t, k)
	ks.delay = 100 * time.Millisecond
	h := newGuard(t, guard.Config{JWKSURL: ks.url()}).Require(echo)
	tok := token(t, k, time.Now(), "reader")
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := do(t, h, "GET", tok); r.code != 200 {
				t.Errorf("%d %s", r.code, r.body)
			}
		}()
	}
	wg.Wait()
	if n := ks.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 50 concurrent first requests, want 1", n)
	}
}

func TestBadJWKSDocuments(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	secret := make([]byte, 32)
	rand.Read(secret)
	oct, err := jwt.NewHMACKey(jwt.HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	oct = oct.WithKeyID("shared")
	octJWK, err := oct.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	pubJWK, err := k.MarshalPublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	privJWK, err := k.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	set := func(jwks ...[]byte) []byte {
		return []byte(`{"keys":[` + string(bytes.Join(jwks, []byte(","))) + `]}`)
	}
	big := set(pubJWK)
	big = append(big[:len(big)-1], []byte(`,"pad":"`+strings.Repeat("x", 2<<10)+`"}`)...)

	for _, tc := range []struct {
		name    string
		doc     []byte
		status  int
		ctype   string
		tok     string
		code    int
		problem string
	}{
		{"only a symmetric key", set(octJWK), 200, "", token(t, oct, clk.Now(), "admin"), 503, "unavailable"},
		{"symmetric key beside a public one", set(octJWK, pubJWK), 200, "", token(t, oct, clk.Now(), "admin"), 401, "token_invalid"},
		{"private key reduced to public", set(privJWK), 200, "", token(t, k, clk.Now(), "reader"), 200, ""},
		{"too large", big, 200, "", token(t, k, clk.Now(), "reader"), 503, "unavailable"},
		{"not JSON", []byte("<html>"), 200, "", token(t, k, clk.Now(), "reader"), 503, "unavailable"},
		{"HTML content type", set(pubJWK), 200, "text/html", token(t, k, clk.Now(), "reader"), 503, "unavailable"},
		{"server error", set(pubJWK), 500, "", token(t, k, clk.Now(), "reader"), 503, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newKeyServer(t)
			ks.doc, ks.status = tc.doc, tc.status
			if tc.ctype != "" {
				ks.ctype = tc.ctype
			}
			g := newGuard(t, guard.Config{JWKSURL: ks.url(), Now: clk.Now, MaxJWKSBytes: 2 << 10})
			r := do(t, g.Require(echo), "GET", tc.tok)
			if tc.code == 200 {
				if r.code != 200 {
					t.Fatalf("%d %s", r.code, r.body)
				}
				return
			}
			r.wantCode(t, tc.code, tc.problem)
			if tc.code == 503 && r.header.Get("Retry-After") != "10" {
				t.Errorf("503 with Retry-After %q, want 10 (MinRefreshInterval)", r.header.Get("Retry-After"))
			}
		})
	}
}

// A JWKS outage after the first fetch keeps the known keys working; a
// guard with no keys yet refuses with 503 without fetching per request.
func TestJWKSOutage(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	ks := newKeyServer(t, k)
	g := newGuard(t, guard.Config{JWKSURL: ks.url(), Now: clk.Now})
	h := g.Require(echo)
	if r := do(t, h, "GET", token(t, k, clk.Now(), "reader")); r.code != 200 {
		t.Fatal(r.code)
	}
	ks.mu.Lock()
	ks.status = 503
	ks.mu.Unlock()
	clk.Advance(guard.DefaultRefreshInterval + time.Second)
	for i := range 5 {
		if r := do(t, h, "GET", token(t, k, clk.Now(), "reader")); r.code != 200 {
			t.Fatalf("known key during a JWKS outage: %d %s", r.code, r.body)
		}
		if i == 0 {
			eventually(t, "the failed re-read", func() bool { return ks.fetches.Load() == 2 })
		}
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (one failed re-read, then back-off)", n)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close()
	cold := newGuard(t, guard.Config{JWKSURL: url + "/jwks.json", Now: clk.Now}).Require(echo)
	do(t, cold, "GET", token(t, k, clk.Now(), "reader")).wantCode(t, 503, "unavailable")
}

func TestVerifyErrors(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	g := newGuard(t, guard.Config{Keys: []*jwt.Key{k.Public()}, Now: clk.Now, Leeway: -1})
	tok := token(t, k, clk.Now(), "reader")
	clk.Advance(15*time.Minute + time.Second)
	if _, err := g.Verify(t.Context(), tok); !errors.Is(err, jwt.ErrExpired) {
		t.Fatalf("Verify with no leeway, 1 s after exp: %v", err)
	}
	if _, err := g.Verify(t.Context(), "a.b.c"); !errors.Is(err, jwt.ErrMalformed) {
		t.Fatalf("Verify(a.b.c): %v", err)
	}
}

// A key set past RefreshInterval is re-read in the background: requests
// keep being answered with the keys at hand while the JWKS endpoint
// hangs, and pick up the new set once it arrives.
func TestRefreshDoesNotBlockRequests(t *testing.T) {
	clk := newClock()
	k, k2 := genKey(t, jwt.EdDSA), genKey(t, jwt.EdDSA)
	before, err := jwt.MarshalJWKS(k)
	if err != nil {
		t.Fatal(err)
	}
	after, err := jwt.MarshalJWKS(k, k2)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := before
		if fetches.Add(1) > 1 {
			<-release // every fetch after the first hangs until released
			doc = after
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before srv.Close, which waits for handlers

	h := newGuard(t, guard.Config{JWKSURL: srv.URL, Now: clk.Now}).Require(echo)
	if r := do(t, h, "GET", token(t, k, clk.Now(), "reader")); r.code != 200 {
		t.Fatalf("first request: %d %s", r.code, r.body)
	}
	clk.Advance(guard.DefaultRefreshInterval + time.Second)

	// All requests are answered at once, and they start one fetch between them.
	answered := make(chan int, 20)
	for range cap(answered) {
		go func() { answered <- do(t, h, "GET", token(t, k, clk.Now(), "reader")).code }()
	}
	timeout := time.After(2 * time.Second)
	for range cap(answered) {
		select {
		case code := <-answered:
			if code != 200 {
				t.Fatalf("request during the refresh: %d", code)
			}
		case <-timeout:
			t.Fatal("a request waited for the JWKS refresh although the guard held good keys")
		}
	}
	eventually(t, "the background fetch", func() bool { return fetches.Load() == 2 })

	unblock()
	if r := do(t, h, "GET", token(t, k2, clk.Now(), "reader")); r.code != 200 {
		t.Fatalf("key from the refreshed set: %d %s", r.code, r.body)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2: the refresh is single-flight", n)
	}
}

// The guard finds credentials and applies the CSRF check exactly as
// jwtgate's httpapi does (findCredentials, bearerToken, changesState,
// csrfOK there); TestAgainstJwtgate checks the header cases against a
// real server.
func TestCredentialsLikeJwtgate(t *testing.T) {
	clk := newClock()
	k := genKey(t, jwt.EdDSA)
	h := newGuard(t, guard.Config{Keys: []*jwt.Key{k.Public()}, Now: clk.Now}).Require(echo)
	tok := token(t, k, clk.Now(), "editor")
	header := func(name string, vals ...string) func(*http.Request) {
		return func(r *http.Request) { r.Header[http.CanonicalHeaderKey(name)] = vals }
	}
	cookie := func(name, val string) func(*http.Request) {
		return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: val}) }
	}
	access, csrf := cookie("access_token", tok), cookie("csrf_token", "abc")
	for _, tc := range []struct {
		name   string
		method string
		edit   []func(*http.Request)
		status int
		code   string
	}{
		// Another scheme is no Bearer token: token_missing, or the cookie.
		{"Basic", "GET", []func(*http.Request){header("Authorization", "Basic Zm9vOmJhcg==")}, 401, "token_missing"},
		{"Basic with cookie", "GET", []func(*http.Request){header("Authorization", "Basic Zm9vOmJhcg=="), access}, 200, ""},
		{"Basic with cookie, POST needs CSRF", "POST", []func(*http.Request){header("Authorization", "Basic Zm9vOmJhcg=="), access}, 403, "csrf_failed"},
		// An empty Authorization header is as good as none.
		{"empty Authorization", "GET", []func(*http.Request){header("Authorization", "")}, 401, "token_missing"},
		{"empty Authorization with cookie", "GET", []func(*http.Request){header("Authorization", ""), access}, 200, ""},
		// Malformed Bearer headers are token_invalid.
		{"Bearer without token", "GET", []func(*http.Request){header("Authorization", "Bearer")}, 401, "token_invalid"},
		{"Bearer and tab", "GET", []func(*http.Request){header("Authorization", "Bearer\t"+tok)}, 401, "token_invalid"},
		{"two Authorization headers", "GET", []func(*http.Request){header("Authorization", "Bearer "+tok, "Basic x")}, 401, "token_invalid"},
		{"lower-case bearer", "GET", []func(*http.Request){header("Authorization", "bearer "+tok)}, 200, ""},
		// TRACE changes state as far as jwtgate is concerned.
		{"TRACE by cookie without CSRF", "TRACE", []func(*http.Request){access}, 403, "csrf_failed"},
		{"TRACE by cookie with CSRF", "TRACE", []func(*http.Request){access, csrf, header("X-CSRF-Token", "abc")}, 200, ""},
		// Exactly one X-CSRF-Token header.
		{"two X-CSRF-Token headers", "POST", []func(*http.Request){access, csrf, header("X-CSRF-Token", "abc", "abc")}, 403, "csrf_failed"},
		{"one X-CSRF-Token header", "POST", []func(*http.Request){access, csrf, header("X-CSRF-Token", "abc")}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, tc.method, "", tc.edit...)
			if tc.status == 200 {
				if r.code != 200 {
					t.Fatalf("%d %s", r.code, r.body)
				}
				return
			}
			r.wantCode(t, tc.status, tc.code)
		})
	}
}
