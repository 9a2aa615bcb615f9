package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

// loginGrant logs name in with JSON (extra members added to the body) and
// returns the whole response.
func (e *env) loginGrant(name, extra string) (grantResponse, resp) {
	e.t.Helper()
	r := e.sendJSON("POST", "/login", "", `{"username":`+jsonQuote(name)+`,"password":`+jsonQuote(pw(name))+extra+`}`)
	if r.StatusCode != 200 {
		e.t.Fatalf("login %s: %v", name, r)
	}
	var g grantResponse
	decodeStrict(e.t, r.body, &g)
	return g, r
}

func (e *env) refresh(token string) (grantResponse, resp) {
	e.t.Helper()
	r := e.sendJSON("POST", "/refresh", "", `{"refresh_token":`+jsonQuote(token)+`}`)
	var g grantResponse
	if r.StatusCode == 200 {
		decodeStrict(e.t, r.body, &g)
	}
	return g, r
}

// protectedRoutes are requests every valid admin token may make; a revoked
// token must be refused on each.
var protectedRoutes = []req{
	{method: "GET", path: "/me"},
	{method: "GET", path: "/posts"},
	{method: "GET", path: "/posts/1"},
	{method: "GET", path: "/users"},
	{method: "POST", path: "/posts", ctype: "application/json", body: `{"title":"t","body":"b"}`},
	{method: "GET", path: "/auth/verify"},
	{method: "POST", path: "/logout"},
}

