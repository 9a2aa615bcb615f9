package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// An admin cannot demote, disable or delete themselves under any spelling
// of their name, even while another admin exists.
func TestAdminsCannotRemoveThemselvesInAnyCase(t *testing.T) {
	e := newEnv(t, envOptions{})
	if _, err := e.svc.CreateUser(context.Background(), "zed", pw("zed"), auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	alice := e.login("alice")
	for _, q := range []req{
		{method: "PATCH", path: "/users/ALICE", body: `{"role":"reader"}`},
		{method: "PATCH", path: "/users/Alice", body: `{"disabled":true}`},
		{method: "PATCH", path: "/users/aLiCe", body: `{"role":"editor","disabled":false}`},
		{method: "DELETE", path: "/users/Alice"},
		{method: "DELETE", path: "/users/ALICE"},
	} {
		q.token = alice
		if q.body != "" {
			q.ctype = "application/json"
		}
		p := wantProblem(t, e.send(q), 403, codeForbidden)
		if !strings.Contains(p.Detail, "themselves") {
			t.Errorf("%s %s: detail %q, want the self rule", q.method, q.path, p.Detail)
		}
	}
	if u, err := e.store.UserByName(context.Background(), "alice"); err != nil || u.Role != auth.RoleAdmin || u.Disabled {
		t.Fatalf("alice after refused changes: %+v, %v", u, err)
	}
	// Another admin may go, as long as one stays.
	wantStatus(t, e.sendJSON("PATCH", "/users/ZED", alice, `{"role":"editor"}`), 200)
}

// Two admins removing each other at once leave one admin: the other
// request is refused (403, or 401 once its token was revoked by the first).
func TestAdminsRemovingEachOtherKeepOne(t *testing.T) {
	e := newEnv(t, envOptions{})
	if _, err := e.svc.CreateUser(context.Background(), "zed", pw("zed"), auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	admin := auth.RoleAdmin
	const rounds = 16
	for i := range rounds {
		tokens := []string{e.login("alice"), e.login("zed")}
		bodies := []string{`{"role":"reader"}`, `{"disabled":true}`}
		paths := []string{"/users/ZED", "/users/Alice"}
		status := make([]int, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, _ := http.NewRequest("PATCH", e.srv.URL+paths[j], strings.NewReader(bodies[(i+j)%2]))
				r.Header.Set("Authorization", "Bearer "+tokens[j])
				r.Header.Set("Content-Type", "application/json")
				<-start
				res, err := e.srv.Client().Do(r)
				if err != nil {
					errs[j] = err
					return
				}
				res.Body.Close()
				status[j] = res.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		admins := 0
		for _, name := range []string{"alice", "zed"} {
			u, err := e.store.UserByName(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			if u.Role == auth.RoleAdmin && !u.Disabled {
				admins++
			}
		}
		ok := 0
		for _, s := range status {
			switch s {
			case 200:
				ok++
			case 401, 403:
			default:
				t.Fatalf("round %d: statuses %v", i, status)
			}
		}
		if admins != 1 || ok != 1 {
			t.Fatalf("round %d: statuses %v left %d enabled admins; want one change and one admin", i, status, admins)
		}
		no := false
		for _, name := range []string{"alice", "zed"} {
			if _, err := e.store.UpdateUser(context.Background(), name, auth.UserUpdate{Role: &admin, Disabled: &no}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A name taken in any case is 409 conflict, as documented.
func TestCreateUserTakenNameIsConflict(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	for _, name := range []string{"rita", "RITA", "Alice"} {
		wantProblem(t, e.sendJSON("POST", "/users", alice, `{"username":"`+name+`","password":"another-password","role":"reader"}`), 409, codeConflict)
	}
}
