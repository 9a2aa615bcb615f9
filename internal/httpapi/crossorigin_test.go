package httpapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestCrossOriginLogin is login CSRF: a page elsewhere posting the login
// form with cookie=true must not get the browser session cookies.
func TestCrossOriginLogin(t *testing.T) {
	e := newEnv(t, envOptions{insecure: true})
	form := loginForm("rita", pw("rita")) + "&cookie=true"
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}, 403},
		{"same-site, other port", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://127.0.0.1:1"}}, 403},
		{"cross-site without Origin", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"old browser, foreign Origin", http.Header{"Origin": {"https://evil.example"}}, 403},
		{"old browser, null Origin", http.Header{"Origin": {"null"}}, 403},
		{"same-origin", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.srv.URL}}, 200},
		{"typed by the user", http.Header{"Sec-Fetch-Site": {"none"}}, 200},
		{"old browser, own Origin", http.Header{"Origin": {"http://" + host}}, 200},
		{"not a browser", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(req{method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: form, header: tc.header})
			if tc.status == 403 {
				p := wantProblem(t, r, 403, codeCrossOrigin)
				if p.Detail == "" {
					t.Error("no detail")
				}
				if c := r.Header.Values("Set-Cookie"); len(c) != 0 {
					t.Errorf("refused login set cookies %q", c)
				}
				return
			}
			wantStatus(t, r, tc.status)
			if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), InsecureCookieAccess+"=ey") {
				t.Errorf("login set no access cookie: %q", r.Header.Values("Set-Cookie"))
			}
		})
	}
}

// TestCrossOriginEveryWrite sends each state-changing route, with a
// valid token, as a browser on another site would: all are refused
// before the handler runs, except the forward-auth check.
func TestCrossOriginEveryWrite(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	var writes int
	for _, pattern := range append(Routes(), "POST /no-such-route") {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || method == "GET" {
			continue // GET (and HEAD) change nothing: not checked
		}
		path = strings.NewReplacer("{id}", "1", "{name}", "rita").Replace(path)
		if path == "/auth/verify" {
			r := e.send(req{method: "POST", path: path, token: alice, header: crossSite})
			wantStatus(t, r, 200)
			continue
		}
		if slices.Contains(crossOriginExempt, path) || slices.Contains(crossOriginExempt, method+" "+path) {
			continue // applications' endpoints: TestOAuthEndpointsIgnoreCrossOrigin
		}
		writes++
		r := e.send(req{method: method, path: path, token: alice, ctype: "application/json", body: `{}`, header: crossSite})
		wantProblem(t, r, 403, codeCrossOrigin)
	}
	if writes < 9 {
		t.Fatalf("only %d state-changing routes checked", writes)
	}
	// Reads from anywhere are fine, and nothing was changed.
	wantStatus(t, e.send(req{method: "GET", path: "/me", token: alice, header: crossSite}), 200)
	r := e.get("/users", alice)
	if !strings.Contains(string(r.body), `"name":"rita","role":"reader","disabled":false`) {
		t.Fatalf("rita changed by a refused request: %s", r.body)
	}
	if !strings.Contains(e.waitLog(`"problem":"cross_origin"`), `"problem":"cross_origin"`) {
		t.Errorf("refusal not in the access log: %s", e.logs.String())
	}
}

// TestCrossOriginPublicURL: behind a proxy that rewrites Host, an old
// browser's Origin matches the public URL, not the Host.
func TestCrossOriginPublicURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		publicURL, origin string
		status            int
	}{
		{"https://auth.example", "https://auth.example", 200},
		{"https://Auth.Example:443/base/", "https://auth.example", 200},
		{"http://auth.example:8080", "http://auth.example:8080", 200},
		{"https://auth.example", "https://evil.example", 403},
		{"https://auth.example", "http://auth.example", 403},
		{"", "https://auth.example", 403},
	} {
		h := New(Config{Service: e.svc, Log: e.h.log, PublicURL: tc.publicURL})
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/login", strings.NewReader(loginForm("rita", pw("rita"))))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", tc.origin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("public URL %q, Origin %q: %d %s, want %d", tc.publicURL, tc.origin, w.Code, w.Body, tc.status)
		}
	}
}