func wantRefused(t *testing.T, e *env, token, code string) {
	t.Helper()
	for _, q := range protectedRoutes {
		q.token = token
		r := e.send(q)
		if r.StatusCode != 401 {
			t.Errorf("%s %s with a revoked token: %v", q.method, q.path, r)
			continue
		}
		if !strings.Contains(string(r.body), `"code":"`+code+`"`) {
			t.Errorf("%s %s: %s, want code %s", q.method, q.path, r.body, code)
		}
		if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s %s: WWW-Authenticate %q", q.method, q.path, r.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestLoginReturnsRefreshToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("rita", "")
	if g.TokenType != "Bearer" || g.AccessToken == "" || len(g.RefreshToken) != 43 || g.ExpiresIn != 900 || g.RefreshExpiresIn != int64(auth.DefaultRefreshTTL/time.Second) || g.CSRFToken != "" {
		t.Fatalf("grant %+v", g)
	}
	p, err := e.tokens.Verify(g.AccessToken)
	if err != nil || p.Claims.SessionID == "" {
		t.Fatalf("access token: %v, sid %q", err, p.Claims.SessionID)
	}
	// The refresh token is stored only as a hash.
	if r, _, err := e.store.RefreshToken(context.Background(), []byte(g.RefreshToken)); err == nil {
		t.Fatalf("refresh token stored in clear: %+v", r)
	}
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t, envOptions{})
	g1, _ := e.loginGrant("eddie", "")
	e.clock.Advance(time.Minute)
	g2, r := e.refresh(g1.RefreshToken)
	wantStatus(t, r, 200)
	if g2.RefreshToken == g1.RefreshToken || g2.AccessToken == g1.AccessToken || g2.TokenType != "Bearer" {
		t.Fatalf("refresh gave %+v", g2)
	}
	p1, _ := e.tokens.Verify(g1.AccessToken)
	p2, err := e.tokens.Verify(g2.AccessToken)
	if err != nil || p2.Claims.SessionID != p1.Claims.SessionID || p2.Name != "eddie" || p2.Role != auth.RoleEditor {
		t.Fatalf("refreshed access token: %v %+v", err, p2)
	}
	// The OAuth 2.0 form works too, with the newest token.
	r = e.send(req{method: "POST", path: "/refresh", ctype: "application/x-www-form-urlencoded", body: "grant_type=refresh_token&refresh_token=" + g2.RefreshToken})
	wantStatus(t, r, 200)
	// Bad requests change nothing.
	for _, q := range []req{
		{ctype: "application/json", body: `{}`},
		{ctype: "application/json", body: `{"refresh_token":"x","extra":1}`},
		{ctype: "text/plain", body: "x"},
		{ctype: "application/x-www-form-urlencoded", body: "grant_type=password&refresh_token=x"},
	} {
		q.method, q.path = "POST", "/refresh"
		if r := e.send(q); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("%s %q: %v", q.ctype, q.body, r)
		}
	}
	wantProblem(t, e.sendJSON("POST", "/refresh", "", `{"refresh_token":"not-a-token"}`), 401, codeRefreshInvalid)
	wantProblem(t, e.sendJSON("POST", "/refresh", "", `{"refresh_token":"`+strings.Repeat("A", 43)+`"}`), 401, codeRefreshInvalid)
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t, envOptions{})
	g1, _ := e.loginGrant("alice", "")
	other, _ := e.loginGrant("alice", "") // a second session of the same user
	g2, r := e.refresh(g1.RefreshToken)
	wantStatus(t, r, 200)
	// The stolen, already-used token comes back: the family dies.
	_, r = e.refresh(g1.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
	_, r = e.refresh(g2.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
	wantRefused(t, e, g2.AccessToken, codeTokenRevoked)
	wantRefused(t, e, g1.AccessToken, codeTokenRevoked)
	// The other session lives on.
	wantStatus(t, e.get("/me", other.AccessToken), 200)
	if _, r := e.refresh(other.RefreshToken); r.StatusCode != 200 {
		t.Fatalf("other session's refresh: %v", r)
	}
	if !strings.Contains(e.waitLog("refresh token reused"), "refresh token reused") {
		t.Error("reuse not logged")
	}
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("rita", "")
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := http.Post(e.srv.URL+"/refresh", "application/json", strings.NewReader(`{"refresh_token":"`+g.RefreshToken+`"}`))
			if err == nil {
				if r.StatusCode == 200 {
					ok.Add(1)
				}
				r.Body.Close()
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 6 concurrent refreshes with one token succeeded, want 1", ok.Load())
	}
}

func TestRefreshLifetimes(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.svc.RefreshTTL, e.svc.SessionTTL = time.Hour, 150*time.Minute
	g, _ := e.loginGrant("rita", "")
	for i := range 2 {
		e.clock.Advance(59 * time.Minute)
		var r resp
		g, r = e.refresh(g.RefreshToken)
		wantStatus(t, r, 200)
		if i == 1 && g.RefreshExpiresIn > int64(32*time.Minute/time.Second) {
			t.Errorf("refresh token outlives its session: %ds", g.RefreshExpiresIn)
		}
	}
	e.clock.Advance(33 * time.Minute) // past the session's absolute end
	_, r := e.refresh(g.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)

	g, _ = e.loginGrant("rita", "")
	e.clock.Advance(time.Hour) // the refresh token itself expired
	_, r = e.refresh(g.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
}

func TestLogoutSeenOnEveryRoute(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("alice", "")
	second, _ := e.loginGrant("alice", "")
	wantStatus(t, e.get("/users", g.AccessToken), 200)
	r := e.send(req{method: "POST", path: "/logout", token: g.AccessToken})
	wantStatus(t, r, 204)
	wantRefused(t, e, g.AccessToken, codeTokenRevoked)
	_, r = e.refresh(g.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
	wantStatus(t, e.get("/me", second.AccessToken), 200) // only that session ended

	// ?all=1 ends the other sessions too, and no other user's.
	third, _ := e.loginGrant("alice", "")
	rita, _ := e.loginGrant("rita", "")
	wantStatus(t, e.send(req{method: "POST", path: "/logout?all=1", token: third.AccessToken}), 204)
	wantRefused(t, e, second.AccessToken, codeTokenRevoked)
	if _, r := e.refresh(second.RefreshToken); r.StatusCode != 401 {
		t.Fatalf("refresh after logout-all: %v", r)
	}
	wantStatus(t, e.get("/me", rita.AccessToken), 200)
	wantProblem(t, e.send(req{method: "POST", path: "/logout?all=maybe", token: rita.AccessToken}), 400, codeInvalidRequest)
	// Revoked tokens stay refused until they expire, then are just expired.
	e.clock.Advance(16 * time.Minute)
	wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenExpired)
}

func TestUserChangesEndSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("alice")
	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
	}{
		{"role", func(t *testing.T) {
			wantStatus(t, e.sendJSON("PATCH", "/users/eddie", admin, `{"role":"reader"}`), 200)
		}},
		{"disable", func(t *testing.T) {
			wantStatus(t, e.sendJSON("PATCH", "/users/eddie", admin, `{"disabled":true}`), 200)
			wantStatus(t, e.sendJSON("PATCH", "/users/eddie", admin, `{"disabled":false}`), 200)
		}},
		{"password", func(t *testing.T) {
			if _, err := e.svc.SetPassword(context.Background(), "eddie", pw("eddie")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := e.loginGrant("eddie", "")
			tc.change(t)
			wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenRevoked)
			_, r := e.refresh(g.RefreshToken)
			wantProblem(t, r, 401, codeRefreshInvalid)
		})
	}
	g, _ := e.loginGrant("edna", "")
	wantStatus(t, e.send(req{method: "DELETE", path: "/users/edna", token: admin}), 204)
	wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenRevoked)
	wantStatus(t, e.get("/me", admin), 200)
}

