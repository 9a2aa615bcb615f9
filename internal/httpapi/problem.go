package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Problem codes. Every error response is an RFC 9457 problem
// (Content-Type: application/problem+json) of the form
//
//	{"type":"urn:jwtgate:problem:<code>","title":"…","status":400,"detail":"…","code":"<code>"}
//
// whose code member is one of these stable values (clients branch on code,
// never on title or detail):
//
//	invalid_request         400  a parameter or field is missing or out of range
//	invalid_json            400  the body is empty, not JSON, not one object, has trailing data, repeats a member name, or is not UTF-8
//	unknown_field           400  the JSON object has a member the operation does not define (names are case-sensitive)
//	unsupported_grant_type  400  POST /login form with a grant_type other than "password"
//	invalid_credentials     401  wrong username or password, or the account is disabled
//	mfa_required            401  the password is right; POST /login/mfa with the mfa_token and a second factor
//	mfa_token_invalid       401  the mfa_token is unknown, expired, used, from another client or spent by 5 wrong codes: log in again
//	mfa_code_invalid        401  the TOTP or recovery code (or passkey assertion) is wrong or was already used
//	token_missing           401  no Authorization: Bearer credentials
//	token_invalid           401  the access token is malformed, forged or not for this service
//	token_expired           401  the access token has expired: refresh it or log in again
//	token_revoked           401  the access token was revoked (logout, password or role change)
//	refresh_invalid         401  the refresh token is unknown, expired, reused or revoked: log in again
//	csrf_failed             403  a cookie-authenticated write without a matching X-CSRF-Token header
//	cross_origin            403  a browser sent a state-changing request from another origin
//	forbidden               403  the caller's role does not allow the operation
//	mfa_enrollment_required 403  the caller's role requires a second factor: the token may only set one up (/me/mfa)
//	not_found               404  no such resource (or route)
//	no_public_keys          404  JWKS asked of a server that signs with a shared secret (HS256)
//	oidc_disabled           404  an /oauth2 route of a server that is no OpenID provider (no --public-url, or an HS256 key)
//	method_not_allowed      405  the route exists but not with this method (see Allow)
//	conflict                409  the resource already exists
//	mfa_required_by_role    409  removing the user's last second factor, which their role requires
//	body_too_large          413  the request body exceeds the server's limit
//	unsupported_media_type  415  the Content-Type is not one the operation accepts
//	rate_limited            429  too many login attempts: wait Retry-After seconds
//	internal                500  a server fault, logged with the request id
//	busy                    503  too many password checks at once: wait Retry-After seconds
//	unavailable             503  the database cannot be reached or written: wait Retry-After seconds
//	mfa_unavailable         503  TOTP is not configured on this server (no --mfa-key-file)
const (
	codeInvalidRequest       = "invalid_request"
	codeInvalidJSON          = "invalid_json"
	codeUnknownField         = "unknown_field"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeInvalidCredentials   = "invalid_credentials"
	codeTokenMissing         = "token_missing"
	codeTokenInvalid         = "token_invalid"
	codeTokenExpired         = "token_expired"
	codeTokenRevoked         = "token_revoked"
	codeRefreshInvalid       = "refresh_invalid"
	codeCSRF                 = "csrf_failed"
	codeCrossOrigin          = "cross_origin"
	codeNoPublicKeys         = "no_public_keys"
	codeOIDCDisabled         = "oidc_disabled"
	codeForbidden            = "forbidden"
	codeNotFound             = "not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codeConflict             = "conflict"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeRateLimited          = "rate_limited"
	codeInternal             = "internal"
	codeBusy                 = "busy"
	codeUnavailable          = "unavailable"
	codeMFARequired          = "mfa_required"
	codeMFATokenInvalid      = "mfa_token_invalid"
	codeMFACodeInvalid       = "mfa_code_invalid"
	codeMFAEnrollRequired    = "mfa_enrollment_required"
	codeMFARequiredByRole    = "mfa_required_by_role"
	codeMFAUnavailable       = "mfa_unavailable"
)

// problemTitles holds the title of each problem type; a code missing here
// is a bug (writeProblem falls back to the status text).
var problemTitles = map[string]string{
	codeInvalidRequest:       "Invalid request",
	codeInvalidJSON:          "Invalid JSON body",
	codeUnknownField:         "Unknown field",
	codeUnsupportedGrantType: "Unsupported grant type",
	codeInvalidCredentials:   "Invalid credentials",
	codeTokenMissing:         "Access token missing",
	codeTokenInvalid:         "Access token invalid",
	codeTokenExpired:         "Access token expired",
	codeTokenRevoked:         "Access token revoked",
	codeRefreshInvalid:       "Refresh token invalid",
	codeCSRF:                 "CSRF check failed",
	codeCrossOrigin:          "Cross-origin request refused",
	codeNoPublicKeys:         "No public keys",
	codeOIDCDisabled:         "Not an OpenID provider",
	codeForbidden:            "Forbidden",
	codeNotFound:             "Not found",
	codeMethodNotAllowed:     "Method not allowed",
	codeConflict:             "Conflict",
	codeBodyTooLarge:         "Request body too large",
	codeUnsupportedMediaType: "Unsupported media type",
	codeRateLimited:          "Too many attempts",
	codeInternal:             "Internal error",
	codeBusy:                 "Server busy",
	codeUnavailable:          "Service unavailable",
	codeMFARequired:          "Second factor required",
	codeMFATokenInvalid:      "MFA token invalid",
	codeMFACodeInvalid:       "Second factor invalid",
	codeMFAEnrollRequired:    "Second factor enrolment required",
	codeMFARequiredByRole:    "Second factor required by role",
	codeMFAUnavailable:       "Second factor unavailable",
}

