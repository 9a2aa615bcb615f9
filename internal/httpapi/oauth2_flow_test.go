package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

const testIssuer = "https://auth.example.test"

// oidcEnv is a test server that is an OpenID provider, with two
// confidential clients (app, other) and a public one (spa).
type oidcEnv struct {
	*env
	key                *jwt.Key
	app, other, spa    *auth.Client
	appSecret, secret2 string
}

func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	key := genKey(t, jwt.EdDSA)
	o := &oidcEnv{env: newEnv(t, envOptions{key: key, publicURL: testIssuer + "/"}), key: key}
	ctx := context.Background()
	var err error
	o.app, o.appSecret, err = o.svc.RegisterClient(ctx, auth.ClientSpec{Name: "Wiki", RedirectURIs: []string{"https://wiki.example/cb"},
		PostLogoutRedirectURIs: []string{"https://wiki.example/bye"}})
	if err != nil {
		t.Fatal(err)
	}
	o.other, o.secret2, err = o.svc.RegisterClient(ctx, auth.ClientSpec{Name: "Other", RedirectURIs: []string{"https://other.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	o.spa, _, err = o.svc.RegisterClient(ctx, auth.ClientSpec{Name: "SPA", RedirectURIs: []string{"http://127.0.0.1:9000/cb"}, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// do sends q without following redirects.
func (o *oidcEnv) do(q req) resp {
	o.t.Helper()
	c := *o.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, o.srv.URL+q.path, body)
	if err != nil {
		o.t.Fatal(err)
	}
	for k, v := range q.header {
		r.Header[k] = v
	}
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	res, err := c.Do(r)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res, b}
}

// browser logs name in as the UI does and returns the session cookie header.
func (o *oidcEnv) browser(name string) http.Header {
	o.t.Helper()
	_, lr := o.loginGrant(name, `,"cookie":true`)
	return cookieReq("GET", "", cookies(lr), "").header
}

func newVerifier(t *testing.T) (verifier, challenge string) {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	return verifier, auth.PKCEChallenge(verifier)
}

// authorizeQuery is a valid request of client c with challenge.
func authorizeQuery(c *auth.Client, challenge string, mods ...func(url.Values)) url.Values {
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {c.RedirectURIs[0]}, "response_type": {"code"},
		"scope": {"openid profile offline_access"}, "state": {"st-123"}, "nonce": {"nonce-abc"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for _, m := range mods {
		m(q)
	}
	return q
}

func (o *oidcEnv) authorize(q url.Values, browser http.Header) resp {
	o.t.Helper()
	return o.do(req{method: "GET", path: "/oauth2/authorize?" + q.Encode(), header: browser})
}

// redirected checks a 302 to prefix and returns the query of Location.
func redirected(t *testing.T, r resp, prefix string) url.Values {
	t.Helper()
	if r.StatusCode != http.StatusFound {
		t.Fatalf("got %v, want 302 to %s", r, prefix)
	}
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, prefix+"?") {
		t.Fatalf("Location %q, want %s?...", loc, prefix)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// code runs the authorization step for a logged-in browser and returns the code.
func (o *oidcEnv) code(c *auth.Client, challenge string, browser http.Header, mods ...func(url.Values)) string {
	o.t.Helper()
	q := redirected(o.t, o.authorize(authorizeQuery(c, challenge, mods...), browser), c.RedirectURIs[0])
	if q.Get("code") == "" || q.Get("iss") != testIssuer {
		o.t.Fatalf("redirect %v: want a code and iss", q)
	}
	return q.Get("code")
}

const formType = "application/x-www-form-urlencoded"

func (o *oidcEnv) tokenReq(form url.Values, header http.Header) resp {
	o.t.Helper()
	return o.do(req{method: "POST", path: "/oauth2/token", ctype: formType, body: form.Encode(), header: header})
}

func exchangeForm(c *auth.Client, code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURIs[0]}, "code_verifier": {verifier}}
}

func (o *oidcEnv) tokens200(r resp) tokenResponse {
	o.t.Helper()
	wantStatus(o.t, r, 200)
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		o.t.Errorf("caching headers %v", r.Header)
	}
	if len(r.Header.Values("Set-Cookie")) > 0 {
		o.t.Errorf("the token endpoint sets cookies")
	}
	var tr tokenResponse
	decodeStrict(o.t, r.body, &tr)
	return tr
}

