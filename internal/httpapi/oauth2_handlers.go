package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// lookupClient adapts Service.Client to validateAuthorize.
func (s *server) lookupClient(ctx context.Context) func(string) (*authzClient, error) {
	return func(id string) (*authzClient, error) {
		c, err := s.svc.Client(ctx, id)
		if errors.Is(err, auth.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &authzClient{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, Public: c.Public()}, nil
	}
}

// browserPrincipal returns the user of the browser's session (the access
// cookie), or nil. Reading it on a GET needs no CSRF check: nothing
// changes on the user's behalf but what the redirect URI check allows.
func (s *server) browserPrincipal(r *http.Request) *auth.Principal {
	tok := cookieValue(r, s.cookies.access)
	if tok == "" {
		return nil
	}
	p, err := s.tokens.Verify(tok)
	if err != nil {
		return nil
	}
	return p
}

// loginReturnParam is the query parameter of the login page (GET /) that
// names where to go after logging in: only /oauth2/authorize?...
const loginReturnParam = "return"

// authorize is the authorization endpoint (OpenID Connect Core 1.0
// section 3.1.2). A logged-in browser goes straight back to the client
// with a code; otherwise to the login page, which returns here.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, issuer string) {
	q := r.URL.Query()
	if r.Method == http.MethodPost { // the same parameters, form-encoded (section 3.1.2.1)
		if !s.limitBody(w, r) {
			return
		}
		if err := r.ParseForm(); err != nil {
			writeErrorPage(w, http.StatusBadRequest, oauthInvalidRequest, errorPageData{
				Title: "This sign-in request is not valid", Description: "Its form body cannot be read."})
			return
		}
		q = r.PostForm
	}
	req, aerr, err := validateAuthorize(q, s.lookupClient(r.Context()), !s.svc.PKCEOptional)
	if err != nil {
		s.authorizeFault(w, r, nil, issuer, err)
		return
	}
	if aerr != nil {
		if aerr.page {
			writeErrorPage(w, http.StatusBadRequest, aerr.code, errorPageData{
				Title:       "This sign-in link is not valid",
				Description: sentence(aerr.description),
				Hint:        "The application that sent you here is misconfigured; you were not sent back to it. Tell its administrator.",
			})
			return
		}
		redirectWithError(w, r, req, issuer, aerr)
		return
	}
	p := s.browserPrincipal(r)
	var authTime time.Time
	if p != nil && p.Claims.AuthTime > 0 {
		authTime = time.Unix(p.Claims.AuthTime, 0)
	}
	// max_age: a login longer ago than that (or at an unknown time) is
	// done again, as prompt=login asks.
	fresh := req.PromptLogin || req.MaxAge >= 0 && (authTime.IsZero() || s.svc.Time().Sub(authTime) > time.Duration(req.MaxAge)*time.Second)
	if p == nil || fresh {
		if req.PromptNone {
			redirectWithError(w, r, req, issuer, redirectError(oauthLoginRequired, "the user is not logged in"))
			return
		}
		s.redirectToLogin(w, r, issuer, q, fresh)
		return
	}
	if p.Claims.MFAEnroll {
		writeErrorPage(w, http.StatusForbidden, codeMFAEnrollRequired, errorPageData{
			Title:       "Set up a second factor first",
			Description: "Your role requires a second factor before you can sign in to applications.",
			Hint:        "Open the Security page of this server, set up an authenticator app, then sign in again.",
		})
		return
	}
	code, err := s.svc.IssueAuthCode(r.Context(), p, auth.AuthRequest{
		ClientID: req.Client.ID, RedirectURI: req.RedirectURI, Scope: req.Scope, Nonce: req.Nonce,
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: codeChallengeMethod(req.CodeChallenge),
		AuthTime: authTime, AMR: p.Claims.AMR,
	})
	if err != nil {
		s.authorizeFault(w, r, req, issuer, err)
		return
	}
	http.Redirect(w, r, authzRedirect(req, issuer, url.Values{"code": {code}}), http.StatusFound)
}

// sentence capitalizes an error description (ASCII) and ends it with a period.
func sentence(s string) string {
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s + "."
}

func codeChallengeMethod(challenge string) string {
	if challenge == "" {
		return ""
	}
	return "S256"
}

// redirectToLogin sends the browser to the login page, which comes back
// to this request. A fresh login drops prompt=login and max_age from the
// way back: the user will just have logged in, and asking again would
// loop.
func (s *server) redirectToLogin(w http.ResponseWriter, r *http.Request, issuer string, q url.Values, fresh bool) {
	back := url.Values{}
	for k, v := range q {
		back[k] = v
	}
	params := url.Values{}
	if fresh {
		back.Del("max_age")
		var rest []string
		for _, p := range strings.Fields(back.Get("prompt")) {
			if p != "login" {
				rest = append(rest, p)
			}
		}
		if len(rest) == 0 {
			back.Del("prompt")
		} else {
			back.Set("prompt", strings.Join(rest, " "))
		}
		params.Set("prompt", "login")
	}
	params.Set(loginReturnParam, "/oauth2/authorize?"+back.Encode())
	http.Redirect(w, r, issuer+"/?"+params.Encode(), http.StatusFound)
}

