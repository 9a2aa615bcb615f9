package httpapi

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// authzClient is what the authorization endpoint needs to know of a
// registered client.
type authzClient struct {
	ID, Name     string
	RedirectURIs []string
	Public       bool
}

// authzRequest is a validated authorization request (OpenID Connect Core
// 1.0 section 3.1.2.1).
type authzRequest struct {
	Client        *authzClient
	RedirectURI   string   // exactly one of Client.RedirectURIs
	State         string   // returned unchanged
	HasState      bool     // state was sent (an empty one is returned empty)
	Scope         []string // the scopes granted, in the order asked, once each
	Nonce         string
	CodeChallenge string // S256
	PromptNone    bool
	PromptLogin   bool
	MaxAge        int // seconds; -1 when not asked
}

// authzError is a refused authorization request. Before the client and
// its redirect URI are known to be good (page), the user sees an error
// page: redirecting to an unverified URI would make the server an open
// redirector (RFC 6749 section 4.1.2.1, RFC 9700 section 4.11). After,
// the error goes back to the client in the redirect.
type authzError struct {
	page        bool
	code        string
	description string
}

func pageError(description string) *authzError {
	return &authzError{page: true, code: oauthInvalidRequest, description: description}
}

func redirectError(code, description string) *authzError {
	return &authzError{code: code, description: description}
}

// Scopes the provider understands; others are ignored (RFC 6749 section
// 3.3 lets the server grant fewer than asked) and left out of the
// granted scope.
const (
	scopeOpenID        = "openid"
	scopeProfile       = "profile"
	scopeOfflineAccess = "offline_access"
)

var knownScopes = []string{scopeOpenID, scopeProfile, scopeOfflineAccess}

// Limits on what the server stores or echoes of an authorization request.
const (
	maxNonceLen = 512
	maxStateLen = 2048
)

// validateAuthorize checks an authorization request's query parameters.
// lookup returns the client with the given id, or nil if there is none;
// its error is a server fault. requirePKCE makes PKCE mandatory for
// confidential clients too (public clients always need it).
func validateAuthorize(q url.Values, lookup func(id string) (*authzClient, error), requirePKCE bool) (*authzRequest, *authzError, error) {
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(q[name]) > 1 {
			return nil, pageError(name + " is repeated"), nil
		}
	}
	id := q.Get("client_id")
	if id == "" {
		return nil, pageError("the request names no client (client_id)"), nil
	}
	c, err := lookup(id)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, pageError("the application (client_id) is not registered with this server"), nil
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		return nil, pageError("the request has no redirect_uri"), nil
	}
	// Exact string comparison (RFC 9700 section 4.1.3): no normalization,
	// no prefix or wildcard matching, so https://good.example.evil,
	// user-info tricks and added paths never match a registered URI.
	if !slices.Contains(c.RedirectURIs, redirect) || strings.ContainsAny(redirect, "#") {
		return nil, pageError("the redirect_uri is not registered for this application"), nil
	}
	req := &authzRequest{Client: c, RedirectURI: redirect, MaxAge: -1}

	// From here on errors go back to the client.
	for name, v := range q {
		if len(v) > 1 {
			return req, redirectError(oauthInvalidRequest, "parameter "+safeParamName(name)+" is repeated"), nil
		}
	}
	if _, ok := q["state"]; ok {
		req.State, req.HasState = q.Get("state"), true
		if len(req.State) > maxStateLen {
			req.State, req.HasState = "", false // not echoed: it could be anything
			return req, redirectError(oauthInvalidRequest, "state is longer than "+strconv.Itoa(maxStateLen)+" bytes"), nil
		}
	}
	if _, ok := q["request"]; ok {
		return req, redirectError(oauthRequestNotSupported, "request objects are not supported"), nil
	}
	if _, ok := q["request_uri"]; ok {
		return req, redirectError(oauthRequestURINotSupported, "request_uri is not supported"), nil
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return req, redirectError(oauthInvalidRequest, "response_type is required and must be code"), nil
	default:
		return req, redirectError(oauthUnsupportedResponseType, "only response_type code is supported"), nil
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return req, redirectError(oauthInvalidRequest, "only response_mode query is supported"), nil
	}
	for _, sc := range strings.Fields(q.Get("scope")) {
		if slices.Contains(knownScopes, sc) && !slices.Contains(req.Scope, sc) {
			req.Scope = append(req.Scope, sc)
		}
	}
	if !slices.Contains(req.Scope, scopeOpenID) {
		return req, redirectError(oauthInvalidScope, "scope must contain openid"), nil
	}
	req.Nonce = q.Get("nonce")
	if len(req.Nonce) > maxNonceLen {
		return req, redirectError(oauthInvalidRequest, "nonce is longer than "+strconv.Itoa(maxNonceLen)+" bytes"), nil
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return req, redirectError(oauthInvalidRequest, "code_challenge_method without code_challenge"), nil
	case challenge == "" && (c.Public || requirePKCE):
		return req, redirectError(oauthInvalidRequest, "PKCE is required: send code_challenge with code_challenge_method S256"), nil
	case challenge != "" && method != "S256":
		// A missing method means plain (RFC 7636 section 4.3): refused,
		// as plain protects nothing once the request is seen.
		return req, redirectError(oauthInvalidRequest, "code_challenge_method must be S256"), nil
	case challenge != "" && !validS256Challenge(challenge):
		return req, redirectError(oauthInvalidRequest, "code_challenge must be the 43-character base64url SHA-256 of the verifier"), nil
	}
	req.CodeChallenge = challenge
	for _, p := range strings.Fields(q.Get("prompt")) {
		switch p {
		case "none":
			req.PromptNone = true
		case "login":
			req.PromptLogin = true
		case "consent", "select_account":
			// First-party clients need no consent; one account per browser.
		default:
			return req, redirectError(oauthInvalidRequest, "prompt must be none, login, consent or select_account"), nil
		}
	}
	if req.PromptNone && (req.PromptLogin || len(strings.Fields(q.Get("prompt"))) > 1) {
		return req, redirectError(oauthInvalidRequest, "prompt none cannot be combined with other values"), nil
	}
	if v, ok := q["max_age"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return req, redirectError(oauthInvalidRequest, "max_age must be a non-negative integer"), nil
		}
		req.MaxAge = n
	}
	return req, nil, nil
}