func (o *oidcEnv) idClaims(idToken, clientID string) auth.IDClaims {
	o.t.Helper()
	v, err := jwt.NewVerifier([]*jwt.Key{o.key.Public()}, jwt.WithIssuer(testIssuer), jwt.WithAudience(clientID), jwt.WithClock(o.clock.Now))
	if err != nil {
		o.t.Fatal(err)
	}
	var c auth.IDClaims
	if err := v.Verify(idToken, &c); err != nil {
		o.t.Fatalf("ID token: %v", err)
	}
	return c
}

func TestCodeFlow(t *testing.T) {
	o := newOIDCEnv(t)
	browser := o.browser("rita")
	verifier, challenge := newVerifier(t)
	q := redirected(t, o.authorize(authorizeQuery(o.app, challenge), browser), o.app.RedirectURIs[0])
	if q.Get("state") != "st-123" || q.Get("iss") != testIssuer {
		t.Fatalf("state or iss not passed back: %v", q)
	}
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, q.Get("code"), verifier), basic(o.app.ID, o.appSecret)))
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 900 || tr.AccessToken == "" || tr.IDToken == "" || tr.RefreshToken == "" ||
		tr.Scope != "openid profile offline_access" {
		t.Fatalf("token response %+v", tr)
	}
	id := o.idClaims(tr.IDToken, o.app.ID)
	if id.Nonce != "nonce-abc" || id.PreferredUsername != "rita" || id.Subject == "" || id.AuthTime == 0 || id.SessionID == "" || id.AuthorizedParty != o.app.ID {
		t.Errorf("ID token claims %+v", id)
	}

	r := o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.AccessToken})
	wantStatus(t, r, 200)
	var ui map[string]string
	decodeStrict(t, r.body, &ui)
	if ui["sub"] != id.Subject || ui["preferred_username"] != "rita" || ui["name"] != "rita" {
		t.Errorf("userinfo %v", ui)
	}
	wantStatus(t, o.do(req{method: "POST", path: "/oauth2/userinfo", token: tr.AccessToken}), 200)

	// Refresh with client_secret_post; the new ID token has no nonce.
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {o.app.ID}, "client_secret": {o.appSecret}}
	tr2 := o.tokens200(o.tokenReq(rf, nil))
	if tr2.RefreshToken == "" || tr2.RefreshToken == tr.RefreshToken || tr2.IDToken == "" {
		t.Fatalf("refresh %+v", tr2)
	}
	if id2 := o.idClaims(tr2.IDToken, o.app.ID); id2.Subject != id.Subject {
		t.Errorf("refreshed ID token %+v", id2)
	}
	// The old refresh token is spent; another client cannot use the new one.
	wantOAuthError(t, o.tokenReq(rf, nil), 400, oauthInvalidGrant)
	rf2 := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr2.RefreshToken}}
	wantOAuthError(t, o.tokenReq(rf2, basic(o.other.ID, o.secret2)), 400, oauthInvalidGrant)

	// The same browser session goes straight through again, without
	// state: then none comes back.
	q = redirected(t, o.authorize(authorizeQuery(o.app, challenge, func(q url.Values) { q.Del("state") }), browser), o.app.RedirectURIs[0])
	if _, ok := q["state"]; ok || q.Get("code") == "" {
		t.Errorf("redirect without state: %v", q)
	}
}

func TestCodeFlowWithoutOfflineAccessHasNoRefreshToken(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, o.browser("rita"), func(q url.Values) { q.Set("scope", "openid") })
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	if tr.RefreshToken != "" || tr.Scope != "openid" {
		t.Errorf("token response %+v", tr)
	}
	if id := o.idClaims(tr.IDToken, o.app.ID); id.PreferredUsername != "" || id.Name != "" {
		t.Errorf("ID token without profile scope has profile claims: %+v", id)
	}
	r := o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.AccessToken})
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), "rita") {
		t.Errorf("userinfo without profile scope: %s", r.body)
	}
}