// authorizeFault answers an error of the store or the service during
// authorization: to the client when its redirect URI is known (req not
// nil), else on a page.
func (s *server) authorizeFault(w http.ResponseWriter, r *http.Request, req *authzRequest, issuer string, err error) {
	code, desc := oauthServerError, "the server could not complete the request"
	switch {
	case errors.Is(err, auth.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		code, desc = oauthTemporarilyUnavailable, "the server is temporarily unavailable; try again later"
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrNotFound):
		code, desc = oauthInvalidRequest, "the request is not valid for this client"
	case errors.Is(err, auth.ErrStale), errors.Is(err, auth.ErrRevoked):
		code, desc = oauthLoginRequired, "the session changed; log in again"
	default:
		s.log.LogAttrs(r.Context(), slog.LevelError, "authorize failed",
			slog.String("request_id", stateOf(r).id), slog.String("err", err.Error()))
	}
	if req == nil {
		writeErrorPage(w, http.StatusServiceUnavailable, code, errorPageData{
			Title: "Sign-in is unavailable", Description: sentence(desc), Hint: "Try again in a moment."})
		return
	}
	redirectWithError(w, r, req, issuer, redirectError(code, desc))
}

// tokenResponse is RFC 6749 section 5.1 plus OpenID Connect's id_token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// authenticateClient reads and checks the client's credentials of a
// token, revocation or introspection request. On failure it has written
// the error.
func (s *server) authenticateClient(w http.ResponseWriter, r *http.Request, f url.Values, allowPublic bool) (*auth.Client, bool) {
	ca, err := parseClientAuth(r.Header, f)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "authenticate the client once: HTTP Basic, or client_id and client_secret in the body")
		return nil, false
	}
	if ca.method == authAbsent {
		writeInvalidClient(w, ca, "client authentication is required")
		return nil, false
	}
	if !s.allowClient(w, r, ca.id) {
		return nil, false
	}
	c, err := s.svc.AuthenticateClient(r.Context(), ca.id, ca.secret)
	switch {
	case errors.Is(err, auth.ErrClientAuth):
		writeInvalidClient(w, ca, "client authentication failed")
		return nil, false
	case err != nil:
		s.oauthFault(w, r, err)
		return nil, false
	case c.Public() && !allowPublic:
		writeInvalidClient(w, ca, "a public client cannot use this endpoint")
		return nil, false
	}
	return c, true
}

// allowClient spends one attempt from the client address's and the
// client id's budget of token endpoint calls; with none left it answers
// 429 with Retry-After.
func (s *server) allowClient(w http.ResponseWriter, r *http.Request, clientID string) bool {
	ok, wait := s.tokenIPLimit.Allow(stateOf(r).ip)
	if ok {
		ok, wait = s.tokenClientLimit.Allow(clientID)
	}
	if ok {
		return true
	}
	setRetryAfter(w, wait)
	writeOAuthError(w, http.StatusTooManyRequests, oauthTemporarilyUnavailable, "too many requests; wait Retry-After seconds")
	return false
}

// oauthFault writes the error of an unexpected failure at an OAuth
// endpoint: 503 when the database is down, else 500 (logged).
func (s *server) oauthFault(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		writeOAuthError(w, http.StatusServiceUnavailable, oauthTemporarilyUnavailable, "the database is unavailable; try again later")
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("request_id", stateOf(r).id), slog.String("path", r.URL.Path), slog.String("err", err.Error()))
	writeOAuthError(w, http.StatusInternalServerError, oauthServerError, "internal error; quote the X-Request-Id response header when reporting it")
}

// token is the token endpoint (RFC 6749 section 3.2): the authorization
// code and refresh token grants for registered clients. It reads no
// cookies and sets none.
func (s *server) token(w http.ResponseWriter, r *http.Request, issuer string) {
	f, ok := s.oauthForm(w, r)
	if !ok {
		return
	}
	grantType := f.Get("grant_type")
	switch grantType {
	case "authorization_code", "refresh_token":
	case "":
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "grant_type is required")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, oauthUnsupportedGrantType, "grant_type must be authorization_code or refresh_token")
		return
	}
	c, ok := s.authenticateClient(w, r, f, true)
	if !ok {
		return
	}
	var g *auth.Grant
	var err error
	if grantType == "authorization_code" {
		code := f.Get("code")
		if code == "" || f.Get("redirect_uri") == "" {
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "code and redirect_uri are required")
			return
		}
		g, err = s.svc.ExchangeAuthCode(s.auditCtx(r), c, code, f.Get("redirect_uri"), f.Get("code_verifier"))
	} else {
		rt := f.Get("refresh_token")
		if rt == "" {
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "refresh_token is required")
			return
		}
		g, err = s.svc.RefreshClient(s.auditCtx(r), c, rt)
		s.metrics.Refresh(err)
	}
	switch {
	case errors.Is(err, auth.ErrInvalidGrant), errors.Is(err, auth.ErrRefreshInvalid):
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidGrant, "the code or refresh token is invalid, expired, already used, or was issued to another client or redirect URI, or the PKCE verifier does not match")
		return
	case errors.Is(err, auth.ErrInvalid):
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "the request is malformed")
		return
	case err != nil:
		s.oauthFault(w, r, err)
		return
	}
	expires := int64(g.Claims.ExpiresAt.Sub(g.Claims.IssuedAt.Time) / time.Second)
	if expires <= 0 {
		expires = int64(s.tokens.TTL() / time.Second)
	}
	w.Header()["Pragma"] = hPragmaNoCache
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: g.AccessToken, TokenType: "Bearer", ExpiresIn: expires,
		IDToken: g.IDToken, RefreshToken: g.RefreshToken, Scope: strings.Join(g.Scope, " "),
	})
}

