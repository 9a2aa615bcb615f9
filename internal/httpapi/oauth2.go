package httpapi

import (
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// OAuth 2.0 / OpenID Connect provider: the shared pieces of the /oauth2/*
// routes. Those routes exist only while the server is an OpenID provider
// (see oidcIssuer); they answer in the protocol's own shapes (RFC 6749
// section 5.2 errors, redirects, an HTML error page) rather than as
// problems, except for the 404 oidc_disabled.

// crossOriginExempt are the routes the cross-origin check skips (see
// newCrossOriginProtection). Token, revoke, introspect and userinfo are
// called by applications with their own credentials and read no cookies.
// POST /oauth2/authorize is an application's form sending the browser
// here (OpenID Connect Core 1.0 section 3.1.2.1), and does no more than
// the GET that any link may send: a code for a registered redirect URI.
var crossOriginExempt = []string{"/auth/verify", "/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/userinfo", "POST /oauth2/authorize"}

// oidcIssuer returns the issuer of the OpenID provider, the public URL
// without a trailing slash, or "" and the reason the server is none: it
// needs a public URL (https, or http on a loopback host) and an
// asymmetric current signing key. Keys rotate at run time, so this is
// asked per request.
func (s *server) oidcIssuer() (issuer, missing string) {
	if s.oidcBase == "" {
		return "", "this server is no OpenID provider: start it with --public-url https://HOST (http only on a loopback host)"
	}
	if s.tokens.OIDCIssuer() != s.oidcBase {
		// A wiring fault: ID tokens would name another issuer than discovery.
		return "", "this server is no OpenID provider: its tokens' OpenID issuer differs from --public-url"
	}
	if k := s.tokens.SigningKey(); k == nil || k.IsSymmetric() {
		return "", "this server is no OpenID provider: it signs with a shared secret (HS256); rotate to an asymmetric key with `jwtgate key rotate --alg EdDSA`"
	}
	return s.oidcBase, ""
}

// OIDCIssuer is the issuer of the OpenID provider a server with this
// public URL is (when its signing key is asymmetric), or "" if the URL
// cannot be one. auth.TokenConfig.OIDCIssuer must be set to it.
func OIDCIssuer(publicURL string) string { return oidcBaseURL(publicURL) }

// oidcBaseURL returns publicURL without a trailing slash if it may be an
// OpenID provider's issuer (OIDC Discovery 1.0 section 3: https, with no
// query or fragment; http only on a loopback host, for development), else "".
func oidcBaseURL(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return ""
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopbackHost(u.Hostname()) {
			return ""
		}
	default:
		return ""
	}
	return strings.TrimSuffix(publicURL, "/")
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// oidcRoute wraps an /oauth2/* handler: 404 oidc_disabled unless the
// server is an OpenID provider at the time of the request.
func (s *server) oidcRoute(h func(w http.ResponseWriter, r *http.Request, issuer string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		issuer, missing := s.oidcIssuer()
		if issuer == "" {
			writeProblem(w, http.StatusNotFound, codeOIDCDisabled, missing)
			return
		}
		h(w, r, issuer)
	}
}

// noHEAD refuses HEAD on a route whose GET changes state (issues a code,
// ends a session): a link checker or a prefetch must do neither.
func noHEAD(h func(w http.ResponseWriter, r *http.Request, issuer string)) func(w http.ResponseWriter, r *http.Request, issuer string) {
	return func(w http.ResponseWriter, r *http.Request, issuer string) {
		if r.Method == http.MethodHead {
			w.Header().Set("Allow", "GET")
			writeProblem(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "HEAD is not supported here")
			return
		}
		h(w, r, issuer)
	}
}

// OAuth 2.0 error codes (RFC 6749 sections 4.1.2.1 and 5.2, RFC 7009,
// OpenID Connect Core 1.0 section 3.1.2.6).
const (
	oauthInvalidRequest          = "invalid_request"
	oauthInvalidClient           = "invalid_client"
	oauthInvalidGrant            = "invalid_grant"
	oauthUnauthorizedClient      = "unauthorized_client"
	oauthUnsupportedGrantType    = "unsupported_grant_type"
	oauthInvalidScope            = "invalid_scope"
	oauthUnsupportedResponseType = "unsupported_response_type"
	oauthUnsupportedTokenType    = "unsupported_token_type"
	oauthServerError             = "server_error"
	oauthTemporarilyUnavailable  = "temporarily_unavailable"
	oauthLoginRequired           = "login_required"
	oauthRequestNotSupported     = "request_not_supported"
	oauthRequestURINotSupported  = "request_uri_not_supported"
)

type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

var hPragmaNoCache = []string{"no-cache"}

// challengeBasicClient is the challenge of a 401 invalid_client answered
// to a client that authenticated with HTTP Basic (RFC 6749 section 5.2).
var challengeBasicClient = []string{`Basic realm="jwtgate", charset="UTF-8"`}

// writeOAuthError writes an RFC 6749 section 5.2 error response:
// application/json {"error","error_description"}, not cacheable.
// description is shown to the client: never secrets or internal errors.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	if st, ok := w.(*reqState); ok {
		st.problem = code
	}
	h := w.Header()
	h["Pragma"] = hPragmaNoCache
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		setRetryAfter(w, retryUnavailable)
	}
	writeJSON(w, status, oauthErrorBody{code, description})
}