func TestPublicClientFlow(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.spa, challenge, o.browser("rita"))
	form := exchangeForm(o.spa, code, verifier)
	form.Set("client_id", o.spa.ID)
	o.tokens200(o.tokenReq(form, nil))

	// Without PKCE: refused in the redirect.
	q := redirected(t, o.authorize(authorizeQuery(o.spa, "", func(q url.Values) { q.Del("code_challenge_method") }), o.browser("rita")), o.spa.RedirectURIs[0])
	if q.Get("error") != oauthInvalidRequest || q.Get("code") != "" || q.Get("state") != "st-123" {
		t.Errorf("public client without PKCE: %v", q)
	}
	// A public client cannot introspect.
	r := o.do(req{method: "POST", path: "/oauth2/introspect", ctype: formType, body: url.Values{"token": {"x"}, "client_id": {o.spa.ID}}.Encode()})
	wantOAuthError(t, r, 401, oauthInvalidClient)
}

func TestTokenEndpointRefusals(t *testing.T) {
	o := newOIDCEnv(t)
	browser := o.browser("rita")
	appAuth := basic(o.app.ID, o.appSecret)
	tests := []struct {
		name   string
		prep   func(code, verifier string) (url.Values, http.Header)
		status int
		err    string
	}{
		{"wrong verifier", func(code, v string) (url.Values, http.Header) {
			w, _ := newVerifier(t)
			return exchangeForm(o.app, code, w), appAuth
		}, 400, oauthInvalidGrant},
		{"missing verifier", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Del("code_verifier")
			return f, appAuth
		}, 400, oauthInvalidGrant},
		{"verifier as challenge (plain)", func(code, v string) (url.Values, http.Header) {
			return exchangeForm(o.app, code, auth.PKCEChallenge(v)), appAuth
		}, 400, oauthInvalidGrant},
		{"another redirect_uri", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Set("redirect_uri", "https://wiki.example/cb2")
			return f, appAuth
		}, 400, oauthInvalidGrant},
		{"code of another client", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Set("redirect_uri", o.other.RedirectURIs[0])
			return f, basic(o.other.ID, o.secret2)
		}, 400, oauthInvalidGrant},
		{"unknown code", func(code, v string) (url.Values, http.Header) {
			first := "x" // another first character than the code's
			if code[0] == 'x' {
				first = "y"
			}
			return exchangeForm(o.app, first+code[1:], v), appAuth
		}, 400, oauthInvalidGrant},
		{"wrong secret, basic", func(code, v string) (url.Values, http.Header) {
			return exchangeForm(o.app, code, v), basic(o.app.ID, o.appSecret+"x")
		}, 401, oauthInvalidClient},
		{"wrong secret, post", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Set("client_id", o.app.ID)
			f.Set("client_secret", "nope")
			return f, nil
		}, 401, oauthInvalidClient},
		{"confidential client without secret", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Set("client_id", o.app.ID)
			return f, nil
		}, 401, oauthInvalidClient},
		{"no client", func(code, v string) (url.Values, http.Header) { return exchangeForm(o.app, code, v), nil }, 401, oauthInvalidClient},
		{"two client auth methods", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Set("client_secret", o.appSecret)
			return f, appAuth
		}, 400, oauthInvalidRequest},
		{"password grant", func(code, v string) (url.Values, http.Header) {
			return url.Values{"grant_type": {"password"}, "username": {"rita"}, "password": {pw("rita")}}, appAuth
		}, 400, oauthUnsupportedGrantType},
		{"no grant_type", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Del("grant_type")
			return f, appAuth
		}, 400, oauthInvalidRequest},
		{"no code", func(code, v string) (url.Values, http.Header) {
			f := exchangeForm(o.app, code, v)
			f.Del("code")
			return f, appAuth
		}, 400, oauthInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			verifier, challenge := newVerifier(t)
			code := o.code(o.app, challenge, browser)
			form, h := tc.prep(code, verifier)
			r := o.tokenReq(form, h)
			wantOAuthError(t, r, tc.status, tc.err)
			wantChallenge := tc.err == oauthInvalidClient && h != nil
			if got := r.Header.Get("WWW-Authenticate"); (got != "") != wantChallenge || (wantChallenge && !strings.HasPrefix(got, "Basic ")) {
				t.Errorf("WWW-Authenticate %q (Basic challenge wanted: %v)", got, wantChallenge)
			}
		})
	}
}

