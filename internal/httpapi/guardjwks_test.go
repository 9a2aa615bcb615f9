package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/jwt"
)

// TestGuardFollowsServerKeys protects a service with a guard that knows
// only the server's JWKS URL: a login on the server opens the service, the
// guard finds credentials where the server does, and it follows a key
// rotation on the server.
func TestGuardFollowsServerKeys(t *testing.T) {
	first := genKey(t, jwt.EdDSA)
	e := newEnv(t, envOptions{key: first})
	const minRefresh = 10 * time.Second
	g, err := guard.New(guard.Config{JWKSURL: e.srv.URL + "/.well-known/jwks.json", Audience: "jwtgate-api",
		MinRefreshInterval: minRefresh, Now: e.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	service := httptest.NewServer(g.RequireRole("editor", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := guard.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "%s %s", c.Name, c.Role)
	})))
	t.Cleanup(service.Close)
	get := func(tok string) resp {
		t.Helper()
		return send(t, "GET", service.URL, bearer(tok))
	}

	tok := e.login("eddie")
	if r := get(tok); r.StatusCode != 200 || string(r.body) != "eddie editor" {
		t.Fatalf("server's token at the service: %v", r)
	}
	if r := get(tok[:len(tok)-3] + "AAA"); r.StatusCode != 401 {
		t.Fatalf("forged signature: %v", r)
	}

	// The same request gets the same status and problem code from the
	// server's GET /me and from the guard, accepted or refused.
	code := func(r resp) string {
		var p struct{ Code string }
		json.Unmarshal(r.body, &p)
		return p.Code
	}
	for name, h := range map[string]http.Header{
		"Basic":                 {"Authorization": {"Basic Zm9vOmJhcg=="}},
		"empty Authorization":   {"Authorization": {""}},
		"Basic with cookie":     {"Authorization": {"Basic x"}, "Cookie": {CookieAccess + "=" + tok}},
		"Bearer without token":  {"Authorization": {"Bearer"}},
		"two Authorization":     {"Authorization": {"Bearer " + tok, "Basic x"}},
		"lower-case bearer":     {"Authorization": {"bearer " + tok}},
		"Bearer, tab and token": {"Authorization": {"Bearer\t" + tok}},
	} {
		srv, gr := e.send(req{method: "GET", path: "/me", header: h}), send(t, "GET", service.URL, h)
		if srv.StatusCode != gr.StatusCode || code(srv) != code(gr) {
			t.Errorf("%s: guard answers %v, server %v", name, gr, srv)
		}
	}

	second := genKey(t, jwt.ES256)
	if err := e.tokens.SetKeys(second, []*jwt.Key{first}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(minRefresh) // past MinRefreshInterval; tokens live 15 minutes
	if r := get(e.login("eddie")); r.StatusCode != 200 {
		t.Fatalf("token from the rotated key: %v", r)
	}
	if r := get(tok); r.StatusCode != 200 {
		t.Fatalf("token from the old key in its grace period: %v", r)
	}
}