const crossOriginDetail = "a browser sent this request from a page of another origin (Sec-Fetch-Site or Origin); " +
	"state-changing requests are taken only from this server's own pages or from clients that are not browsers"

const problemTypePrefix = "urn:jwtgate:problem:"

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

var hProblem = []string{"application/problem+json"}

// writeProblem writes an RFC 9457 problem. detail is shown to the client:
// it must never carry secrets, tokens or internal error text.
func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	title, ok := problemTitles[code]
	if !ok {
		title = http.StatusText(status)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // nosniff problem+json: <, > and & need no escapes
	b := []byte(`{"type":"about:blank","status":500,"code":"internal"}`)
	if enc.Encode(problem{Type: problemTypePrefix + code, Title: title, Status: status, Detail: detail, Code: code}) == nil { // cannot fail: strings and ints
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if st, ok := w.(*reqState); ok {
		st.problem = code
	}
	h := w.Header()
	h.Del("Content-Length")
	h["Content-Type"] = hProblem
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		setRetryAfter(w, retryUnavailable) // every 503 says when to try again
	}
	w.WriteHeader(status)
	w.Write(b)
}

// retryUnavailable is the Retry-After of a 503 that gives no better
// estimate: the database is down, full or slow.
const retryUnavailable = 5 * time.Second

// setRetryAfter sets Retry-After to d in whole seconds, rounded up, at least 1.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}

// userDetail is the text auth wrote for users after the sentinel it
// wrapped ("forbidden: only the author …" gives "only the author …"): the
// sentinel's own text would repeat the problem's title. fallback is for a
// bare sentinel.
func userDetail(err, sentinel error, fallback string) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, sentinel.Error()+": "); ok && after != "" {
		return after
	}
	return fallback
}

// fail maps an error from auth.Service or auth.Store to a problem. Only
// errors whose text auth composes for users (ErrInvalid, ErrForbidden)
// reach the client, without the sentinel's own text; anything
// unexpected is a 500 whose real cause is logged with the request id.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.metrics.Failed(err)
	if d, ok := auth.RetryAfter(err); ok {
		setRetryAfter(w, d)
	}
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		if w.Header().Get("Retry-After") == "" {
			setRetryAfter(w, time.Second)
		}
		writeProblem(w, http.StatusTooManyRequests, codeRateLimited, "wait the number of seconds in Retry-After before the next login attempt")
	case errors.Is(err, auth.ErrBusy):
		if w.Header().Get("Retry-After") == "" {
			setRetryAfter(w, time.Second)
		}
		writeProblem(w, http.StatusServiceUnavailable, codeBusy, "too many password checks in progress; retry after the number of seconds in Retry-After")
	case errors.Is(err, auth.ErrRefreshInvalid):
		writeProblem(w, http.StatusUnauthorized, codeRefreshInvalid, "the refresh token is invalid, expired or revoked; log in again")
	case errors.Is(err, auth.ErrUnauthorized):
		writeProblem(w, http.StatusUnauthorized, codeInvalidCredentials, "invalid username or password")
	case errors.Is(err, auth.ErrInvalid):
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, userDetail(err, auth.ErrInvalid, "a parameter or field is missing or out of range"))
	case errors.Is(err, auth.ErrNotFound):
		writeProblem(w, http.StatusNotFound, codeNotFound, "no such resource")
	case errors.Is(err, auth.ErrConflict):
		writeProblem(w, http.StatusConflict, codeConflict, "the resource already exists")
	case errors.Is(err, auth.ErrForbidden):
		writeProblem(w, http.StatusForbidden, codeForbidden, userDetail(err, auth.ErrForbidden, "the caller's role does not allow the operation"))
	case errors.Is(err, auth.ErrUnavailable):
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "storage unavailable",
			slog.String("request_id", stateOf(r).id), slog.String("err", err.Error()))
		writeProblem(w, http.StatusServiceUnavailable, codeUnavailable, "the database is unavailable; try again later")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Usually the client went away; nobody reads this response.
		writeProblem(w, http.StatusServiceUnavailable, codeUnavailable, "the request was cancelled or timed out")
	default:
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", stateOf(r).id), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		writeProblem(w, http.StatusInternalServerError, codeInternal, "internal error; quote the X-Request-Id response header when reporting it")
	}
}