func TestCodeReuseRevokesWhatItIssued(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, o.browser("rita"))
	form := exchangeForm(o.app, code, verifier)
	tr := o.tokens200(o.tokenReq(form, basic(o.app.ID, o.appSecret)))
	wantStatus(t, o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.AccessToken}), 200)

	wantOAuthError(t, o.tokenReq(form, basic(o.app.ID, o.appSecret)), 400, oauthInvalidGrant)
	// RFC 6749 section 4.1.2: what the first redemption issued is revoked.
	r := o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.AccessToken})
	if r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("access token of a reused code: %v %v", r, r.Header)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	wantOAuthError(t, o.tokenReq(rf, basic(o.app.ID, o.appSecret)), 400, oauthInvalidGrant)
}

func TestExpiredCode(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, o.browser("rita"))
	o.clock.Advance(auth.AuthCodeTTL + time.Second)
	wantOAuthError(t, o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)), 400, oauthInvalidGrant)
}

// TestAuthorizeErrorPages: with an unknown client or a redirect URI that
// is not registered exactly, the browser gets a page and no redirect.
func TestAuthorizeErrorPages(t *testing.T) {
	o := newOIDCEnv(t)
	browser := o.browser("rita")
	_, challenge := newVerifier(t)
	for _, uri := range []string{
		"https://evil.example/cb",
		"https://wiki.example.evil/cb",
		"https://wiki.example/cb.evil",
		"https://wiki.example@evil.example/cb",
		"https://evil.example\\@wiki.example/cb",
		"https://wiki.example/cb#frag",
		"https://wiki.example/cb?x=1",
		"//evil.example/cb",
		"https://other.example/cb", // another client's
	} {
		t.Run(uri, func(t *testing.T) {
			r := o.authorize(authorizeQuery(o.app, challenge, func(q url.Values) { q.Set("redirect_uri", uri) }), browser)
			if r.StatusCode != 400 || r.Header.Get("Location") != "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("got %v, Location %q: want a 400 page", r.Status, r.Header.Get("Location"))
			}
			if strings.Contains(string(r.body), "evil.example") {
				t.Errorf("the page repeats the URI")
			}
		})
	}
	r := o.authorize(authorizeQuery(o.app, challenge, func(q url.Values) { q.Set("client_id", "nope") }), browser)
	if r.StatusCode != 400 || r.Header.Get("Location") != "" {
		t.Fatalf("unknown client: %v", r)
	}
}

func TestAuthorizeRedirectErrors(t *testing.T) {
	o := newOIDCEnv(t)
	browser := o.browser("rita")
	_, challenge := newVerifier(t)
	tests := []struct {
		name string
		mod  func(url.Values)
		want string
	}{
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, oauthInvalidRequest},
		{"no openid", func(q url.Values) { q.Set("scope", "profile") }, oauthInvalidScope},
		{"implicit", func(q url.Values) { q.Set("response_type", "token") }, oauthUnsupportedResponseType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := redirected(t, o.authorize(authorizeQuery(o.app, challenge, tc.mod), browser), o.app.RedirectURIs[0])
			if q.Get("error") != tc.want || q.Get("state") != "st-123" || q.Get("iss") != testIssuer || q.Get("code") != "" {
				t.Errorf("redirect %v, want error %s with state and iss", q, tc.want)
			}
		})
	}
}

