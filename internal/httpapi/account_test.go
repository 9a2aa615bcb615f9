package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

func TestSetupStatus(t *testing.T) {
	const hint = `jwtgate user add admin --role admin --db "$JWTGATE_DB"`
	e := newEnv(t, envOptions{noUsers: true, setupHint: hint})
	var st struct {
		FirstRun bool   `json:"first_run"`
		Hint     string `json:"hint"`
	}
	r := e.get("/setup-status", "")
	wantStatus(t, r, 200)
	decodeStrict(t, r.body, &st)
	if !st.FirstRun || st.Hint != hint {
		t.Fatalf("with no user: %s", r.body)
	}
	if _, err := e.svc.CreateUser(context.Background(), "root", pw("root"), auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second answer comes without asking the store
		r = e.get("/setup-status", "")
		wantStatus(t, r, 200)
		if string(r.body) != `{"first_run":false}` {
			t.Fatalf("with a user: %s, want no hint", r.body)
		}
	}
	e.store.down.Store(true)
	if r = e.get("/setup-status", ""); r.StatusCode != 200 {
		t.Errorf("once a user was seen the store is not asked again: %v", r)
	}
}

// sid returns the session id of an access token.
func (e *env) sid(token string) string {
	e.t.Helper()
	p, err := e.tokens.Verify(token)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Claims.SessionID
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	a, _ := e.loginGrant("eddie", "")
	b, _ := e.loginGrant("eddie", "")
	other, _ := e.loginGrant("edna", "")
	const next = "a-brand-new-password"
	body := func(current, next string) string {
		return `{"current_password":` + jsonQuote(current) + `,"new_password":` + jsonQuote(next) + `}`
	}
	for _, tc := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"wrong current password", a.AccessToken, body("not-my-password", next), 403, codeForbidden},
		{"another user's password", a.AccessToken, body(pw("edna"), next), 403, codeForbidden},
		{"over-long current password", a.AccessToken, body(strings.Repeat("x", auth.MaxPasswordLen+1), next), 403, codeForbidden},
		{"new password too short", a.AccessToken, body(pw("eddie"), "short"), 400, codeInvalidRequest},
		{"no current password", a.AccessToken, body("", next), 400, codeInvalidRequest},
		{"unknown field", a.AccessToken, `{"current_password":"x","new_password":"yyyyyyyy","password":"z"}`, 400, codeUnknownField},
		{"no token", "", body(pw("eddie"), next), 401, codeTokenMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, e.sendJSON("POST", "/me/password", tc.token, tc.body), tc.status, tc.code)
			if tc.status == 403 && !strings.Contains(p.Detail, "current password is wrong") {
				t.Errorf("detail %q", p.Detail)
			}
		})
	}
	// Nothing changed so far.
	if _, r := e.refresh(b.RefreshToken); r.StatusCode != 200 {
		t.Fatalf("other session after refused changes: %v", r)
	}
	b, _ = e.loginGrant("eddie", "")

	r := e.sendJSON("POST", "/me/password", a.AccessToken, body(pw("eddie"), next))
	wantStatus(t, r, 200)
	if string(r.body) != `{"password_changed":true,"other_sessions_ended":true}` {
		t.Errorf("answer %s", r.body)
	}
	// The other session is over, its tokens refused; this one lives on.
	if _, r := e.refresh(b.RefreshToken); r.StatusCode != 401 {
		t.Errorf("other session's refresh after the change: %v", r)
	}
	wantProblem(t, e.get("/me", b.AccessToken), 401, codeTokenRevoked)
	wantStatus(t, e.get("/me", a.AccessToken), 200)
	if _, r := e.refresh(a.RefreshToken); r.StatusCode != 200 {
		t.Errorf("the changing session's refresh: %v", r)
	}
	// Another user is untouched.
	wantStatus(t, e.get("/me", other.AccessToken), 200)
	// The old password no longer logs in; the new one does.
	wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"eddie","password":`+jsonQuote(pw("eddie"))+`}`), 401, codeInvalidCredentials)
	wantStatus(t, e.sendJSON("POST", "/login", "", `{"username":"eddie","password":`+jsonQuote(next)+`}`), 200)
}

// TestChangePasswordRateLimited: the current password is checked with the
// login's budget, so the form guesses no faster than the login.
func TestChangePasswordRateLimited(t *testing.T) {
	e := newEnv(t, envOptions{ipLimit: auth.NewLimiter(time.Hour, 3)})
	tok := e.login("rita") // 1 of 3
	wrong := `{"current_password":"guess-guess","new_password":"a-brand-new-password"}`
	wantProblem(t, e.sendJSON("POST", "/me/password", tok, wrong), 403, codeForbidden) // 2
	wantProblem(t, e.sendJSON("POST", "/me/password", tok, wrong), 403, codeForbidden) // 3
	r := e.sendJSON("POST", "/me/password", tok, `{"current_password":`+jsonQuote(pw("rita"))+`,"new_password":"a-brand-new-password"}`)
	wantProblem(t, r, 429, codeRateLimited)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The budget is the login's.
	wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"rita","password":`+jsonQuote(pw("rita"))+`}`), 429, codeRateLimited)
}

