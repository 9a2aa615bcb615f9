package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the domain. Storage implementations wrap them (for
// example ErrConflict on a duplicate username) and httpapi maps them to
// status codes, so callers branch with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("already exists")
	ErrInvalid      = errors.New("invalid input")
	ErrUnauthorized = errors.New("invalid username or password")
	ErrForbidden    = errors.New("forbidden")
	ErrUnavailable  = errors.New("storage unavailable")
	ErrBusy         = errors.New("too many password checks in progress")
	ErrRateLimited  = errors.New("too many attempts")
	// ErrStale refuses a write that relies on a read which is no longer
	// true: the user changed (Version) or the session ended meanwhile.
	ErrStale = errors.New("changed since it was read")
)

// ErrLastAdmin refuses a change that would leave no enabled admin, so a
// server always keeps someone who can manage the accounts. Its text
// reaches API clients.
var ErrLastAdmin = fmt.Errorf("%w: the last enabled admin cannot be demoted, disabled or deleted", ErrForbidden)

// ErrAccountDisabled is the ErrUnauthorized of a right password for a
// disabled account. Clients get the same answer as for a wrong password;
// only the server's own counts tell the two apart.
var ErrAccountDisabled = fmt.Errorf("%w: account disabled", ErrUnauthorized)

// RetryError says when an ErrBusy or ErrRateLimited request may be retried.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v; retry in %v", e.Err, e.After.Round(time.Second))
}
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns the delay carried by err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var re *RetryError
	if errors.As(err, &re) {
		return re.After, true
	}
	return 0, false
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Errors of the OAuth 2.0 / OpenID Connect provider. httpapi maps them to
// the error codes of RFC 6749 section 5.2.
var (
	// ErrInvalidGrant refuses an authorization code or refresh token that
	// is unknown, expired, already used, issued to another client or for
	// another redirect URI, or whose PKCE verifier does not match
	// (invalid_grant).
	ErrInvalidGrant = errors.New("invalid grant")
	// ErrClientAuth refuses a client that is unknown or whose secret does
	// not match (invalid_client). Which of the two it was is not told.
	ErrClientAuth = errors.New("client authentication failed")
	// ErrNoOIDCKey means the current signing key is symmetric (HS256...):
	// ID tokens need a key whose public half relying parties can fetch.
	ErrNoOIDCKey = errors.New("the signing key is symmetric; an OpenID provider needs EdDSA, ES256 or RS256 (rotate the key)")
)