// writeInvalidClient answers a failed client authentication: 401, with a
// Basic challenge when the client tried Basic (RFC 6749 section 5.2).
func writeInvalidClient(w http.ResponseWriter, ca clientAuth, description string) {
	if ca.method == authBasic {
		w.Header()["Www-Authenticate"] = challengeBasicClient
	}
	writeOAuthError(w, http.StatusUnauthorized, oauthInvalidClient, description)
}

// Client authentication methods (RFC 6749 section 2.3.1, OpenID Connect
// Core 1.0 section 9).
const (
	authNone   = "none"
	authBasic  = "client_secret_basic"
	authPost   = "client_secret_post"
	authAbsent = "" // no client_id at all
)

// clientAuth is how a request to the token, revocation or introspection
// endpoint says which client it comes from.
type clientAuth struct {
	method string
	id     string
	secret string // "" with authNone
}

var errClientAuthRequest = errors.New("malformed client authentication")

// parseClientAuth reads the client's credentials from an Authorization:
// Basic header (both parts form-urldecoded, RFC 6749 section 2.3.1) or
// from client_id and client_secret in the form. Using more than one
// method in one request is an error (section 2.3), and so is an
// Authorization header of another scheme: the form parameters are
// already checked not to repeat.
func parseClientAuth(h http.Header, form url.Values) (clientAuth, error) {
	authz := h.Values("Authorization")
	if len(authz) > 1 {
		return clientAuth{}, errClientAuthRequest
	}
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	_, hasSecret := form["client_secret"]
	if len(authz) == 1 && authz[0] != "" {
		scheme, cred, _ := strings.Cut(authz[0], " ")
		if !strings.EqualFold(scheme, "Basic") {
			return clientAuth{}, errClientAuthRequest
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return clientAuth{}, errClientAuthRequest
		}
		encID, encSecret, ok := strings.Cut(string(raw), ":")
		if !ok {
			return clientAuth{}, errClientAuthRequest
		}
		id, err1 := url.QueryUnescape(encID)
		secret, err2 := url.QueryUnescape(encSecret)
		if err1 != nil || err2 != nil || id == "" {
			return clientAuth{}, errClientAuthRequest
		}
		if hasSecret || (formID != "" && formID != id) {
			return clientAuth{}, errClientAuthRequest // two methods, or two identities
		}
		return clientAuth{method: authBasic, id: id, secret: secret}, nil
	}
	switch {
	case formID == "" && hasSecret:
		return clientAuth{}, errClientAuthRequest
	case formID == "":
		return clientAuth{method: authAbsent}, nil
	case hasSecret:
		return clientAuth{method: authPost, id: formID, secret: formSecret}, nil
	}
	return clientAuth{method: authNone, id: formID}, nil
}

// oauthForm parses the application/x-www-form-urlencoded body of a
// token, revocation or introspection request (RFC 6749 section 3.2):
// POST only, no other media type, the size limit, no repeated
// parameters, and nothing from the URL query. On failure it has written
// the RFC 6749 error.
func (s *server) oauthForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if mediaType(r.Header.Get("Content-Type")) != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "send the parameters as an application/x-www-form-urlencoded body")
		return nil, false
	}
	if r.URL.RawQuery != "" {
		// Credentials or codes in a URL end up in logs and histories.
		writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "parameters belong in the body, not in the URL query")
		return nil, false
	}
	if r.ContentLength > s.maxBody {
		writeOAuthError(w, http.StatusRequestEntityTooLarge, oauthInvalidRequest, "the request body is too large")
		return nil, false
	}
	r.Body = http.MaxBytesReader(stateOf(r).w, r.Body, s.maxBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeOAuthError(w, http.StatusRequestEntityTooLarge, oauthInvalidRequest, "the request body is too large")
		} else {
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "the form body is malformed")
		}
		return nil, false
	}
	for _, v := range r.PostForm {
		if len(v) > 1 {
			writeOAuthError(w, http.StatusBadRequest, oauthInvalidRequest, "form parameters must not be repeated")
			return nil, false
		}
	}
	return r.PostForm, true
}
