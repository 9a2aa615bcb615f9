package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestOIDCBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://auth.example.test", "https://auth.example.test"},
		{"https://auth.example.test/", "https://auth.example.test"},
		{"https://auth.example.test/sso/", "https://auth.example.test/sso"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:8080/", "http://localhost:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://auth.example.test", ""},   // plain http off loopback
		{"http://127.0.0.1.evil.test", ""}, // not a loopback address
		{"https://user@auth.example.test", ""},
		{"https://auth.example.test/?x=1", ""},
		{"https://auth.example.test/#f", ""},
		{"ftp://auth.example.test", ""},
		{"", ""},
		{"auth.example.test", ""},
	}
	for _, tc := range tests {
		if got := oidcBaseURL(tc.in); got != tc.want {
			t.Errorf("oidcBaseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func basic(id, secret string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
}

func TestParseClientAuth(t *testing.T) {
	tests := []struct {
		name    string
		header  http.Header
		form    url.Values
		want    clientAuth
		wantErr bool
	}{
		{"basic", basic("app", "s3cret"), url.Values{}, clientAuth{authBasic, "app", "s3cret"}, false},
		// RFC 6749 section 2.3.1: both parts are form-urlencoded first.
		{"basic form-urldecoded", basic("my%3Aapp", "a+b%2Bc%3A%25"), url.Values{}, clientAuth{authBasic, "my:app", "a b+c:%"}, false},
		{"basic with the same client_id in the form", basic("app", "s"), url.Values{"client_id": {"app"}}, clientAuth{authBasic, "app", "s"}, false},
		{"basic scheme case-insensitive", http.Header{"Authorization": {"basic " + base64.StdEncoding.EncodeToString([]byte("app:s"))}}, url.Values{}, clientAuth{authBasic, "app", "s"}, false},
		{"post", nil, url.Values{"client_id": {"app"}, "client_secret": {"s"}}, clientAuth{authPost, "app", "s"}, false},
		{"none", nil, url.Values{"client_id": {"app"}}, clientAuth{authNone, "app", ""}, false},
		{"absent", nil, url.Values{}, clientAuth{method: authAbsent}, false},
		{"basic and post", basic("app", "s"), url.Values{"client_secret": {"s"}}, clientAuth{}, true},
		{"basic and another client_id", basic("app", "s"), url.Values{"client_id": {"other"}}, clientAuth{}, true},
		{"secret without id", nil, url.Values{"client_secret": {"s"}}, clientAuth{}, true},
		{"bearer", http.Header{"Authorization": {"Bearer abc"}}, url.Values{}, clientAuth{}, true},
		{"two headers", http.Header{"Authorization": {basic("a", "b").Get("Authorization"), basic("a", "b").Get("Authorization")}}, url.Values{}, clientAuth{}, true},
		{"not base64", http.Header{"Authorization": {"Basic !!!"}}, url.Values{}, clientAuth{}, true},
		{"no colon", http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("app"))}}, url.Values{}, clientAuth{}, true},
		{"bad escape", basic("app", "%zz"), url.Values{}, clientAuth{}, true},
		{"empty id", basic("", "s"), url.Values{}, clientAuth{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			got, err := parseClientAuth(h, tc.form)
			if tc.wantErr {
				if !errors.Is(err, errClientAuthRequest) {
					t.Fatalf("got %+v, %v; want errClientAuthRequest", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

const testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 appendix B

func TestValidateAuthorize(t *testing.T) {
	clients := map[string]*authzClient{
		"app": {ID: "app", Name: "App", RedirectURIs: []string{"https://good.example/cb", "https://good.example/cb2?tenant=1", "com.example.app:/cb"}},
		"spa": {ID: "spa", Name: "SPA", RedirectURIs: []string{"http://127.0.0.1:9000/cb"}, Public: true},
	}
	lookup := func(id string) (*authzClient, error) { return clients[id], nil }
	good := func(mod func(url.Values)) url.Values {
		q := url.Values{"client_id": {"app"}, "redirect_uri": {"https://good.example/cb"}, "response_type": {"code"},
			"scope": {"openid profile"}, "state": {"xyz"}, "nonce": {"n-0S6"}, "code_challenge": {testChallenge}, "code_challenge_method": {"S256"}}
		if mod != nil {
			mod(q)
		}
		return q
	}
	set := func(k, v string) func(url.Values) { return func(q url.Values) { q.Set(k, v) } }
	del := func(k string) func(url.Values) { return func(q url.Values) { q.Del(k) } }
	tests := []struct {
		name        string
		q           url.Values
		requirePKCE bool
		page        bool   // refused with an error page
		code        string // refused with this error in the redirect
	}{
		{"valid", good(nil), true, false, ""},
		{"registered URI with a query", good(set("redirect_uri", "https://good.example/cb2?tenant=1")), true, false, ""},
		{"native app custom scheme", good(set("redirect_uri", "com.example.app:/cb")), true, false, ""},
		{"no client_id", good(del("client_id")), true, true, ""},
		{"unknown client", good(set("client_id", "nope")), true, true, ""},
		{"repeated client_id", good(func(q url.Values) { q.Add("client_id", "app") }), true, true, ""},
		{"no redirect_uri", good(del("redirect_uri")), true, true, ""},
		{"unregistered redirect_uri", good(set("redirect_uri", "https://evil.example/cb")), true, true, ""},
		{"another client's redirect_uri", good(set("redirect_uri", "http://127.0.0.1:9000/cb")), true, true, ""},
		{"suffix host", good(set("redirect_uri", "https://good.example.evil/cb")), true, true, ""},
		{"user-info trick", good(set("redirect_uri", "https://good.example@evil.example/cb")), true, true, ""},
		{"user-info trick 2", good(set("redirect_uri", "https://good.example%40evil.example/cb")), true, true, ""},
		{"fragment", good(set("redirect_uri", "https://good.example/cb#x")), true, true, ""},
		{"empty fragment", good(set("redirect_uri", "https://good.example/cb#")), true, true, ""},
		{"added path", good(set("redirect_uri", "https://good.example/cb/../evil")), true, true, ""},
		{"added query", good(set("redirect_uri", "https://good.example/cb?next=https://evil.example")), true, true, ""},
		{"case changed", good(set("redirect_uri", "https://GOOD.example/cb")), true, true, ""},
		{"trailing slash", good(set("redirect_uri", "https://good.example/cb/")), true, true, ""},
		{"repeated redirect_uri", good(func(q url.Values) { q.Add("redirect_uri", "https://evil.example/cb") }), true, true, ""},
		{"no response_type", good(del("response_type")), true, false, oauthInvalidRequest},
		{"token response_type", good(set("response_type", "token")), true, false, oauthUnsupportedResponseType},
		{"hybrid response_type", good(set("response_type", "code id_token")), true, false, oauthUnsupportedResponseType},
		{"fragment response_mode", good(set("response_mode", "fragment")), true, false, oauthInvalidRequest},
		{"no openid scope", good(set("scope", "profile")), true, false, oauthInvalidScope},
		{"no scope", good(del("scope")), true, false, oauthInvalidScope},
		{"unknown scopes ignored", good(set("scope", "openid email calendar")), true, false, ""},
		{"plain PKCE", good(set("code_challenge_method", "plain")), true, false, oauthInvalidRequest},
		{"PKCE without method (plain)", good(del("code_challenge_method")), true, false, oauthInvalidRequest},
		{"PKCE method without challenge", good(del("code_challenge")), true, false, oauthInvalidRequest},
		{"no PKCE", good(func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }), true, false, oauthInvalidRequest},
		{"no PKCE, confidential, not required", good(func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }), false, false, ""},
		{"no PKCE, public, not required", good(func(q url.Values) {
			q.Set("client_id", "spa")
			q.Set("redirect_uri", "http://127.0.0.1:9000/cb")
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}), false, false, oauthInvalidRequest},
		{"short challenge", good(set("code_challenge", "abc")), true, false, oauthInvalidRequest},
		{"challenge with padding", good(set("code_challenge", testChallenge[:42]+"=")), true, false, oauthInvalidRequest},
		{"repeated state", good(func(q url.Values) { q.Add("state", "other") }), true, false, oauthInvalidRequest},
		{"request object", good(set("request", "eyJ")), true, false, oauthRequestNotSupported},
		{"request_uri", good(set("request_uri", "https://evil.example/r")), true, false, oauthRequestURINotSupported},
		{"long nonce", good(set("nonce", strings.Repeat("n", maxNonceLen+1))), true, false, oauthInvalidRequest},
		{"long state", good(set("state", strings.Repeat("s", maxStateLen+1))), true, false, oauthInvalidRequest},
		{"prompt none and login", good(set("prompt", "none login")), true, false, oauthInvalidRequest},
		{"unknown prompt", good(set("prompt", "bogus")), true, false, oauthInvalidRequest},
		{"negative max_age", good(set("max_age", "-1")), true, false, oauthInvalidRequest},
		{"max_age not a number", good(set("max_age", "1h")), true, false, oauthInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, aerr, err := validateAuthorize(tc.q, lookup, tc.requirePKCE)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.page:
				if aerr == nil || !aerr.page {
					t.Fatalf("got %+v, want an error page", aerr)
				}
			case tc.code != "":
				if aerr == nil || aerr.page || aerr.code != tc.code {
					t.Fatalf("got %+v, want a redirect with error %s", aerr, tc.code)
				}
				if req == nil || req.RedirectURI != tc.q.Get("redirect_uri") {
					t.Fatalf("request %+v: the error would not go to the registered redirect_uri", req)
				}
			default:
				if aerr != nil {
					t.Fatalf("refused: %+v", aerr)
				}
			}
		})
	}

	req, _, _ := validateAuthorize(good(set("scope", "email offline_access openid profile openid")), lookup, true)
	if want := []string{"offline_access", "openid", "profile"}; !slices.Equal(req.Scope, want) {
		t.Errorf("granted scope %v, want %v", req.Scope, want)
	}
	if req.State != "xyz" || !req.HasState || req.Nonce != "n-0S6" || req.CodeChallenge != testChallenge || req.MaxAge != -1 {
		t.Errorf("request %+v", req)
	}
	req, _, _ = validateAuthorize(good(set("max_age", "0")), lookup, true)
	if req.MaxAge != 0 {
		t.Errorf("max_age 0 read as %d", req.MaxAge)
	}
	req, _, _ = validateAuthorize(good(del("state")), lookup, true)
	if req.HasState {
		t.Error("a missing state is taken as present")
	}
}

func TestAuthzRedirect(t *testing.T) {
	tests := []struct {
		req  authzRequest
		want string
	}{
		{authzRequest{RedirectURI: "https://good.example/cb", State: "a b&c", HasState: true},
			"https://good.example/cb?code=C&iss=https%3A%2F%2Fauth.example&state=a+b%26c"},
		{authzRequest{RedirectURI: "https://good.example/cb?tenant=1"},
			"https://good.example/cb?tenant=1&code=C&iss=https%3A%2F%2Fauth.example"},
		{authzRequest{RedirectURI: "https://good.example/cb", HasState: true},
			"https://good.example/cb?code=C&iss=https%3A%2F%2Fauth.example&state="},
	}
	for _, tc := range tests {
		if got := authzRedirect(&tc.req, "https://auth.example", url.Values{"code": {"C"}}); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

func TestOAuthRoutesNeedOpenIDProvider(t *testing.T) {
	ed := genKey(t, jwt.EdDSA)
	tests := []struct {
		name string
		opts envOptions
		want string // words the detail must contain
	}{
		{"no public URL", envOptions{key: ed}, "--public-url"},
		{"https issuer is not enough", envOptions{key: ed, issuer: "https://auth.example.test"}, "--public-url"},
		{"plain http public URL", envOptions{key: ed, publicURL: "http://auth.example.test"}, "--public-url"},
		{"HS256", envOptions{publicURL: "https://auth.example.test"}, "key rotate --alg EdDSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			for _, q := range []req{
				{method: "GET", path: "/oauth2/authorize?client_id=x"},
				{method: "POST", path: "/oauth2/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=authorization_code"},
				{method: "GET", path: "/oauth2/userinfo"},
				{method: "POST", path: "/oauth2/userinfo"},
				{method: "GET", path: "/oauth2/logout"},
				{method: "POST", path: "/oauth2/revoke", ctype: "application/x-www-form-urlencoded", body: "token=x"},
				{method: "POST", path: "/oauth2/introspect", ctype: "application/x-www-form-urlencoded", body: "token=x"},
				{method: "GET", path: "/oauth2/client-info?client_id=x"},
				{method: "GET", path: "/.well-known/oauth-authorization-server"},
			} {
				p := wantProblem(t, e.send(q), 404, codeOIDCDisabled)
				if !strings.Contains(p.Detail, tc.want) {
					t.Errorf("%s %s: detail %q does not say %q", q.method, q.path, p.Detail, tc.want)
				}
			}
		})
	}
}

// TestOAuthRoutesFollowKeyRotation: a server that rotates from HS256 to
// an asymmetric key becomes an OpenID provider without a restart.
func TestOAuthRoutesFollowKeyRotation(t *testing.T) {
	e := newEnv(t, envOptions{publicURL: "https://auth.example.test"})
	wantProblem(t, e.get("/.well-known/oauth-authorization-server", ""), 404, codeOIDCDisabled)
	ed := genKey(t, jwt.EdDSA)
	if err := e.tokens.SetKeys(ed, []*jwt.Key{ed}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.get("/.well-known/oauth-authorization-server", ""), 200)
}

func TestDiscoveryOpenIDProvider(t *testing.T) {
	ed, es := genKey(t, jwt.EdDSA), genKey(t, jwt.ES256)
	e := newEnv(t, envOptions{key: ed, publicURL: "https://auth.example.test/"})
	if err := e.tokens.SetKeys(ed, []*jwt.Key{ed, es}); err != nil { // es: verify-only, signs no ID token
		t.Fatal(err)
	}
	const base = "https://auth.example.test"
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		r := e.get(path, "")
		wantStatus(t, r, 200)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		var doc map[string]any
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"issuer":                                         base,
			"authorization_endpoint":                         base + "/oauth2/authorize",
			"token_endpoint":                                 base + "/oauth2/token",
			"userinfo_endpoint":                              base + "/oauth2/userinfo",
			"jwks_uri":                                       base + "/.well-known/jwks.json",
			"end_session_endpoint":                           base + "/oauth2/logout",
			"revocation_endpoint":                            base + "/oauth2/revoke",
			"introspection_endpoint":                         base + "/oauth2/introspect",
			"response_types_supported":                       []any{"code"},
			"response_modes_supported":                       []any{"query"},
			"grant_types_supported":                          []any{"authorization_code", "refresh_token"},
			"subject_types_supported":                        []any{"public"},
			"scopes_supported":                               []any{"openid", "profile", "offline_access"},
			"id_token_signing_alg_values_supported":          []any{"EdDSA"},
			"token_endpoint_auth_methods_supported":          []any{"client_secret_basic", "client_secret_post", "none"},
			"code_challenge_methods_supported":               []any{"S256"},
			"authorization_response_iss_parameter_supported": true,
			"request_uri_parameter_supported":                false,
		}
		for k, v := range want {
			got, _ := json.Marshal(doc[k])
			exp, _ := json.Marshal(v)
			if string(got) != string(exp) {
				t.Errorf("%s: %s = %s, want %s", path, k, got, exp)
			}
		}
		// OpenID Connect Discovery 1.0 section 3 REQUIRED members.
		for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
			"subject_types_supported", "id_token_signing_alg_values_supported"} {
			if doc[k] == nil {
				t.Errorf("%s: required member %s missing", path, k)
			}
		}
		for _, grant := range []string{"password", "implicit"} {
			if strings.Contains(string(r.body), `"`+grant+`"`) {
				t.Errorf("%s advertises the %s grant: %s", path, grant, r.body)
			}
		}
	}
}

