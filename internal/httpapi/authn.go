package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

// WWW-Authenticate challenges (RFC 6750 section 3). Descriptions are fixed
// strings: nothing from the token is echoed.
var (
	challengeMissing   = []string{`Bearer realm="jwtgate"`}
	challengeForbidden = []string{`Bearer realm="jwtgate", error="insufficient_scope", error_description="the role of the token does not allow this operation"`}
)

// tokenFailure is how a rejected token is reported. guard words its
// details the same (TestGuardSpeaksLikeServer).
type tokenFailure struct {
	code, detail string
	challenge    []string
}

func newTokenFailure(code, detail string) *tokenFailure {
	return &tokenFailure{code, detail, []string{`Bearer realm="jwtgate", error="invalid_token", error_description="` + detail + `"`}}
}

var (
	tokenExpired     = newTokenFailure(codeTokenExpired, "the access token has expired; refresh it or log in again")
	tokenNotYetValid = newTokenFailure(codeTokenInvalid, "the access token is not valid yet")
	tokenForeign     = newTokenFailure(codeTokenInvalid, "the access token was issued for another service")
	tokenBadSig      = newTokenFailure(codeTokenInvalid, "the access token signature cannot be verified")
	tokenMalformed   = newTokenFailure(codeTokenInvalid, "the access token is malformed")
	tokenRevoked     = newTokenFailure(codeTokenRevoked, "the access token was revoked (a logout, or a change to the account); log in again")
)

func classifyTokenError(err error) *tokenFailure {
	switch {
	case errors.Is(err, auth.ErrRevoked):
		return tokenRevoked
	case errors.Is(err, jwt.ErrExpired):
		return tokenExpired
	case errors.Is(err, jwt.ErrNotYetValid), errors.Is(err, jwt.ErrIssuedInFuture):
		return tokenNotYetValid
	case errors.Is(err, jwt.ErrIssuer), errors.Is(err, jwt.ErrAudience):
		return tokenForeign
	case errors.Is(err, jwt.ErrSignature), errors.Is(err, jwt.ErrKeyNotFound),
		errors.Is(err, jwt.ErrAlgorithmMismatch), errors.Is(err, jwt.ErrUnsupportedAlgorithm):
		return tokenBadSig
	}
	return tokenMalformed
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header (scheme case-insensitive, one space, one token). present is false
// when the request carries no Bearer credentials at all.
func bearerToken(h http.Header) (token string, present, ok bool) {
	v := h["Authorization"]
	if len(v) == 0 || (len(v) == 1 && v[0] == "") {
		return "", false, false
	}
	if len(v) > 1 {
		return "", true, false
	}
	a := v[0]
	sp := strings.IndexAny(a, " \t")
	scheme := a
	if sp >= 0 {
		scheme = a[:sp]
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, false // another scheme: no Bearer credentials
	}
	if sp < 0 || a[sp] != ' ' {
		return "", true, false
	}
	token = a[sp+1:]
	if token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
		return "", true, false
	}
	return token, true, true
}

// credentials finds the caller's access token: the Authorization header
// first, else the access-token cookie. A cookie-authenticated request
// that changes state (any method but GET, HEAD, OPTIONS) must also pass
// the double-submit CSRF check; method is the method to judge (for
// forward auth, the proxied request's).
type credentials struct {
	token   string
	present bool // some credentials were sent
	ok      bool // and they are well-formed
	cookie  bool // the token came from the cookie
}

func (s *server) findCredentials(r *http.Request) credentials {
	token, present, ok := bearerToken(r.Header)
	if present {
		return credentials{token: token, present: true, ok: ok}
	}
	if c := cookieValue(r, s.cookies.access); c != "" {
		return credentials{token: c, present: true, ok: true, cookie: true}
	}
	return credentials{}
}

// verify checks credentials and writes the 401 or 403 itself when they
// fail; the principal is nil then.
func (s *server) verify(w http.ResponseWriter, r *http.Request, method string) *auth.Principal {
	c := s.findCredentials(r)
	if !c.present {
		writeTokenMissing(w, "send the access token from POST /login in an Authorization: Bearer header")
		return nil
	}
	var p *auth.Principal
	var err error
	if c.ok {
		p, err = s.tokens.Verify(c.token)
	}
	if !c.ok || err != nil {
		writeTokenFailure(w, c, err)
		return nil
	}
	if c.cookie && changesState(method) && !s.csrfOK(r) {
		writeProblem(w, http.StatusForbidden, codeCSRF, csrfDetail)
		return nil
	}
	return p
}

const csrfDetail = "a request authenticated by cookie must send the csrf_token cookie's value in an X-CSRF-Token header"

func writeTokenMissing(w http.ResponseWriter, detail string) {
	w.Header()["Www-Authenticate"] = challengeMissing
	writeProblem(w, http.StatusUnauthorized, codeTokenMissing, detail)
}

// writeTokenFailure writes the 401 for credentials c that were sent but
// are malformed or failed Verify with err.
func writeTokenFailure(w http.ResponseWriter, c credentials, err error) {
	f := tokenMalformed
	if c.ok && err != nil {
		f = classifyTokenError(err)
	}
	w.Header()["Www-Authenticate"] = f.challenge
	writeProblem(w, http.StatusUnauthorized, f.code, f.detail)
}

// authenticate requires a valid access token whose role is at least min,
// and makes its principal available through PrincipalFrom. It reads no
// database: a token is valid until it expires or is revoked (the
// revocation list is in memory).
func (s *server) authenticate(min auth.Role, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.verify(w, r, r.Method)
		if p == nil {
			return
		}
		if p.Claims.MFAEnroll && !enrollOnly(r.URL.Path) {
			writeProblem(w, http.StatusForbidden, codeMFAEnrollRequired, mfaEnrollDetail)
			return
		}
		if !p.Role.AtLeast(min) {
			w.Header()["Www-Authenticate"] = challengeForbidden
			writeProblem(w, http.StatusForbidden, codeForbidden, roleDetail(min))
			return
		}
		stateOf(r).principal = p
		next(w, r)
	}
}

// roleDetail is the detail of a token whose role is below min.
func roleDetail(min auth.Role) string {
	return "this operation needs the " + string(min) + " role or higher"
}
