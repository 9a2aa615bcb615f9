package httpapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
)

type usersPageJSON struct {
	Users []userJSON `json:"users"`
	Next  string     `json:"next"`
}

func (e *env) usersPage(token, query string) usersPageJSON {
	e.t.Helper()
	r := e.get("/users?"+query, token)
	wantStatus(e.t, r, 200)
	var p usersPageJSON
	decodeStrict(e.t, r.body, &p)
	return p
}

// GET /users with q, limit or after answers pages of a prefix search,
// ignoring case; the next cursor leads through every match once.
func TestUsersSearchAndPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	for i := range 7 {
		if _, err := e.svc.CreateUser(context.Background(), fmt.Sprintf("Member%02d", i), pw("m"), auth.RoleReader); err != nil {
			t.Fatal(err)
		}
	}
	alice := e.login("alice")
	var names []string
	query := url.Values{"q": {"mEm"}, "limit": {"3"}}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more pages than matches: %q", names)
		}
		p := e.usersPage(alice, query.Encode())
		for _, u := range p.Users {
			names = append(names, u.Name)
		}
		if p.Next == "" {
			break
		}
		query.Set("after", p.Next)
	}
	want := []string{"Member00", "Member01", "Member02", "Member03", "Member04", "Member05", "Member06"}
	if !slices.Equal(names, want) {
		t.Errorf("pages = %q, want %q", names, want)
	}
	// Without parameters: every user, as before paging existed.
	r := e.get("/users", alice)
	wantStatus(t, r, 200)
	var all struct {
		Users []userJSON `json:"users"`
	}
	decodeStrict(t, r.body, &all)
	if len(all.Users) != len(seedUsers)+7 {
		t.Errorf("GET /users has %d users, want %d", len(all.Users), len(seedUsers)+7)
	}
	if p := e.usersPage(alice, "q=ED&limit=5"); len(p.Users) != 2 || p.Users[0].Name != "eddie" || p.Next != "" {
		t.Errorf("q=ED: %+v", p)
	}
}

// A cursor that is not one a page gave (not base64, or of another search)
// and malformed parameters are 400; only admins list users.
func TestUsersPagingRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	first := e.usersPage(alice, "q=e&limit=1")
	if first.Next == "" {
		t.Fatalf("q=e&limit=1 gave no next cursor: %+v", first)
	}
	other := base64.RawURLEncoding.EncodeToString([]byte("rita"))
	for _, q := range []string{
		"after=" + first.Next + "x!", // not base64url
		"q=r&after=" + first.Next,    // a cursor of another search
		"q=e&after=" + other,         // a name outside the search
		"after=" + base64.RawURLEncoding.EncodeToString([]byte{0xff, 0xfe}),
		"limit=0", "limit=101", "limit=x", "limit=1&limit=2", "q=a&q=b",
		"q=" + url.QueryEscape(string([]byte{0xff})),
	} {
		r := e.get("/users?"+q, alice)
		if r.StatusCode != 400 {
			t.Errorf("GET /users?%s = %v, want 400", q, r)
		}
	}
	for _, who := range []string{"rita", "eddie"} {
		tok := e.login(who)
		for _, q := range []req{
			{method: "GET", path: "/users?q=a"},
			{method: "POST", path: "/users/rita/password", ctype: "application/json", body: `{"password":"a-new-password"}`},
			{method: "DELETE", path: "/users/rita/sessions"},
		} {
			q.token = tok
			wantProblem(t, e.send(q), 403, codeForbidden)
		}
	}
}

// An admin's new password for a user ends the user's sessions and makes
// them change it: the login says so, and the user's own change clears it.
func TestResetPasswordMustChange(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	rita := e.login("rita")
	r := e.sendJSON("POST", "/users/RITA/password", alice, `{"password":"temporary-secret"}`)
	wantStatus(t, r, 200)
	var u userJSON
	decodeStrict(t, r.body, &u)
	if !u.MustChangePassword || u.Name != "rita" {
		t.Errorf("reset answered %+v", u)
	}
	wantStatus(t, e.get("/me", rita), 401)
	r = e.sendJSON("POST", "/login", "", `{"username":"rita","password":"temporary-secret"}`)
	wantStatus(t, r, 200)
	var g grantResponse
	decodeStrict(t, r.body, &g)
	if !g.MustChangePassword {
		t.Errorf("login after reset: %s; want must_change_password", r.body)
	}
	// The password change of the user (or the CLI) clears the flag.
	if _, err := e.svc.SetPassword(context.Background(), "rita", pw("rita")); err != nil {
		t.Fatal(err)
	}
	r = e.sendJSON("POST", "/login", "", `{"username":"rita","password":`+jsonQuote(pw("rita"))+`}`)
	wantStatus(t, r, 200)
	g = grantResponse{}
	decodeStrict(t, r.body, &g)
	if g.MustChangePassword {
		t.Errorf("login after the user's change: %s; want no must_change_password", r.body)
	}
	for _, body := range []string{`{"password":"short"}`, `{}`, `{"password":"long-enough","x":1}`} {
		if r := e.sendJSON("POST", "/users/rita/password", alice, body); r.StatusCode != 400 {
			t.Errorf("reset with %s = %v, want 400", body, r)
		}
	}
	wantStatus(t, e.sendJSON("POST", "/users/nobody/password", alice, `{"password":"long-enough"}`), 404)
}

// Ending a user's sessions makes their access token refused at once.
func TestEndUserSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	eddie := e.login("eddie")
	wantStatus(t, e.get("/me", eddie), 200)
	wantStatus(t, e.send(req{method: "DELETE", path: "/users/Eddie/sessions", token: alice}), 204)
	wantStatus(t, e.get("/me", eddie), 401)
	wantStatus(t, e.get("/me", alice), 200)
	wantStatus(t, e.send(req{method: "DELETE", path: "/users/nobody/sessions", token: alice}), 404)
}