// TestDiscoveryVerifierOnly: without being an OpenID provider, a server
// with public keys and an https issuer publishes where its keys are and
// no endpoint at all: in particular not /login as a token endpoint.
func TestDiscoveryVerifierOnly(t *testing.T) {
	ed := genKey(t, jwt.EdDSA)
	e := newEnv(t, envOptions{key: ed, issuer: "https://issuer.example.test"})
	r := e.get("/.well-known/openid-configuration", "")
	wantStatus(t, r, 200)
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != "https://issuer.example.test" || doc["jwks_uri"] != "https://issuer.example.test/.well-known/jwks.json" {
		t.Errorf("document %s", r.body)
	}
	for _, k := range []string{"token_endpoint", "authorization_endpoint", "grant_types_supported", "response_types_supported"} {
		if _, ok := doc[k]; ok {
			t.Errorf("%s present: %s", k, r.body)
		}
	}
}

// TestOAuthFormRules: the token endpoint's body is a form, of bounded
// size, without repeated parameters or a query; errors are RFC 6749 JSON.
func TestOAuthFormRules(t *testing.T) {
	e := newEnv(t, envOptions{key: genKey(t, jwt.EdDSA), publicURL: "https://auth.example.test"})
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		q      req
		status int
	}{
		{"json body", req{method: "POST", path: "/oauth2/token", ctype: "application/json", body: `{"grant_type":"authorization_code"}`}, 400},
		{"no content type", req{method: "POST", path: "/oauth2/token", body: "grant_type=authorization_code"}, 400},
		{"query", req{method: "POST", path: "/oauth2/token?code=x", ctype: form, body: "grant_type=authorization_code"}, 400},
		{"repeated", req{method: "POST", path: "/oauth2/token", ctype: form, body: "grant_type=authorization_code&grant_type=refresh_token"}, 400},
		{"too large", req{method: "POST", path: "/oauth2/token", ctype: form, body: "code=" + strings.Repeat("a", DefaultMaxBodyBytes)}, 413},
		{"too large, undeclared", req{method: "POST", path: "/oauth2/token", ctype: form, bodyReader: strings.NewReader("code=" + strings.Repeat("a", DefaultMaxBodyBytes))}, 413},
		{"malformed", req{method: "POST", path: "/oauth2/token", ctype: form, body: "code=%zz"}, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(tc.q)
			wantOAuthError(t, r, tc.status, oauthInvalidRequest)
		})
	}
}

// wantOAuthError checks an RFC 6749 section 5.2 error response.
func wantOAuthError(t testing.TB, r resp, status int, code string) oauthErrorBody {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("got %v, want %d %s", r, status, code)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json (body %s)", ct, r.body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("caching headers %v", r.Header)
	}
	var b oauthErrorBody
	decodeStrict(t, r.body, &b)
	if b.Error != code {
		t.Fatalf("error %s, want %s", r.body, code)
	}
	for _, c := range b.Description {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			t.Errorf("error_description %q has a character RFC 6749 forbids", b.Description)
		}
	}
	if set := r.Header.Values("Set-Cookie"); len(set) > 0 {
		t.Errorf("sets cookies: %v", set)
	}
	return b
}
