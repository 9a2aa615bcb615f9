package httpapi

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// revocationCount is how many revocations the store holds and the token
// verifier enforces: a request that "changes nothing" leaves both alone.
func (e *env) revocationCount() (stored, held int) {
	e.t.Helper()
	revs, err := e.store.RevocationsSince(context.Background(), time.Time{}, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return len(revs), e.tokens.Revocations().Len()
}

func (e *env) logoutRefresh(token, bearer string) resp {
	e.t.Helper()
	return e.sendJSON("POST", "/logout", bearer, `{"refresh_token":`+jsonQuote(token)+`}`)
}

// A client whose access token expired can still end its session, with
// its refresh token; the family is refused afterwards, on every route.
func TestLogoutWithRefreshToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("rita", "")
	other, _ := e.loginGrant("rita", "") // another session of the same user
	e.clock.Advance(16 * time.Minute)    // both access tokens have expired
	wantProblem(t, e.send(req{method: "POST", path: "/logout", token: g.AccessToken}), 401, codeTokenExpired)

	r := e.logoutRefresh(g.RefreshToken, g.AccessToken)
	wantStatus(t, r, 204)
	if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a logout by refresh token touched cookies: %v", sc)
	}
	_, r = e.refresh(g.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
	// Only that session ended.
	other, r = e.refresh(other.RefreshToken)
	wantStatus(t, r, 200)
	wantStatus(t, e.get("/me", other.AccessToken), 200)

	// Without any access token, as a form (the body of a refresh_token
	// grant works as is): the session's live access token is refused on
	// every route from now on.
	h, _ := e.loginGrant("eddie", "")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {h.RefreshToken}}.Encode()
	wantStatus(t, e.send(req{method: "POST", path: "/logout", ctype: "application/x-www-form-urlencoded", body: form}), 204)
	wantRefused(t, e, h.AccessToken, codeTokenRevoked)
	_, r = e.refresh(h.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
}

// A refresh token that ends no session gets refresh_invalid and changes
// nothing: unknown, malformed, or its session already ended.
func TestLogoutWithInvalidRefreshToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("rita", "")
	ended, _ := e.loginGrant("rita", "")
	wantStatus(t, e.logoutRefresh(ended.RefreshToken, ""), 204)
	stored, held := e.revocationCount()
	for _, tok := range []string{
		strings.Repeat("A", 43), // well-formed, unknown
		"not-a-token",
		strings.Repeat("*", 43),
		ended.RefreshToken, // its session already ended
	} {
		p := wantProblem(t, e.logoutRefresh(tok, ""), 401, codeRefreshInvalid)
		if !strings.Contains(p.Detail, "refresh token") {
			t.Errorf("detail %q", p.Detail)
		}
	}
	// Requests that name no refresh token are judged by their access
	// token, as before: a body neither helps nor hurts.
	wantProblem(t, e.sendJSON("POST", "/logout", "", `{}`), 401, codeTokenMissing)
	wantProblem(t, e.sendJSON("POST", "/logout", "", `{"refresh_token":""}`), 401, codeTokenMissing)
	wantProblem(t, e.send(req{method: "POST", path: "/logout", ctype: "text/plain", body: g.RefreshToken}), 401, codeTokenMissing)
	wantProblem(t, e.sendJSON("POST", "/logout", g.AccessToken+"x", `{}`), 401, codeTokenInvalid)
	// Malformed bodies and ?all=1 (which needs an access token) are refused.
	wantProblem(t, e.sendJSON("POST", "/logout", "", `{"refresh_token":`+jsonQuote(g.RefreshToken)+`,"all":true}`), 400, codeUnknownField)
	wantProblem(t, e.sendJSON("POST", "/logout", "", `{"refresh_token":`), 400, codeInvalidJSON)
	wantProblem(t, e.send(req{method: "POST", path: "/logout", ctype: "application/x-www-form-urlencoded", body: "refresh_token=a&refresh_token=b"}), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/logout?all=1", "", `{"refresh_token":`+jsonQuote(g.RefreshToken)+`}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/logout?all=maybe", "", `{"refresh_token":`+jsonQuote(g.RefreshToken)+`}`), 400, codeInvalidRequest)

	if s, h := e.revocationCount(); s != stored || h != held {
		t.Fatalf("refused logouts changed the revocations: %d stored, %d held; were %d, %d", s, h, stored, held)
	}
	wantStatus(t, e.get("/me", g.AccessToken), 200)
	if _, r := e.refresh(g.RefreshToken); r.StatusCode != 200 {
		t.Fatalf("the session lives on: refresh %v", r)
	}
}

// A refresh token that was already rotated is reuse, at /logout as at
// /refresh: it was copied, so the whole session ends (whoever holds its
// successor is locked out), and the caller gets refresh_invalid.
func TestLogoutWithReusedRefreshToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	g1, _ := e.loginGrant("alice", "")
	g2, r := e.refresh(g1.RefreshToken)
	wantStatus(t, r, 200)
	wantProblem(t, e.logoutRefresh(g1.RefreshToken, ""), 401, codeRefreshInvalid)
	wantRefused(t, e, g2.AccessToken, codeTokenRevoked)
	_, r = e.refresh(g2.RefreshToken)
	wantProblem(t, r, 401, codeRefreshInvalid)
}

// A valid access token decides a logout as before: a refresh token in
// the body is not read (it may be another session's), and a cookie-
// authenticated logout still needs the CSRF header.
func TestLogoutAccessTokenWins(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("rita", "")
	other, _ := e.loginGrant("rita", "")
	wantStatus(t, e.logoutRefresh(other.RefreshToken, g.AccessToken), 204)
	wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenRevoked)
	wantStatus(t, e.get("/me", other.AccessToken), 200)

	_, lr := e.loginGrant("eddie", `,"cookie":true`)
	c := cookies(lr)
	q := cookieReq("POST", "/logout", c, "")
	q.ctype, q.body = "application/json", `{"refresh_token":`+jsonQuote(other.RefreshToken)+`}`
	wantProblem(t, e.send(q), 403, codeCSRF)
	wantStatus(t, e.send(cookieReq("GET", "/me", c, "")), 200)
	if _, r := e.refresh(other.RefreshToken); r.StatusCode != 200 {
		t.Fatalf("a refused cookie logout ended the body's session: %v", r)
	}
}