func TestAuthorizeWithoutSession(t *testing.T) {
	o := newOIDCEnv(t)
	_, challenge := newVerifier(t)
	q := authorizeQuery(o.app, challenge)
	lq := redirected(t, o.authorize(q, nil), testIssuer+"/")
	ret := lq.Get("return")
	if !strings.HasPrefix(ret, "/oauth2/authorize?") {
		t.Fatalf("return %q", ret)
	}
	back, _ := url.ParseQuery(strings.TrimPrefix(ret, "/oauth2/authorize?"))
	if back.Encode() != q.Encode() {
		t.Errorf("return loses the request: %v", back)
	}

	// prompt=none: no login page, login_required to the client.
	rq := redirected(t, o.authorize(authorizeQuery(o.app, challenge, func(q url.Values) { q.Set("prompt", "none") }), nil), o.app.RedirectURIs[0])
	if rq.Get("error") != oauthLoginRequired || rq.Get("state") != "st-123" {
		t.Errorf("prompt=none: %v", rq)
	}

	// prompt=login with a session: the login page, and the way back
	// does not ask again.
	lq = redirected(t, o.authorize(authorizeQuery(o.app, challenge, func(q url.Values) { q.Set("prompt", "login") }), o.browser("rita")), testIssuer+"/")
	if lq.Get("prompt") != "login" || strings.Contains(lq.Get("return"), "prompt") {
		t.Errorf("prompt=login: %v", lq)
	}
	// A session of a token from another client is no browser session.
	verifier, ch := newVerifier(t)
	code := o.code(o.app, ch, o.browser("rita"))
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	h := http.Header{"Cookie": {CookieAccess + "=" + tr.AccessToken}}
	redirected(t, o.authorize(authorizeQuery(o.app, challenge), h), testIssuer+"/")
}

// TestClientTokenAudience: an access token issued to a client is not
// accepted by jwtgate's own API, nor by a verifier for another client.
func TestClientTokenAudience(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, o.browser("rita"))
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	wantProblem(t, o.get("/me", tr.AccessToken), 401, codeTokenInvalid)
	wantProblem(t, o.get("/posts", tr.AccessToken), 401, codeTokenInvalid)

	v, err := jwt.NewVerifier([]*jwt.Key{o.key.Public()}, jwt.WithIssuer(testIssuer), jwt.WithAudience(o.other.ID), jwt.WithClock(o.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var c auth.AccessClaims
	if err := v.Verify(tr.AccessToken, &c); err == nil {
		t.Fatal("client B's verifier accepts client A's access token")
	}
	// Introspection: active for its client, inactive for another.
	intro := func(h http.Header) map[string]any {
		r := o.do(req{method: "POST", path: "/oauth2/introspect", ctype: formType, body: url.Values{"token": {tr.AccessToken}}.Encode(), header: h})
		wantStatus(t, r, 200)
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := intro(basic(o.app.ID, o.appSecret)); m["active"] != true || m["client_id"] != o.app.ID || m["username"] != "rita" {
		t.Errorf("introspection by its client: %v", m)
	}
	if m := intro(basic(o.other.ID, o.secret2)); m["active"] != false || len(m) != 1 {
		t.Errorf("introspection by another client: %v", m)
	}
	// The ID token is no access token either.
	wantProblem(t, o.get("/me", tr.IDToken), 401, codeTokenInvalid)
	if r := o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.IDToken}); r.StatusCode != 401 {
		t.Errorf("userinfo with an ID token: %v", r)
	}
}

func TestRevoke(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, o.browser("rita"))
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	rev := func(tok string, h http.Header) resp {
		return o.do(req{method: "POST", path: "/oauth2/revoke", ctype: formType, body: url.Values{"token": {tok}}.Encode(), header: h})
	}
	// Another client's revocation changes nothing, and says so with 200.
	wantStatus(t, rev(tr.RefreshToken, basic(o.other.ID, o.secret2)), 200)
	wantStatus(t, rev("unknown", basic(o.app.ID, o.appSecret)), 200)
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	tr2 := o.tokens200(o.tokenReq(rf, basic(o.app.ID, o.appSecret)))

	wantStatus(t, rev(tr2.RefreshToken, basic(o.app.ID, o.appSecret)), 200)
	rf.Set("refresh_token", tr2.RefreshToken)
	wantOAuthError(t, o.tokenReq(rf, basic(o.app.ID, o.appSecret)), 400, oauthInvalidGrant)
	wantOAuthError(t, rev("x", basic(o.app.ID, "bad")), 401, oauthInvalidClient)
}

