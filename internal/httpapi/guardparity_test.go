package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

// TestGuardSpeaksLikeServer sends the same refused requests to jwtgate and
// to a guard-protected handler: status, problem document and
// WWW-Authenticate must be byte for byte the same, so a client sees one
// wording whichever of the two refused it.
func TestGuardSpeaksLikeServer(t *testing.T) {
	e := newEnv(t, envOptions{})
	key := testKey(t, "k")
	g, err := guard.New(guard.Config{Keys: []*jwt.Key{key}, Issuer: "jwtgate", Audience: "jwtgate-api",
		Leeway: 30 * time.Second, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	anyRole, editor := httptest.NewServer(g.Require(ok)), httptest.NewServer(g.RequireRole("editor", ok))
	t.Cleanup(anyRole.Close)
	t.Cleanup(editor.Close)

	rita, err := e.store.UserByName(context.Background(), "rita")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(cfg auth.TokenConfig) string {
		t.Helper()
		tk, err := auth.NewTokens(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := tk.Issue(rita, "s1")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	base := auth.TokenConfig{SigningKey: key, Issuer: "jwtgate", Audience: "jwtgate-api", TTL: 15 * time.Minute, Leeway: 30 * time.Second, Now: e.clock.Now}
	at := func(d time.Duration) func() time.Time { return func() time.Time { return e.clock.Now().Add(d) } }
	cfg := func(change func(*auth.TokenConfig)) auth.TokenConfig { c := base; change(&c); return c }
	good := issue(base)

	for _, tc := range []struct {
		name     string
		method   string
		header   http.Header
		onEditor bool // the server's editor-only route, guard's RequireRole("editor")
	}{
		{"no credentials", "GET", nil, false},
		{"another scheme", "GET", http.Header{"Authorization": {"Basic YTpi"}}, false},
		{"malformed header", "GET", http.Header{"Authorization": {"Bearer a b"}}, false},
		{"two headers", "GET", http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, false},
		{"garbage", "GET", http.Header{"Authorization": {"Bearer <token>"}}, false},
		{"expired", "GET", bearer(issue(cfg(func(c *auth.TokenConfig) { c.Now = at(-time.Hour) }))), false},
		{"issued in the future", "GET", bearer(issue(cfg(func(c *auth.TokenConfig) { c.Now = at(time.Hour) }))), false},
		{"other audience", "GET", bearer(issue(cfg(func(c *auth.TokenConfig) { c.Audience = "other" }))), false},
		{"other issuer", "GET", bearer(issue(cfg(func(c *auth.TokenConfig) { c.Issuer = "other" }))), false},
		{"other key", "GET", bearer(issue(cfg(func(c *auth.TokenConfig) { c.SigningKey = testKey(t, "x") }))), false},
		{"tampered", "GET", bearer(tamper(t, good, `"role":"reader"`, `"role":"admin"`)), false},
		{"role too low", "POST", bearer(good), true},
		{"cookie write without CSRF header", "POST", http.Header{"Cookie": {CookieAccess + "=" + good + "; " + CookieCSRF + "=c"}}, true},
		{"cookie expired", "GET", http.Header{"Cookie": {CookieAccess + "=" + issue(cfg(func(c *auth.TokenConfig) { c.Now = at(-time.Hour) }))}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, target := "/me", anyRole.URL
			if tc.onEditor {
				path, target = "/posts", editor.URL
			}
			srv := e.send(req{method: tc.method, path: path, header: tc.header, ctype: "application/json", body: `{"title":"t"}`})
			gr := send(t, tc.method, target, tc.header)
			if srv.StatusCode < 400 {
				t.Fatalf("the server accepted it: %v", srv)
			}
			if srv.StatusCode != gr.StatusCode || string(srv.body) != string(gr.body) {
				t.Errorf("server: %s\nguard:  %s", srv, gr)
			}
			if a, b := srv.Header.Get("Www-Authenticate"), gr.Header.Get("Www-Authenticate"); a != b {
				t.Errorf("WWW-Authenticate: server %q, guard %q", a, b)
			}
			if strings.Contains(string(gr.body), `\u003c`) {
				t.Errorf("guard escapes HTML: %s", gr.body)
			}
		})
	}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func send(t *testing.T, method, url string, h http.Header) resp {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		r.Header[k] = v
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res, b}
}
