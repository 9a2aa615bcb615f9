package guard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/httpapi"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/jwt"
)

// TestAgainstJwtgate runs a real jwtgate API (SQLite, EdDSA keys) and a
// service protected by the guard, which knows only the JWKS URL: a login
// on jwtgate opens the service; a key rotation on jwtgate is followed.
func TestAgainstJwtgate(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	first := genKey(t, jwt.EdDSA)
	tokens, err := auth.NewTokens(auth.TokenConfig{SigningKey: first, Issuer: "jwtgate", Audience: "jwtgate", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	svc := &auth.Service{Store: db, Tokens: tokens,
		Hasher: auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 2, time.Second)}
	if _, err := svc.CreateUser(t.Context(), "grace", "grace-password", auth.RoleEditor); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(httpapi.New(httpapi.Config{Service: svc}))
	t.Cleanup(api.Close)

	// The guard's clock runs ahead by skew, which the test advances
	// instead of waiting out MinRefreshInterval.
	var skew atomic.Int64
	const minRefresh = 10 * time.Second
	g := newGuard(t, guard.Config{JWKSURL: api.URL + "/.well-known/jwks.json", MinRefreshInterval: minRefresh,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	service := httptest.NewServer(g.RequireRole("editor", echo))
	t.Cleanup(service.Close)

	login := func() string {
		resp, err := http.Post(api.URL+"/login", "application/json", strings.NewReader(`{"username":"grace","password":"grace-password"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var grant struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&grant); err != nil || resp.StatusCode != 200 {
			t.Fatalf("login: %d %v", resp.StatusCode, err)
		}
		return grant.AccessToken
	}
	get := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", service.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	tok := login()
	code, body := get(tok)
	if code != 200 || !strings.HasPrefix(body, "1 grace editor ") {
		t.Fatalf("jwtgate token at the service: %d %q", code, body)
	}
	if code, _ := get(tok[:len(tok)-3] + "AAA"); code != 401 {
		t.Fatalf("forged signature: %d", code)
	}

	// Credentials are found as on jwtgate: the same request gets the same
	// status and problem code from jwtgate's GET /me and from the guard.
	answer := func(url string, edit func(*http.Request)) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		edit(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p struct{ Code string }
		json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p.Code
	}
	for name, edit := range map[string]func(*http.Request){
		"Basic":               func(r *http.Request) { r.Header.Set("Authorization", "Basic Zm9vOmJhcg==") },
		"empty Authorization": func(r *http.Request) { r.Header["Authorization"] = []string{""} },
		"Basic with cookie": func(r *http.Request) {
			r.Header.Set("Authorization", "Basic x")
			r.AddCookie(&http.Cookie{Name: "access_token", Value: tok})
		},
		"Bearer without token":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer") },
		"two Authorization":     func(r *http.Request) { r.Header["Authorization"] = []string{"Bearer " + tok, "Basic x"} },
		"lower-case bearer":     func(r *http.Request) { r.Header.Set("Authorization", "bearer "+tok) },
		"Bearer, tab and token": func(r *http.Request) { r.Header.Set("Authorization", "Bearer\t"+tok) },
	} {
		ws, wc := answer(api.URL+"/me", edit)
		gs, gc := answer(service.URL, edit)
		if gs != ws || gc != wc {
			t.Errorf("%s: guard answers %d %q, jwtgate %d %q", name, gs, gc, ws, wc)
		}
	}

	second := genKey(t, jwt.ES256)
	if err := tokens.SetKeys(second, []*jwt.Key{second, first}); err != nil {
		t.Fatal(err)
	}
	skew.Add(int64(minRefresh)) // past MinRefreshInterval; tokens live a minute
	if code, body := get(login()); code != 200 {
		t.Fatalf("token from the rotated key: %d %s", code, body)
	}
	if code, _ := get(tok); code != 200 {
		t.Fatalf("token from the old key in its grace period: %d", code)
	}
}