type sessionsAnswer struct {
	Sessions []struct {
		ID              string     `json:"id"`
		CreatedAt       time.Time  `json:"created_at"`
		LastRefreshedAt *time.Time `json:"last_refreshed_at"`
		ExpiresAt       time.Time  `json:"expires_at"`
		ClientIP        string     `json:"client_ip"`
		UserAgent       string     `json:"user_agent"`
		ClientID        string     `json:"client_id"`
		Current         bool       `json:"current"`
	} `json:"sessions"`
}

func (e *env) sessions(token string) sessionsAnswer {
	e.t.Helper()
	r := e.get("/me/sessions", token)
	wantStatus(e.t, r, 200)
	var s sessionsAnswer
	decodeStrict(e.t, r.body, &s)
	return s
}

// loginUA logs name in (bearer mode) with a User-Agent.
func (e *env) loginUA(name, ua string) grantResponse {
	e.t.Helper()
	r := e.send(req{method: "POST", path: "/login", ctype: "application/json", header: http.Header{"User-Agent": {ua}},
		body: `{"username":` + jsonQuote(name) + `,"password":` + jsonQuote(pw(name)) + `}`})
	wantStatus(e.t, r, 200)
	var g grantResponse
	decodeStrict(e.t, r.body, &g)
	return g
}

func TestOwnSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.loginUA("eddie", "Firefox/140.0")
	e.clock.Advance(time.Minute)
	long := strings.Repeat("é", 200) // 400 bytes
	b := e.loginUA("eddie", long)
	edna := e.loginUA("edna", "Edna's browser")

	got := e.sessions(a.AccessToken)
	if len(got.Sessions) != 2 {
		t.Fatalf("sessions: %+v", got)
	}
	newest, oldest := got.Sessions[0], got.Sessions[1]
	if newest.ID != e.sid(b.AccessToken) || newest.Current || newest.UserAgent != strings.Repeat("é", 128) || newest.ClientIP != "127.0.0.1" {
		t.Errorf("newest session %+v: want b's, not current, user agent cut to 256 bytes", newest)
	}
	if oldest.ID != e.sid(a.AccessToken) || !oldest.Current || oldest.UserAgent != "Firefox/140.0" || oldest.LastRefreshedAt != nil ||
		!oldest.CreatedAt.Equal(e.clock.Now().Add(-time.Minute)) || !oldest.ExpiresAt.Equal(oldest.CreatedAt.Add(auth.DefaultSessionTTL)) {
		t.Errorf("oldest session %+v: want a's, current, never refreshed", oldest)
	}
	// A refresh is shown.
	e.clock.Advance(time.Minute)
	b, r := e.refresh(b.RefreshToken)
	wantStatus(t, r, 200)
	if s := e.sessions(a.AccessToken).Sessions[0]; s.LastRefreshedAt == nil || !s.LastRefreshedAt.Equal(e.clock.Now()) {
		t.Errorf("after a refresh: last_refreshed_at %v, want %v", s.LastRefreshedAt, e.clock.Now())
	}

	// Another user's session, an unknown one: 404 and nothing ends.
	wantProblem(t, e.send(req{method: "DELETE", path: "/me/sessions/" + e.sid(edna.AccessToken), token: a.AccessToken}), 404, codeNotFound)
	wantProblem(t, e.send(req{method: "DELETE", path: "/me/sessions/no-such-session", token: a.AccessToken}), 404, codeNotFound)
	wantStatus(t, e.get("/me", edna.AccessToken), 200)

	// Ending one: its tokens are refused and it leaves the list.
	bSid := e.sid(b.AccessToken)
	wantStatus(t, e.send(req{method: "DELETE", path: "/me/sessions/" + bSid, token: a.AccessToken}), 204)
	wantProblem(t, e.get("/me", b.AccessToken), 401, codeTokenRevoked)
	if _, r := e.refresh(b.RefreshToken); r.StatusCode != 401 {
		t.Errorf("ended session's refresh: %v", r)
	}
	if s := e.sessions(a.AccessToken).Sessions; len(s) != 1 || !s[0].Current {
		t.Errorf("after ending b: %+v", s)
	}
	wantProblem(t, e.send(req{method: "DELETE", path: "/me/sessions/" + bSid, token: a.AccessToken}), 404, codeNotFound)

	// Everywhere else.
	c := e.loginUA("eddie", "third")
	d := e.loginUA("eddie", "fourth")
	wantProblem(t, e.send(req{method: "DELETE", path: "/me/sessions", token: a.AccessToken}), 400, codeInvalidRequest)
	wantProblem(t, e.send(req{method: "DELETE", path: "/me/sessions?others=false", token: a.AccessToken}), 400, codeInvalidRequest)
	wantStatus(t, e.send(req{method: "DELETE", path: "/me/sessions?others=true", token: a.AccessToken}), 204)
	for _, g := range []grantResponse{c, d} {
		wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenRevoked)
		if _, r := e.refresh(g.RefreshToken); r.StatusCode != 401 {
			t.Errorf("refresh after everywhere else: %v", r)
		}
	}
	if s := e.sessions(a.AccessToken).Sessions; len(s) != 1 || s[0].ID != e.sid(a.AccessToken) {
		t.Errorf("after everywhere else: %+v", s)
	}
	wantStatus(t, e.get("/me", edna.AccessToken), 200)

	// Ending the current session is a logout.
	wantStatus(t, e.send(req{method: "DELETE", path: "/me/sessions/" + e.sid(a.AccessToken), token: a.AccessToken}), 204)
	wantProblem(t, e.get("/me", a.AccessToken), 401, codeTokenRevoked)
}

// TestSelfServiceByCookie: the writes need the CSRF header and the same
// origin, as every cookie-authenticated write does; in secure mode only
// the __Host- cookie is read, never a look-alike without the prefix.
func TestSelfServiceByCookie(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, r := e.loginGrant("eddie", `,"cookie":true`)
	c := cookies(r)
	csrf := c[CookieCSRF].Value
	writes := []req{
		{method: "POST", path: "/me/password", ctype: "application/json", body: `{"current_password":"x","new_password":"yyyyyyyy"}`},
		{method: "DELETE", path: "/me/sessions?others=true"},
		{method: "DELETE", path: "/me/sessions/some-id"},
	}
	for _, w := range writes {
		q := cookieReq(w.method, w.path, c, "")
		q.ctype, q.body = w.ctype, w.body
		wantProblem(t, e.send(q), 403, codeCSRF)

		q = cookieReq(w.method, w.path, c, csrf)
		q.ctype, q.body = w.ctype, w.body
		q.header.Set("Sec-Fetch-Site", "cross-site")
		q.header.Set("Origin", "https://evil.example")
		wantProblem(t, e.send(q), 403, codeCrossOrigin)
	}
	q := cookieReq("GET", "/me/sessions", c, "")
	r = e.send(q)
	wantStatus(t, r, 200)
	var s sessionsAnswer
	if err := json.Unmarshal(r.body, &s); err != nil || len(s.Sessions) != 1 || !s.Sessions[0].Current {
		t.Errorf("sessions by cookie: %s", r.body)
	}
	// The unprefixed name is not read on a server with Secure cookies.
	plain := http.Header{"Cookie": {InsecureCookieAccess + "=" + c[CookieAccess].Value}}
	wantProblem(t, e.send(req{method: "GET", path: "/me/sessions", header: plain}), 401, codeTokenMissing)
}
