package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Cookie names of the browser mode. The access and refresh tokens are
// HttpOnly: page scripts never see them. The CSRF cookie is readable on
// purpose: the page copies it into the X-CSRF-Token header.
//
// The prefixes make browsers refuse such cookies unless they are Secure
// and, for __Host-, have Path=/ and no Domain: a page on a sibling or
// parent domain cannot toss in a cookie of its own (an attacker's session)
// under these names. The refresh cookie's Path=/refresh allows only
// __Secure-.
const (
	CookieAccess  = "__Host-access_token"
	CookieRefresh = "__Secure-refresh_token"
	CookieCSRF    = "__Host-csrf_token"
)

// Cookie names with Config.InsecureCookies: a cookie without Secure
// cannot carry a prefix.
const (
	InsecureCookieAccess  = "access_token"
	InsecureCookieRefresh = "refresh_token"
	InsecureCookieCSRF    = "csrf_token"
)

// cookieNames are the names a server sets and reads.
type cookieNames struct{ access, refresh, csrf string }

func namesFor(insecure bool) cookieNames {
	if insecure {
		return cookieNames{InsecureCookieAccess, InsecureCookieRefresh, InsecureCookieCSRF}
	}
	return cookieNames{CookieAccess, CookieRefresh, CookieCSRF}
}

// refreshPath is the only path the refresh cookie is sent to.
const refreshPath = "/refresh"