func TestEndSession(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	browser := o.browser("rita")
	code := o.code(o.app, challenge, browser)
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))

	// Without a hint a GET only asks to confirm, and ends nothing.
	r := o.do(req{method: "GET", path: "/oauth2/logout?client_id=" + o.app.ID, header: browser})
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `method="post"`) {
		t.Fatalf("logout without hint: %v", r)
	}
	wantStatus(t, o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.AccessToken}), 200)
	// Browsers apply form-action to the redirect after the form too: the
	// page allows the registered way back, and no other.
	for uri, want := range map[string]string{"https://wiki.example/bye": "form-action 'self' https://wiki.example", "https://evil.example/bye": "form-action 'self'"} {
		q := url.Values{"client_id": {o.app.ID}, "post_logout_redirect_uri": {uri}}
		csp := o.do(req{method: "GET", path: "/oauth2/logout?" + q.Encode(), header: browser}).Header.Get("Content-Security-Policy")
		if !strings.HasSuffix(csp, want) {
			t.Errorf("confirmation page for %s: CSP %q, want it to end in %q", uri, csp, want)
		}
	}

	// An unregistered post_logout_redirect_uri: no redirect.
	q := url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {"https://evil.example/bye"}, "state": {"s1"}}
	o.clock.Advance(time.Hour) // an expired ID token is a good hint
	r = o.do(req{method: "GET", path: "/oauth2/logout?" + q.Encode(), header: browser})
	if r.StatusCode != 200 || r.Header.Get("Location") != "" {
		t.Fatalf("logout to an unregistered URI: %v %v", r, r.Header)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	wantOAuthError(t, o.tokenReq(rf, basic(o.app.ID, o.appSecret)), 400, oauthInvalidGrant)

	q.Set("post_logout_redirect_uri", "https://wiki.example/bye")
	r = o.do(req{method: "GET", path: "/oauth2/logout?" + q.Encode()})
	if r.StatusCode != 302 || r.Header.Get("Location") != "https://wiki.example/bye?state=s1" {
		t.Fatalf("logout redirect: %v %v", r, r.Header.Get("Location"))
	}
	// A forged hint is refused.
	r = o.do(req{method: "GET", path: "/oauth2/logout?id_token_hint=" + tr.AccessToken})
	if r.StatusCode != 400 {
		t.Errorf("logout with an access token as hint: %v", r)
	}
}