// cookies returns the Set-Cookie cookies of r by name.
func cookies(r resp) map[string]*http.Cookie {
	m := map[string]*http.Cookie{}
	for _, c := range r.Cookies() {
		m[c.Name] = c
	}
	return m
}

func TestCookieLogin(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		e := newEnv(t, envOptions{insecure: insecure})
		g, r := e.loginGrant("eddie", `,"cookie":true`)
		if g.TokenType != "cookie" || g.AccessToken != "" || g.RefreshToken != "" || g.CSRFToken == "" || g.ExpiresIn != 900 {
			t.Fatalf("cookie login body: %s", r.body)
		}
		// Secure cookies carry the prefixes that make browsers refuse
		// look-alikes set without Secure, with another Path or a Domain.
		names := namesFor(insecure)
		if want := (cookieNames{"__Host-access_token", "__Secure-refresh_token", "__Host-csrf_token"}); !insecure && names != want {
			t.Errorf("secure cookie names %+v, want %+v", names, want)
		}
		if want := (cookieNames{"access_token", "refresh_token", "csrf_token"}); insecure && names != want {
			t.Errorf("insecure cookie names %+v, want %+v", names, want)
		}
		c := cookies(r)
		at, rt, csrf := c[names.access], c[names.refresh], c[names.csrf]
		if at == nil || rt == nil || csrf == nil || len(c) != 3 {
			t.Fatalf("insecure=%v: cookies: %v", insecure, r.Header["Set-Cookie"])
		}
		for _, ck := range []*http.Cookie{at, rt, csrf} {
			if ck.Secure == insecure || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge <= 0 || ck.Domain != "" {
				t.Errorf("insecure=%v: cookie %s: %q", insecure, ck.Name, ck.Raw)
			}
		}
		if !at.HttpOnly || at.Path != "/" || at.MaxAge != 900 {
			t.Errorf("access cookie %q", at.Raw)
		}
		if !rt.HttpOnly || rt.Path != "/refresh" {
			t.Errorf("refresh cookie %q", rt.Raw)
		}
		if csrf.HttpOnly || csrf.Path != "/" || csrf.Value != g.CSRFToken || len(csrf.Value) < 43 {
			t.Errorf("csrf cookie %q", csrf.Raw)
		}
		if _, err := e.tokens.Verify(at.Value); err != nil {
			t.Errorf("access cookie holds no valid token: %v", err)
		}
	}
	e := newEnv(t, envOptions{})
	r := e.send(req{method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: loginForm("rita", pw("rita")) + "&cookie=true"})
	wantStatus(t, r, 200)
	if cookies(r)[CookieAccess] == nil {
		t.Fatal("form login with cookie=true set no cookie")
	}
	wantProblem(t, e.send(req{method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: loginForm("rita", pw("rita")) + "&cookie=maybe"}), 400, codeInvalidRequest)
}