// userinfo is OpenID Connect Core 1.0 section 5.3: the claims about the
// user of a client's access token with the openid scope. Errors are RFC
// 6750 challenges.
func (s *server) userinfo(w http.ResponseWriter, r *http.Request, issuer string) {
	tok, present, ok := bearerToken(r.Header)
	if !present {
		w.Header()["Www-Authenticate"] = challengeMissing
		writeOAuthError(w, http.StatusUnauthorized, oauthInvalidRequest, "send the access token in an Authorization: Bearer header")
		return
	}
	var p *auth.Principal
	var err error
	if ok {
		p, err = s.tokens.VerifyClient(tok)
	}
	if !ok || err != nil {
		w.Header()["Www-Authenticate"] = []string{`Bearer realm="jwtgate", error="invalid_token", error_description="the access token is invalid, expired or revoked"`}
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	scope := strings.Fields(p.Claims.Scope)
	if !slices.Contains(scope, scopeOpenID) {
		w.Header()["Www-Authenticate"] = []string{`Bearer realm="jwtgate", error="insufficient_scope", scope="openid"`}
		writeOAuthError(w, http.StatusForbidden, "insufficient_scope", "the access token was not granted the openid scope")
		return
	}
	out := map[string]string{"sub": p.Claims.Subject}
	if slices.Contains(scope, scopeProfile) {
		u, err := s.svc.Store.UserByID(r.Context(), p.UserID)
		if errors.Is(err, auth.ErrNotFound) {
			w.Header()["Www-Authenticate"] = []string{`Bearer realm="jwtgate", error="invalid_token", error_description="the user no longer exists"`}
			writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the user no longer exists")
			return
		}
		if err != nil {
			s.oauthFault(w, r, err)
			return
		}
		out["name"], out["preferred_username"] = u.Name, u.Name
	}
	writeJSON(w, http.StatusOK, out)
}

// revoke is RFC 7009 token revocation: 200 whether or not the token was
// known, so that a client learns nothing about other tokens.
func (s *server) revoke(w http.ResponseWriter, r *http.Request, issuer string) {
	f, ok := s.oauthForm(w, r)
	if !ok {
		return
	}
	c, ok := s.authenticateClient(w, r, f, true)
	if !ok {
		return
	}
	tok := f.Get("token")
	if tok == "" {
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "token is required")
		return
	}
	if err := s.svc.RevokeToken(s.auditCtx(r), c, tok); err != nil {
		s.oauthFault(w, r, err)
		return
	}
	w.Header()["Pragma"] = hPragmaNoCache
	w.WriteHeader(http.StatusOK)
}

// introspectionResponse is RFC 7662 section 2.2.
type introspectionResponse struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
}

// introspect is RFC 7662 token introspection, for confidential clients
// about their own tokens.
func (s *server) introspect(w http.ResponseWriter, r *http.Request, issuer string) {
	f, ok := s.oauthForm(w, r)
	if !ok {
		return
	}
	c, ok := s.authenticateClient(w, r, f, false)
	if !ok {
		return
	}
	tok := f.Get("token")
	if tok == "" {
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "token is required")
		return
	}
	in, err := s.svc.Introspect(r.Context(), c, tok)
	if err != nil {
		s.oauthFault(w, r, err)
		return
	}
	out := introspectionResponse{Active: in.Active}
	if in.Active {
		out = introspectionResponse{Active: true, Scope: strings.Join(in.Scope, " "), ClientID: in.ClientID,
			Username: in.Username, TokenType: in.TokenType, Sub: in.Subject, Aud: in.Audience, Iss: in.Issuer, Jti: in.TokenID}
		if !in.ExpiresAt.IsZero() {
			out.Exp = in.ExpiresAt.Unix()
		}
		if !in.IssuedAt.IsZero() {
			out.Iat = in.IssuedAt.Unix()
		}
	}
	w.Header()["Pragma"] = hPragmaNoCache
	writeJSON(w, http.StatusOK, out)
}

// clientInfo gives the login page the public name of a client, to say
// which application asks the user to sign in.
func (s *server) clientInfo(w http.ResponseWriter, r *http.Request, issuer string) {
	id := r.URL.Query().Get("client_id")
	if id == "" {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "client_id is required")
		return
	}
	c, err := s.svc.Client(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ClientID string `json:"client_id"`
		Name     string `json:"name"`
	}{c.ID, c.Name})
}