// validS256Challenge accepts the base64url (unpadded) encoding of 32 bytes.
func validS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// safeParamName returns a parameter name fit for error_description
// (RFC 6749 allows only printable ASCII without " and \), cut short.
func safeParamName(name string) string {
	if len(name) > 40 {
		name = name[:40]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "(a parameter)"
		}
	}
	return name
}

// authzRedirect returns the redirect URI with the response parameters
// added to its query (any query the client registered is kept, RFC 6749
// section 3.1.2), plus state when the request had one and iss (RFC 9207).
func authzRedirect(req *authzRequest, issuer string, params url.Values) string {
	if req.HasState {
		params.Set("state", req.State)
	}
	params.Set("iss", issuer)
	sep := "?"
	if strings.Contains(req.RedirectURI, "?") {
		sep = "&"
	}
	return req.RedirectURI + sep + params.Encode()
}

func redirectWithError(w http.ResponseWriter, r *http.Request, req *authzRequest, issuer string, e *authzError) {
	if st, ok := w.(*reqState); ok {
		st.problem = e.code
	}
	params := url.Values{"error": {e.code}}
	if e.description != "" {
		params.Set("error_description", e.description)
	}
	http.Redirect(w, r, authzRedirect(req, issuer, params), http.StatusFound)
}

// hErrorPageCSP lets the error page use the UI's stylesheet and nothing else.
var hErrorPageCSP = []string{"default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in error · jwtgate</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<header class="top"><a class="brand" href="/">jwtgate</a></header>
<main id="main">
  <section class="card narrow" aria-labelledby="error-title">
    <h1 id="error-title">{{.Title}}</h1>
    <p id="error-description">{{.Description}}</p>
    <p class="muted">{{.Hint}}</p>
  </section>
</main>
</body>
</html>
`))

type errorPageData struct{ Title, Description, Hint string }

// writeErrorPage answers a browser with an HTML page: the cases where the
// server must not redirect back to the client.
func writeErrorPage(w http.ResponseWriter, status int, code string, d errorPageData) {
	if st, ok := w.(*reqState); ok {
		st.problem = code
	}
	h := w.Header()
	h["Content-Security-Policy"] = hErrorPageCSP
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	errorPage.Execute(w, d) // fixed template over strings: it cannot fail but for the client going away
}