// cookieReq builds a request carrying the login's cookies and, if csrf is
// not empty, an X-CSRF-Token header.
func cookieReq(method, path string, c map[string]*http.Cookie, csrf string) req {
	h := http.Header{}
	var parts []string
	for _, name := range []string{CookieAccess, CookieRefresh, CookieCSRF} {
		if ck := c[name]; ck != nil {
			parts = append(parts, name+"="+ck.Value)
		}
	}
	h.Set("Cookie", strings.Join(parts, "; "))
	if csrf != "" {
		h.Set("X-CSRF-Token", csrf)
	}
	return req{method: method, path: path, header: h}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, r := e.loginGrant("eddie", `,"cookie":true`)
	c := cookies(r)
	csrf := c[CookieCSRF].Value

	wantStatus(t, e.send(cookieReq("GET", "/me", c, "")), 200) // reads need no CSRF header
	post := func(csrf string) resp {
		q := cookieReq("POST", "/posts", c, csrf)
		q.ctype, q.body = "application/json", `{"title":"by cookie","body":"b"}`
		return e.send(q)
	}
	wantProblem(t, post(""), 403, codeCSRF)
	wantProblem(t, post(csrf[:len(csrf)-1]+"x"), 403, codeCSRF)
	if ps, _ := e.store.ListPosts(context.Background(), 10, 0); len(ps) != 0 {
		t.Fatalf("a refused request stored a post")
	}
	wantStatus(t, post(csrf), 201)
	// A Bearer request needs no CSRF token, even with cookies present.
	q := cookieReq("POST", "/posts", c, "")
	q.token, q.ctype, q.body = e.login("eddie"), "application/json", `{"title":"by bearer"}`
	wantStatus(t, e.send(q), 201)

	// Refresh by cookie: CSRF header needed; new cookies, same CSRF token.
	wantProblem(t, e.send(cookieReq("POST", "/refresh", c, "")), 403, codeCSRF)
	r = e.send(cookieReq("POST", "/refresh", c, csrf))
	wantStatus(t, r, 200)
	nc := cookies(r)
	if nc[CookieAccess] == nil || nc[CookieAccess].Value == c[CookieAccess].Value || nc[CookieRefresh] == nil || nc[CookieCSRF].Value != csrf {
		t.Fatalf("refresh by cookie set %v", r.Header["Set-Cookie"])
	}
	// The old refresh cookie is now a reused token: the session ends and
	// the cookies are cleared.
	r = e.send(cookieReq("POST", "/refresh", c, csrf))
	wantProblem(t, r, 401, codeRefreshInvalid)
	if ck := cookies(r)[CookieAccess]; ck == nil || ck.MaxAge >= 0 {
		t.Errorf("failed refresh did not clear the access cookie: %v", r.Header["Set-Cookie"])
	}

	// Logout by cookie needs CSRF too, and clears the cookies.
	_, r = e.loginGrant("rita", `,"cookie":true`)
	c = cookies(r)
	wantProblem(t, e.send(cookieReq("POST", "/logout", c, "")), 403, codeCSRF)
	r = e.send(cookieReq("POST", "/logout", c, c[CookieCSRF].Value))
	wantStatus(t, r, 204)
	for _, name := range []string{CookieAccess, CookieRefresh, CookieCSRF} {
		if ck := cookies(r)[name]; ck == nil || ck.MaxAge >= 0 {
			t.Errorf("logout did not clear %s: %v", name, r.Header["Set-Cookie"])
		}
	}
	wantProblem(t, e.send(cookieReq("GET", "/me", c, "")), 401, codeTokenRevoked)
}

func TestForwardAuth(t *testing.T) {
	e := newEnv(t, envOptions{})
	editor := e.login("eddie")
	r := e.get("/auth/verify", editor)
	wantStatus(t, r, 200)
	if r.Header.Get("X-Auth-User") != "eddie" || r.Header.Get("X-Auth-Role") != "editor" || r.Header.Get("X-Auth-Subject") == "" {
		t.Fatalf("headers %v", r.Header)
	}
	wantStatus(t, e.get("/auth/verify?role=editor", editor), 200)
	wantStatus(t, e.get("/auth/verify?role=reader", editor), 200)
	wantProblem(t, e.get("/auth/verify?role=admin", editor), 403, codeForbidden)
	wantProblem(t, e.get("/auth/verify?role=root", editor), 400, codeInvalidRequest)
	wantProblem(t, e.get("/auth/verify", ""), 401, codeTokenMissing)
	wantProblem(t, e.get("/auth/verify", editor+"x"), 401, codeTokenInvalid)
	// Proxies may pass the original method.
	wantStatus(t, e.send(req{method: "POST", path: "/auth/verify", token: editor}), 200)

	_, lr := e.loginGrant("rita", `,"cookie":true`)
	c := cookies(lr)
	wantStatus(t, e.send(cookieReq("GET", "/auth/verify", c, "")), 200)
	q := cookieReq("GET", "/auth/verify", c, "")
	q.header.Set("X-Forwarded-Method", "DELETE")
	wantProblem(t, e.send(q), 403, codeCSRF)
	q.header.Set("X-CSRF-Token", c[CookieCSRF].Value)
	wantStatus(t, e.send(q), 200)
}

