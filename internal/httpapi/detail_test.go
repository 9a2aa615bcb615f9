package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// TestDetailsDoNotRepeatTitle: a detail says what the title does not.
// Domain errors wrap a sentinel ("forbidden: only the author …"), whose
// text must not reach the detail.
func TestDetailsDoNotRepeatTitle(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, eddie, edna, rita := e.login("alice"), e.login("eddie"), e.login("edna"), e.login("rita")
	r := e.sendJSON("POST", "/posts", eddie, `{"title":"eddie's"}`)
	wantStatus(t, r, 201)
	post := r.Header.Get("Location")

	sentinels := []error{auth.ErrNotFound, auth.ErrConflict, auth.ErrInvalid, auth.ErrUnauthorized,
		auth.ErrForbidden, auth.ErrUnavailable, auth.ErrBusy, auth.ErrRateLimited}
	for _, tc := range []struct {
		name         string
		q            req
		status       int
		code, detail string // detail: "" to check only the general rule
	}{
		{"delete another's post", req{method: "DELETE", path: post, token: edna}, 403, codeForbidden, "only the author or an admin may delete a post"},
		{"admin deletes self", req{method: "DELETE", path: "/users/alice", token: alice}, 403, codeForbidden, "admins cannot delete themselves"},
		{"admin demotes self", req{method: "PATCH", path: "/users/alice", token: alice, ctype: "application/json", body: `{"role":"reader"}`}, 403, codeForbidden, "admins cannot demote or disable themselves"},
		{"role too low", req{method: "POST", path: "/posts", token: rita, ctype: "application/json", body: `{"title":"t"}`}, 403, codeForbidden, "this operation needs the editor role or higher"},
		{"invalid user", req{method: "POST", path: "/users", token: alice, ctype: "application/json", body: `{"username":"","password":""}`}, 400, codeInvalidRequest, ""},
		{"empty title", req{method: "POST", path: "/posts", token: eddie, ctype: "application/json", body: `{"title":" "}`}, 400, codeInvalidRequest, ""},
		{"unknown field", req{method: "POST", path: "/posts", token: eddie, ctype: "application/json", body: `{"Title":"t"}`}, 400, codeUnknownField, ""},
		{"duplicate user", req{method: "POST", path: "/users", token: alice, ctype: "application/json", body: `{"username":"rita","password":"long enough pw","role":"reader"}`}, 409, codeConflict, ""},
		{"no such post", req{method: "GET", path: "/posts/999", token: rita}, 404, codeNotFound, ""},
		{"wrong password", req{method: "POST", path: "/login", ctype: "application/json", body: `{"username":"rita","password":"nope"}`}, 401, codeInvalidCredentials, ""},
		{"expired token", req{method: "GET", path: "/me", token: alice}, 0, "", ""}, // filled in below
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "expired token" {
				e.clock.Advance(time.Hour)
				tc.status, tc.code = 401, codeTokenExpired
			}
			p := wantProblem(t, e.send(tc.q), tc.status, tc.code)
			if tc.detail != "" && p.Detail != tc.detail {
				t.Errorf("detail %q, want %q", p.Detail, tc.detail)
			}
			d := strings.ToLower(strings.TrimPrefix(p.Detail, "the "))
			if p.Detail == "" || strings.HasPrefix(d, strings.ToLower(p.Title)) || strings.HasPrefix(d, strings.ReplaceAll(p.Code, "_", " ")) {
				t.Errorf("detail %q repeats title %q", p.Detail, p.Title)
			}
			for _, s := range sentinels {
				if strings.Contains(p.Detail, s.Error()+":") {
					t.Errorf("detail %q carries the sentinel %q", p.Detail, s)
				}
			}
		})
	}
}

func TestUserDetail(t *testing.T) {
	for _, tc := range []struct {
		err      error
		sentinel error
		want     string
	}{
		{fmt.Errorf("%w: only the author", auth.ErrForbidden), auth.ErrForbidden, "only the author"},
		{fmt.Errorf("delete post 3: %w", fmt.Errorf("%w: only the author", auth.ErrForbidden)), auth.ErrForbidden, "only the author"},
		{auth.ErrForbidden, auth.ErrForbidden, "fallback"},
		{fmt.Errorf("%w: ", auth.ErrInvalid), auth.ErrInvalid, "fallback"},
		{fmt.Errorf("%w: name %q: too long", auth.ErrInvalid, "forbidden: x"), auth.ErrInvalid, `name "forbidden: x": too long`},
		{errors.Join(errors.New("other"), auth.ErrInvalid), auth.ErrInvalid, "fallback"},
	} {
		if got := userDetail(tc.err, tc.sentinel, "fallback"); got != tc.want {
			t.Errorf("userDetail(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