func TestTokenEndpointRateLimit(t *testing.T) {
	o := newOIDCEnv(t)
	o.h.tokenClientLimit = &auth.Limiter{Every: time.Hour, Burst: 2, Now: o.clock.Now}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
	for i := 0; i < 2; i++ {
		wantOAuthError(t, o.tokenReq(form, basic(o.app.ID, o.appSecret)), 400, oauthInvalidGrant)
	}
	r := o.tokenReq(form, basic(o.app.ID, o.appSecret))
	wantOAuthError(t, r, 429, oauthTemporarilyUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Another client has its own budget.
	wantOAuthError(t, o.tokenReq(form, basic(o.other.ID, o.secret2)), 400, oauthInvalidGrant)
}

// TestOAuthEndpointsIgnoreCrossOrigin: applications call these from
// anywhere with their own credentials; a browser's Origin does not matter.
func TestOAuthEndpointsIgnoreCrossOrigin(t *testing.T) {
	o := newOIDCEnv(t)
	h := basic(o.app.ID, o.appSecret)
	h.Set("Sec-Fetch-Site", "cross-site")
	h.Set("Origin", "https://wiki.example")
	for _, path := range []string{"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"} {
		r := o.do(req{method: "POST", path: path, ctype: formType, body: "grant_type=refresh_token&refresh_token=x&token=x", header: h})
		if r.StatusCode == 403 {
			t.Errorf("%s: %v", path, r)
		}
	}
	// The logout confirmation is a browser form: it stays protected.
	r := o.do(req{method: "POST", path: "/oauth2/logout", ctype: formType, body: "client_id=x", header: h})
	wantProblem(t, r, 403, codeCrossOrigin)
}

// An application may send the browser to the authorization endpoint with
// a form POST (OpenID Connect Core 1.0 section 3.1.2.1): from its own
// origin, with the same parameters and the same answers as a GET.
func TestAuthorizePOST(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	h := o.browser("rita")
	h.Set("Sec-Fetch-Site", "cross-site")
	h.Set("Origin", "https://wiki.example")
	r := o.do(req{method: "POST", path: "/oauth2/authorize", ctype: formType, body: authorizeQuery(o.app, challenge).Encode(), header: h})
	q := redirected(t, r, o.app.RedirectURIs[0])
	if q.Get("state") != "st-123" || q.Get("code") == "" {
		t.Fatalf("POST authorize redirect %v", q)
	}
	o.tokens200(o.tokenReq(exchangeForm(o.app, q.Get("code"), verifier), basic(o.app.ID, o.appSecret)))
	// An unregistered redirect URI gets the error page, as with GET.
	bad := authorizeQuery(o.app, challenge, func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") })
	if r := o.do(req{method: "POST", path: "/oauth2/authorize", ctype: formType, body: bad.Encode(), header: h}); r.StatusCode != 400 || r.Header.Get("Location") != "" {
		t.Errorf("POST authorize to an unregistered URI: %v %v", r.Status, r.Header.Get("Location"))
	}
}

// TestOAuthHEADChangesNothing: HEAD of the authorization or logout
// endpoint (a link checker, a prefetch) neither issues a code nor logs out.
func TestOAuthHEADChangesNothing(t *testing.T) {
	o := newOIDCEnv(t)
	_, challenge := newVerifier(t)
	browser := o.browser("rita")
	r := o.do(req{method: "HEAD", path: "/oauth2/authorize?" + authorizeQuery(o.app, challenge).Encode(), header: browser})
	if r.StatusCode != 405 || r.Header.Get("Location") != "" {
		t.Errorf("HEAD authorize: %v %v", r.Status, r.Header)
	}
	if r := o.do(req{method: "HEAD", path: "/oauth2/logout", header: browser}); r.StatusCode != 405 {
		t.Errorf("HEAD logout: %v", r.Status)
	}
}

func TestClientInfo(t *testing.T) {
	o := newOIDCEnv(t)
	r := o.get("/oauth2/client-info?client_id="+o.app.ID, "")
	wantStatus(t, r, 200)
	if string(r.body) != `{"client_id":"`+o.app.ID+`","name":"Wiki"}` {
		t.Errorf("client-info %s", r.body)
	}
	wantProblem(t, o.get("/oauth2/client-info?client_id=nope", ""), 404, codeNotFound)
}

// The ID token's auth_time is when the browser's user logged in, however
// much later the code is issued; max_age lets a login that recent through
// and sends an older one back to the login page.
func TestAuthTimeAndMaxAge(t *testing.T) {
	o := newOIDCEnv(t)
	loggedIn := o.clock.Now()
	browser := o.browser("rita")
	o.clock.Advance(10 * time.Minute)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, browser, func(q url.Values) { q.Set("max_age", "3600") })
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	if id := o.idClaims(tr.IDToken, o.app.ID); id.AuthTime != loggedIn.Unix() {
		t.Errorf("auth_time %d, want the login's %d (the code was issued 10 minutes later)", id.AuthTime, loggedIn.Unix())
	}
	r := o.authorize(authorizeQuery(o.app, challenge, func(q url.Values) { q.Set("max_age", "300") }), browser)
	if q := redirected(t, r, testIssuer+"/"); q.Get("prompt") != "login" || !strings.HasPrefix(q.Get(loginReturnParam), "/oauth2/authorize?") {
		t.Errorf("max_age=300 ten minutes after the login: login page query %v, want prompt=login and a return", q)
	}
}