func TestJWKSWithSharedSecret(t *testing.T) {
	e := newEnv(t, envOptions{})
	wantProblem(t, e.get("/.well-known/jwks.json", ""), 404, codeNoPublicKeys)
	wantProblem(t, e.get("/.well-known/openid-configuration", ""), 404, codeNoPublicKeys)
}

func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	var keys []*jwt.Key
	for _, alg := range []jwt.Algorithm{jwt.EdDSA, jwt.ES256, jwt.RS256} {
		keys = append(keys, genKey(t, alg))
	}
	e := newEnv(t, envOptions{key: keys[0], publicURL: "https://auth.example.test/"})
	hmac := testKey(t, "h").WithKeyID("hmac")
	if err := e.tokens.SetKeys(keys[0], []*jwt.Key{keys[1], keys[2], hmac}); err != nil {
		t.Fatal(err)
	}
	r := e.get("/.well-known/jwks.json", "")
	wantStatus(t, r, 200)
	if r.Header.Get("Content-Type") != "application/jwk-set+json" || !strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("headers %v", r.Header)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 3 {
		t.Fatalf("JWKS %s: %v", r.body, err)
	}
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v has private member %q", k["kid"], private)
			}
		}
	}
	parsed, err := jwt.ParseJWKS(r.body)
	if err != nil || len(parsed) != 3 {
		t.Fatalf("ParseJWKS: %v", err)
	}
	// A token the server issues verifies with the published keys alone.
	tok := e.login("rita")
	v, err := jwt.NewVerifier(parsed, jwt.WithClock(e.clock.Now), jwt.WithIssuer("jwtgate"), jwt.WithAudience("jwtgate-api"))
	if err != nil {
		t.Fatal(err)
	}
	var c auth.AccessClaims
	if err := v.Verify(tok, &c); err != nil || c.Name != "rita" {
		t.Fatalf("verify with JWKS: %v", err)
	}

	r = e.get("/.well-known/openid-configuration", "")
	wantStatus(t, r, 200)
	var oc map[string]any
	if err := json.Unmarshal(r.body, &oc); err != nil {
		t.Fatal(err)
	}
	// An OpenID provider: its issuer is the public URL; no password grant at /login.
	if oc["issuer"] != "https://auth.example.test" || oc["jwks_uri"] != "https://auth.example.test/.well-known/jwks.json" || oc["token_endpoint"] != "https://auth.example.test/oauth2/token" {
		t.Fatalf("openid-configuration %s", r.body)
	}
	if algs, _ := oc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != string(keys[0].Algorithm()) { // ID tokens: the signing key only
		t.Fatalf("algorithms %v", oc["id_token_signing_alg_values_supported"])
	}
}

// TestRotationUnderLoad hammers protected routes with tokens from the old
// and the new key while the key set changes: none fails during the grace
// period; once the old key is dropped its tokens are refused at once,
// even those verified (and cached) before.
func TestRotationUnderLoad(t *testing.T) {
	oldKey := testKey(t, "o").WithKeyID("old")
	newKey := testKey(t, "n").WithKeyID("new")
	e := newEnv(t, envOptions{key: oldKey})
	oldTok := e.login("rita")
	if err := e.tokens.SetKeys(newKey, []*jwt.Key{oldKey}); err != nil {
		t.Fatal(err)
	}
	newTok := e.login("rita")
	if h, _ := jwt.DecodeUnverified(newTok); h.KeyID != "new" {
		t.Fatalf("new token signed by %q", h.KeyID)
	}
	stop := make(chan struct{})
	var failures, calls atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := []string{oldTok, newTok}[i%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				q, _ := http.NewRequest("GET", e.srv.URL+"/me", nil)
				q.Header.Set("Authorization", "Bearer "+tok)
				r, err := e.srv.Client().Do(q)
				calls.Add(1)
				if err != nil || r.StatusCode != 200 {
					failures.Add(1)
				}
				if err == nil {
					r.Body.Close()
				}
			}
		}()
	}
	for range 50 { // keep swapping between equivalent key sets under load
		if err := e.tokens.SetKeys(newKey, []*jwt.Key{oldKey}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || calls.Load() < 50 {
		t.Fatalf("%d of %d calls failed during the grace period", failures.Load(), calls.Load())
	}
	// Grace over: the old key is gone.
	if err := e.tokens.SetKeys(newKey, nil); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, e.get("/me", oldTok), 401, codeTokenInvalid)
	wantStatus(t, e.get("/me", newTok), 200)
}
