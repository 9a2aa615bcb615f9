package httpapi

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

// A /me body encoded once is never served once its token stops being
// valid: after logout, a role change, a dropped key or expiry, /me with a
// token whose body is cached answers 401 like any other route.
func TestMeBodyCacheNeverOutlivesToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("alice")
	warm := func(token string) []byte {
		t.Helper()
		a, b := e.get("/me", token), e.get("/me", token)
		wantStatus(t, a, 200)
		wantStatus(t, b, 200)
		if !bytes.Equal(a.body, b.body) {
			t.Fatalf("/me twice: %s then %s", a.body, b.body)
		}
		return a.body
	}

	g, _ := e.loginGrant("rita", "")
	other, _ := e.loginGrant("rita", "")
	warm(g.AccessToken)
	warm(other.AccessToken)
	wantStatus(t, e.send(req{method: "POST", path: "/logout", token: g.AccessToken}), 204)
	wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenRevoked)
	wantStatus(t, e.get("/me", other.AccessToken), 200) // another session

	eddie, _ := e.loginGrant("eddie", "")
	if body := warm(eddie.AccessToken); !bytes.Contains(body, []byte(`"role":"editor"`)) {
		t.Fatalf("/me = %s", body)
	}
	wantStatus(t, e.sendJSON("PATCH", "/users/eddie", admin, `{"role":"reader"}`), 200)
	wantProblem(t, e.get("/me", eddie.AccessToken), 401, codeTokenRevoked)
	again, _ := e.loginGrant("eddie", "")
	if body := warm(again.AccessToken); !bytes.Contains(body, []byte(`"role":"reader"`)) {
		t.Fatalf("/me after the role change = %s", body)
	}

	newKey := testKey(t, "n").WithKeyID("new")
	if err := e.tokens.SetKeys(newKey, nil); err != nil { // the old key is dropped
		t.Fatal(err)
	}
	wantProblem(t, e.get("/me", other.AccessToken), 401, codeTokenInvalid)

	fresh := e.login("rita")
	warm(fresh)
	e.clock.Advance(16 * time.Minute)
	wantProblem(t, e.get("/me", fresh), 401, codeTokenExpired)
}

// Each principal gets its own body, also when far more principals than
// slots compete and when two principals have identical claims.
func TestMeCacheBodies(t *testing.T) {
	var c meCache
	ps := make([]*auth.Principal, 3*meCacheSlots)
	for i := range ps {
		p := &auth.Principal{}
		p.Claims.Subject = strconv.Itoa(i/2 + 1) // pairs of identical claims
		p.Claims.Name, p.Claims.Role = "u"+p.Claims.Subject, auth.RoleReader
		p.Claims.ExpiresAt = jwt.NewNumericDate(time.Unix(1_700_000_000, 0))
		ps[i] = p
	}
	for round := range 2 {
		for i, p := range ps {
			if got, want := c.body(p), appendMe(nil, &p.Claims); !bytes.Equal(got, want) {
				t.Fatalf("round %d principal %d: %s, want %s", round, i, got, want)
			}
		}
	}
	p := ps[0]
	if a, b := c.body(p), c.body(p); &a[0] != &b[0] {
		t.Fatal("the body of a principal just asked for was encoded again")
	}
}
