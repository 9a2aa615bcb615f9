package httpapi

import (
	"bytes"
	"testing"
	"time"
)

// /me answers from a token the verified-token cache has already seen, yet
// never once that token stops being valid: after logout, a role change, a
// dropped key or expiry it answers 401 like any other route.
func TestMeNeverOutlivesToken(t *testing.T) {
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