type grantResponse struct {
	AccessToken      string `json:"access_token,omitempty"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	CSRFToken        string `json:"csrf_token,omitempty"`
	// MustChangePassword: an admin set the password, and the user is to
	// choose their own (POST /me/password).
	MustChangePassword bool `json:"must_change_password,omitempty"`
}

// writeGrant sends a login's or refresh's tokens: in the body (token_type
// Bearer), or as cookies with only the CSRF token in the body (token_type
// "cookie"). csrf is the CSRF token to keep ("" makes a new one).
func (s *server) writeGrant(w http.ResponseWriter, r *http.Request, g *auth.Grant, cookie bool, csrf string) {
	now := g.Claims.IssuedAt.Time // the service's clock, not this package's
	resp := grantResponse{
		TokenType:        "Bearer",
		ExpiresIn:        int64(g.Claims.ExpiresAt.Sub(g.Claims.IssuedAt.Time) / time.Second),
		RefreshExpiresIn: int64(g.RefreshExpiresAt.Sub(now) / time.Second),

		MustChangePassword: g.User != nil && g.User.MustChangePassword,
	}
	if resp.ExpiresIn <= 0 {
		resp.ExpiresIn = int64(s.tokens.TTL() / time.Second)
	}
	if cookie {
		if csrf == "" {
			csrf = newCSRFToken()
		}
		resp.TokenType, resp.CSRFToken = "cookie", csrf
		s.setCookie(w, s.cookies.access, g.AccessToken, "/", resp.ExpiresIn, true)
		s.setCookie(w, s.cookies.refresh, g.RefreshToken, refreshPath, resp.RefreshExpiresIn, true)
		s.setCookie(w, s.cookies.csrf, csrf, "/", resp.RefreshExpiresIn, false)
	} else {
		resp.AccessToken, resp.RefreshToken = g.AccessToken, g.RefreshToken
	}
	w.Header().Set("Pragma", "no-cache") // RFC 6749 section 5.1, with Cache-Control: no-store
	writeJSON(w, http.StatusOK, resp)
}

// setCookie sets a session cookie: SameSite=Lax, Secure unless the server
// runs with insecure cookies (plain http://localhost), maxAge seconds
// (negative deletes it).
func (s *server) setCookie(w http.ResponseWriter, name, value, path string, maxAge int64, httpOnly bool) {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: httpOnly,
		Secure: !s.insecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge)}
	if maxAge < 0 {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
}

func (s *server) clearCookies(w http.ResponseWriter) {
	s.setCookie(w, s.cookies.access, "", "/", -1, true)
	s.setCookie(w, s.cookies.refresh, "", refreshPath, -1, true)
	s.setCookie(w, s.cookies.csrf, "", "/", -1, false)
}

func newCSRFToken() string { return auth.NewRandomToken() }

// cookieValue returns the value of the first cookie called name, or "".
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// changesState reports whether a request with this method must pass the
// CSRF check when authenticated by cookie.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// csrfOK is the double-submit check: the X-CSRF-Token header equals the
// CSRF cookie. Another site can make the browser send the cookie but can
// neither read it nor set the header.
func (s *server) csrfOK(r *http.Request) bool {
	c := cookieValue(r, s.cookies.csrf)
	h := r.Header.Values("X-Csrf-Token")
	if c == "" || len(h) != 1 || len(c) != len(h[0]) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c), []byte(h[0])) == 1
}

// refresh rotates a refresh token given in a JSON body, an OAuth 2.0
// refresh_token grant form (RFC 6749 section 6), or (with no body) the
// refresh cookie, which then needs the CSRF header.
func (s *server) refresh(w http.ResponseWriter, r *http.Request) {
	var token string
	cookie := false
	switch ct := mediaType(r.Header.Get("Content-Type")); {
	case ct == "application/json":
		var req struct {
			RefreshToken string `json:"refresh_token"`
		}
		if !s.decodeJSON(w, r, &req) {
			return
		}
		token = req.RefreshToken
	case ct == "application/x-www-form-urlencoded":
		f, ok := s.grantForm(w, r, "refresh_token")
		if !ok {
			return
		}
		token = f.Get("refresh_token")
	case ct == "" && r.ContentLength <= 0:
		token, cookie = cookieValue(r, s.cookies.refresh), true
		if token == "" {
			writeProblem(w, http.StatusUnauthorized, codeRefreshInvalid, "send the refresh token in a JSON body, a refresh_token grant form, or the refresh cookie")
			return
		}
		if !s.csrfOK(r) {
			writeProblem(w, http.StatusForbidden, codeCSRF, "a refresh by cookie must send the csrf_token cookie's value in an X-CSRF-Token header")
			return
		}
	default:
		writeProblem(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"send application/json, a refresh_token grant form, or no body with the refresh cookie")
		return
	}
	if token == "" {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "refresh_token is required")
		return
	}
	g, err := s.svc.Refresh(s.auditCtx(r), token)
	s.metrics.Refresh(err)
	if err != nil {
		if cookie {
			s.clearCookies(w)
		}
		s.fail(w, r, err)
		return
	}
	csrf := ""
	if cookie {
		csrf = cookieValue(r, s.cookies.csrf)
	}
	s.writeGrant(w, r, g, cookie, csrf)
}

// logout ends a session. With a valid access token (a Bearer header, or
// the access cookie and the CSRF header) it ends the token's session
// (?all=1: every session of the user), refuses the token from now on,
// and clears the cookies: the token wins, a body is not read. A client
// whose access token has expired sends its refresh token instead, in a
// JSON body or a form as at POST /refresh: that ends the refresh token's
// session, and nothing else (no cookies are touched: a body is not an
// ambient credential, so such a request needs no CSRF header, and
// another site posting its own refresh token ends only its own session).
// The refresh cookie never reaches /logout (Path=/refresh): the browser
// pages refresh first, then log out by cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	c := s.findCredentials(r)
	var p *auth.Principal
	var err error
	if c.ok {
		p, err = s.tokens.Verify(c.token)
	}
	if p == nil {
		refresh, ok := s.logoutRefreshToken(w, r)
		switch {
		case !ok: // the problem is written
		case refresh != "":
			s.logoutRefresh(w, r, refresh)
		case !c.present:
			writeTokenMissing(w, "send the access token in an Authorization: Bearer header, or the refresh token in a refresh_token JSON member or form field")
		default:
			writeTokenFailure(w, c, err)
		}
		return
	}
	if c.cookie && !s.csrfOK(r) {
		writeProblem(w, http.StatusForbidden, codeCSRF, csrfDetail)
		return
	}
	stateOf(r).principal = p
	all, ok := logoutAll(w, r)
	if !ok {
		return
	}
	if err := s.svc.Logout(s.auditCtx(r), p, all); err != nil {
		s.failLogout(w, r, err)
		return
	}
	s.clearCookies(w)
	w.WriteHeader(http.StatusNoContent)
}

// logoutAll reads the all query parameter; on failure it has written the
// problem.
func logoutAll(w http.ResponseWriter, r *http.Request) (all, ok bool) {
	switch r.URL.Query().Get("all") {
	case "", "0", "false":
		return false, true
	case "1", "true":
		return true, true
	}
	writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "all must be 1 or 0")
	return false, false
}

// logoutRefreshToken reads the refresh token of a logout's JSON or form
// body ("" if there is none). Other bodies are not read, as before
// refresh tokens were taken here. On failure it has written the problem.
func (s *server) logoutRefreshToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.ContentLength == 0 {
		return "", true
	}
	switch mediaType(r.Header.Get("Content-Type")) {
	case "application/json":
		var req struct {
			RefreshToken string `json:"refresh_token"`
		}
		if !s.decodeJSON(w, r, &req) {
			return "", false
		}
		return req.RefreshToken, true
	case "application/x-www-form-urlencoded":
		f, ok := s.parseForm(w, r) // grant_type, if sent, is ignored
		if !ok {
			return "", false
		}
		return f.Get("refresh_token"), true
	}
	return "", true
}

// logoutRefresh ends the session of a refresh token. An unknown, expired
// or revoked token ends nothing; one that was already rotated is reuse
// and, as at POST /refresh, ends its whole session: both answer 401.
func (s *server) logoutRefresh(w http.ResponseWriter, r *http.Request, token string) {
	all, ok := logoutAll(w, r)
	if !ok {
		return
	}
	if all {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "all=1 needs a valid access token: refresh, then log out with the new access token")
		return
	}
	if err := s.svc.LogoutRefresh(s.auditCtx(r), token); err != nil {
		if errors.Is(err, auth.ErrRefreshInvalid) {
			writeProblem(w, http.StatusUnauthorized, codeRefreshInvalid, "the refresh token is unknown, expired, already used or revoked")
			return
		}
		s.failLogout(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// forwardAuth answers a reverse proxy's subrequest (nginx auth_request,
// Traefik ForwardAuth, Caddy forward_auth): 200 with the caller's
// identity in headers for a valid token, 401 without one, 403 when
// ?role= asks for more than the token's role. Cookie-authenticated
// writes need the CSRF header like everywhere else; the proxied method
// comes from X-Forwarded-Method or X-Original-Method.
func (s *server) forwardAuth(w http.ResponseWriter, r *http.Request) {
	var min auth.Role
	if v := r.URL.Query().Get("role"); v != "" {
		var err error
		if min, err = auth.ParseRole(v); err != nil {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "role must be admin, editor or reader")
			return
		}
	}
	method := r.Method
	for _, h := range []string{"X-Forwarded-Method", "X-Original-Method"} {
		if v := r.Header.Get(h); v != "" {
			method = v
			break
		}
	}
	p := s.verify(w, r, method)
	if p == nil {
		return
	}
	if p.Claims.MFAEnroll {
		writeProblem(w, http.StatusForbidden, codeMFAEnrollRequired, mfaEnrollDetail)
		return
	}
	if min != "" && !p.Role.AtLeast(min) {
		w.Header()["Www-Authenticate"] = challengeForbidden
		writeProblem(w, http.StatusForbidden, codeForbidden, roleDetail(min))
		return
	}
	h := w.Header()
	h.Set("X-Auth-Subject", p.Claims.Subject)
	h.Set("X-Auth-User", p.Name)
	h.Set("X-Auth-Role", string(p.Role))
	w.WriteHeader(http.StatusOK)
}
