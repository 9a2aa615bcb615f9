package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrRefreshInvalid means a refresh token is unknown, expired, already
// used or belongs to a revoked session. Callers learn nothing more: the
// client has to log in again.
var ErrRefreshInvalid = errors.New("refresh token invalid, expired or revoked")

// ErrRefreshReused is the ErrRefreshInvalid of a refresh token presented a
// second time, whose session was revoked for it.
var ErrRefreshReused = fmt.Errorf("%w: reused, the session was revoked", ErrRefreshInvalid)

// Session is one login: the family of refresh tokens that descend from it.
// Its ID is the sid claim of every access token issued in it.
type Session struct {
	ID     string
	UserID int64
	// UserVersion is the user's Version as the login read it, which
	// CreateSession checks (it is not stored).
	UserVersion int64
	CreatedAt   time.Time
	ExpiresAt   time.Time // absolute end, however often it is refreshed
	RevokedAt   time.Time // zero while the session is alive
	// ClientID is the OAuth client the session was started for by an
	// authorization code; "" for jwtgate's own logins.
	ClientID string
	Scope    []string  // granted to ClientID
	AuthTime time.Time // when the user entered their password; zero for own logins
	// AMR is how the user authenticated (the amr claim): AMRPassword,
	// with a second factor's value after it.
	AMR []string
	// Where the login came from (LoginFrom), and the time of the latest
	// refresh (zero before the first), for the user's sessions list.
	ClientIP        string
	UserAgent       string
	LastRefreshedAt time.Time
	// User is the session's user as Store.RefreshToken read it (nil from
	// elsewhere): a refresh signs its current role without another read.
	User *User
}

// RefreshToken is a stored refresh token. Only the SHA-256 of the token is
// kept: a copy of the database cannot be replayed.
type RefreshToken struct {
	Hash      []byte
	SessionID string
	ExpiresAt time.Time
	UsedAt    time.Time // zero until the token is rotated
}

// Revocation refuses access tokens whose jti or sid is ID until Until
// (when the last token that could carry it expires).
type Revocation struct {
	ID        string
	Until     time.Time
	CreatedAt time.Time
}

// Revoke asks a store to end sessions and refuse access tokens, in one
// transaction: the sessions named (SessionID, or every live session of
// UserID, or of ClientID) are marked revoked, and a Revocation until Until is recorded for
// each of them and for each of TokenIDs.
type Revoke struct {
	SessionID string
	UserID    int64
	ClientID  string // every live session of this OAuth client
	// KeepSessionID is left alive whatever else is named: "log out
	// everywhere else", a password change from this session.
	KeepSessionID string
	TokenIDs      []string
	At, Until     time.Time
}

// SessionStore keeps sessions, refresh tokens and revocations.
// Implementations return errors wrapping ErrNotFound, ErrConflict or
// ErrUnavailable, and never leave a half-done write.
type SessionStore interface {
	// CreateSession stores s and its first refresh token. It fails with
	// ErrStale, storing nothing, unless the user still exists with
	// Version s.UserVersion when the transaction commits.
	CreateSession(ctx context.Context, s *Session, first *RefreshToken) error
	// RefreshToken returns the refresh token with this hash and its
	// session, with the session's User, or ErrNotFound.
	RefreshToken(ctx context.Context, hash []byte) (*RefreshToken, *Session, error)
	// RotateRefreshToken rotates the refresh token oldHash of a session
	// of client clientID ("" for jwtgate's own sessions), atomically: if
	// at now the token is unused and unexpired, and its session is
	// clientID's, neither revoked nor expired, and of a user who is not
	// disabled, it marks the token used at now, stores next in the
	// token's session with its expiry capped at the session's (setting
	// both in next) and records now as the session's LastRefreshedAt. It
	// returns the token and session as they were, with the session's
	// User, and a nil error once it rotated. Otherwise it stores nothing
	// and fails with ErrNotFound for an unknown token; ErrConflict for a
	// used one, also when a concurrent call used it first (of concurrent
	// rotations of one token exactly one succeeds); and ErrStale when
	// another condition fails (a token of another client's session is
	// ErrStale, used or not). With ErrConflict and ErrStale the token and
	// session are returned too.
	RotateRefreshToken(ctx context.Context, oldHash []byte, clientID string, now time.Time, next *RefreshToken) (*RefreshToken, *Session, error)
	// Revoke applies r atomically.
	Revoke(ctx context.Context, r Revoke) error
	// UserSessions returns the sessions of the user that are neither
	// revoked nor expired at now, newest first (User is nil).
	UserSessions(ctx context.Context, userID int64, now time.Time) ([]*Session, error)
	// RevocationsSince returns the revocations recorded at or after since
	// that are still in force at now.
	RevocationsSince(ctx context.Context, since, now time.Time) ([]Revocation, error)
	// PurgeExpired deletes sessions, refresh tokens, revocations,
	// retired keys and (in a TokenLifetimeStore) token lifetime records
	// that can no longer matter at now.
	PurgeExpired(ctx context.Context, now time.Time) error
}

// Grant is what a login or a refresh hands to the client.
type Grant struct {
	User             *User
	SessionID        string
	AccessToken      string
	Claims           AccessClaims
	RefreshToken     string // "" when a client was granted no offline_access
	RefreshExpiresAt time.Time
	// For an OAuth client: who it is, the scope granted and the ID token
	// (OpenID Connect Core section 2).
	ClientID string
	Scope    []string
	IDToken  string
	// Cookie carries a login's wish for cookies through its second step
	// (LoginMFA): the answer to POST /login/mfa is the one /login would
	// have given.
	Cookie bool
}

// Session lifetimes used when the Service leaves them zero.
const (
	DefaultRefreshTTL = 7 * 24 * time.Hour
	DefaultSessionTTL = 30 * 24 * time.Hour
)

// The server's defaults for the tokens it issues. guard keeps its own
// copies of the ones a verifier needs, since it cannot import this package;
// a test holds them equal.
const (
	DefaultIssuer    = "jwtgate"
	DefaultAudience  = "jwtgate"
	DefaultAccessTTL = 15 * time.Minute
	DefaultLeeway    = 30 * time.Second
)

// refreshTokenLen is the length of a refresh token: 256 random bits in
// unpadded base64url.
const refreshTokenLen = 43

func newRefreshToken() (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashRefreshToken(token)
}

func hashRefreshToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (s *Service) refreshTTL() time.Duration {
	if s.RefreshTTL > 0 {
		return s.RefreshTTL
	}
	return DefaultRefreshTTL
}

func (s *Service) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return DefaultSessionTTL
}

// Time returns the Service's current time: Now's, or the wall clock's.
func (s *Service) Time() time.Time { return s.now() }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// StartSession begins a session for a user who just logged in: a new
// refresh-token family and an access token in it.
//
// The session is stored only if the user is still as Login read it
// (Version): a password, role or disabled change, or a delete, that
// commits between the two would otherwise leave a session it never
// revoked. When the user changed, the login stands only if the password
// hash it was checked against is unchanged and the user is enabled: then
// the session starts with the user read again (a role change takes
// effect), else the login fails with ErrUnauthorized. A change that
// commits after the session is stored revokes it, with every access token
// in it: tokens are signed before their session or rotation is stored.
//
// StartSession skips second factors: logins go through LoginSession.
func (s *Service) StartSession(ctx context.Context, u *User) (*Grant, error) {
	return s.startSession(ctx, u, LoginFrom{}, []string{AMRPassword})
}

// LoginFrom is where a login came from, kept with its session for the
// user's sessions list.
type LoginFrom struct {
	ClientIP  string
	UserAgent string // cut to MaxUserAgentLen bytes of valid UTF-8
}

// MaxUserAgentLen is how much of a User-Agent header a session keeps:
// enough to tell browsers apart, not a place to store a client's essay.
const MaxUserAgentLen = 256

// StartSessionFrom is StartSession recording where the login came from.
func (s *Service) StartSessionFrom(ctx context.Context, u *User, from LoginFrom) (*Grant, error) {
	return s.startSession(ctx, u, from, []string{AMRPassword})
}

// startSession is StartSessionFrom for a login authenticated by amr.
func (s *Service) startSession(ctx context.Context, u *User, from LoginFrom, amr []string) (*Grant, error) {
	ua := truncateUTF8(from.UserAgent, MaxUserAgentLen)
	now := s.now()
	if err := s.coverIssue(ctx, now); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		sess := &Session{ID: randomID(16), UserID: u.ID, UserVersion: u.Version, CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL()),
			ClientIP: from.ClientIP, UserAgent: ua, AMR: amr}
		token, hash := newRefreshToken()
		rt := &RefreshToken{Hash: hash, SessionID: sess.ID, ExpiresAt: minTime(now.Add(s.refreshTTL()), sess.ExpiresAt)}
		g, err := s.grant(u, sess, token, rt.ExpiresAt)
		if err != nil {
			return nil, err
		}
		err = s.Store.CreateSession(ctx, sess, rt)
		if err == nil {
			return g, nil
		}
		if !errors.Is(err, ErrStale) {
			return nil, err
		}
		if u, err = s.stillValid(ctx, u, attempt); err != nil {
			return nil, err
		}
	}
}

// truncateUTF8 cuts s to at most n bytes, dropping invalid UTF-8 and a
// character cut in half.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// maxSessionAttempts bounds how often StartSession reads a user again
// whose changes keep overtaking the login.
const maxSessionAttempts = 3

// stillValid reads u again after it changed during a login (attempt
// sessions failed) and returns it if the password the login checked
// still holds and the user may log in.
func (s *Service) stillValid(ctx context.Context, u *User, attempt int) (*User, error) {
	changed := fmt.Errorf("%w: the account changed during the login", ErrUnauthorized)
	if attempt >= maxSessionAttempts {
		return nil, changed
	}
	fresh, err := s.Store.UserByID(ctx, u.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, changed
	}
	if err != nil {
		return nil, err
	}
	if fresh.Disabled || fresh.PasswordHash != u.PasswordHash {
		return nil, changed
	}
	return fresh, nil
}

// grant signs an access token in sess; its auth_time is the session's
// start, the login, and its amr the session's. A user whose role requires
// a second factor the session was not authenticated with gets a token
// that may only enrol one (MFAEnroll).
func (s *Service) grant(u *User, sess *Session, refresh string, refreshExp time.Time) (*Grant, error) {
	enroll := s.requiresMFA(u.Role) && !SecondFactor(sess.AMR)
	at, claims, err := s.Tokens.IssueSession(u, sess.ID, sess.CreatedAt, sess.AMR, enroll)
	if err != nil {
		return nil, err
	}
	return &Grant{User: u, SessionID: sess.ID, AccessToken: at, Claims: claims, RefreshToken: refresh, RefreshExpiresAt: refreshExp}, nil
}

// Refresh rotates a refresh token: the token becomes used and the client
// gets a new one and a new access token, in the same session. A token
// used a second time means it leaked (or the client is broken): the whole
// session is revoked, as RFC 9700 section 4.14 advises. The user's
// current role and state are read again, so a refresh never extends
// access that was taken away.
func (s *Service) Refresh(ctx context.Context, token string) (*Grant, error) {
	return s.rotate(ctx, token, "", func(u *User, sess *Session, next string, exp time.Time) (*Grant, error) {
		return s.grant(u, sess, next, exp)
	})
}

// rotate is Refresh for a session of client clientID ("" for jwtgate's
// own), issuing the grant with issue.
//
// The rotation is stored first and the access token signed after, so
// that a refresh is one call to the store (one round trip on
// PostgreSQL). What a later revocation checks of the token is its
// session (sid) and its expiry, neither of which depends on when it is
// signed; a revocation that commits first makes the rotation fail. If
// signing fails (no key: the server does not start without one), the
// client has spent its refresh token and must log in again.
func (s *Service) rotate(ctx context.Context, token, clientID string,
	issue func(u *User, sess *Session, next string, exp time.Time) (*Grant, error)) (*Grant, error) {
	if len(token) != refreshTokenLen {
		return nil, ErrRefreshInvalid
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return nil, ErrRefreshInvalid
	}
	now := s.now()
	if err := s.coverIssue(ctx, now); err != nil {
		return nil, err
	}
	next, nextHash := newRefreshToken()
	nrt := &RefreshToken{Hash: nextHash, ExpiresAt: now.Add(s.refreshTTL())}
	_, sess, err := s.Store.RotateRefreshToken(ctx, hashRefreshToken(token), clientID, now, nrt)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrStale):
		return nil, ErrRefreshInvalid
	case errors.Is(err, ErrConflict):
		return nil, s.reused(ctx, sess, now)
	case err != nil:
		return nil, err
	}
	return issue(sess.User, sess, next, nrt.ExpiresAt)
}

// reused revokes the session of a refresh token presented twice.
func (s *Service) reused(ctx context.Context, sess *Session, now time.Time) error {
	s.log().Warn("refresh token reused: session revoked", "user_id", sess.UserID, "session", sess.ID)
	e := AuditEvent{Kind: AuditRefreshReuse, UserID: sess.UserID, SessionID: sess.ID, ClientID: sess.ClientID}
	if sess.User != nil {
		e.User = sess.User.Name
	}
	s.audit(ctx, e)
	if err := s.revoke(ctx, Revoke{SessionID: sess.ID}, now); err != nil {
		return err
	}
	return ErrRefreshReused
}

// Logout ends the session the access token belongs to (every session of
// its user when all is set) and refuses the token itself until it expires.
func (s *Service) Logout(ctx context.Context, p *Principal, all bool) error {
	r := Revoke{TokenIDs: []string{p.Claims.ID}}
	e := AuditEvent{Kind: AuditLogout, Actor: p.Name, User: p.Name, UserID: p.UserID, SessionID: p.Claims.SessionID}
	if all {
		r.UserID = p.UserID
		e.Kind, e.SessionID = AuditLogoutAll, ""
	} else {
		r.SessionID = p.Claims.SessionID
	}
	if err := s.revoke(ctx, r, s.now()); err != nil {
		return err
	}
	s.audit(ctx, e)
	return nil
}

// LogoutRefresh ends the session of a refresh token (a logout by a client
// that holds no valid access token any more). A token that is unknown or
// expired, or whose session already ended, changes nothing and fails with
// ErrRefreshInvalid. A token that was already rotated is reuse, as in
// Refresh: its session is revoked and the error is ErrRefreshInvalid too.
func (s *Service) LogoutRefresh(ctx context.Context, token string) error {
	if len(token) != refreshTokenLen {
		return ErrRefreshInvalid
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return ErrRefreshInvalid
	}
	rt, sess, err := s.Store.RefreshToken(ctx, hashRefreshToken(token))
	if errors.Is(err, ErrNotFound) {
		return ErrRefreshInvalid
	}
	if err != nil {
		return err
	}
	now := s.now()
	if sess.ClientID != "" || !sess.RevokedAt.IsZero() || !now.Before(sess.ExpiresAt) {
		return ErrRefreshInvalid // an OAuth client's token: RevokeToken
	}
	if !rt.UsedAt.IsZero() {
		return s.reused(ctx, sess, now)
	}
	if !now.Before(rt.ExpiresAt) {
		return ErrRefreshInvalid
	}
	if err := s.revoke(ctx, Revoke{SessionID: sess.ID}, now); err != nil {
		return err
	}
	e := AuditEvent{Kind: AuditLogout, UserID: sess.UserID, SessionID: sess.ID}
	if sess.User != nil {
		e.Actor, e.User = sess.User.Name, sess.User.Name
	}
	s.audit(ctx, e)
	return nil
}

// endSessions is the revocation that goes with a password change, a role
// change, disabling or deleting a user: every session ends and every
// access token issued so far is refused.
func (s *Service) endSessions(ctx context.Context, now time.Time) (*Revoke, error) {
	until, err := s.revokeUntil(ctx, now)
	if err != nil {
		return nil, err
	}
	return &Revoke{At: now, Until: until}, nil
}

// revokeUntil is when every access token issued before now has stopped
// being accepted by every server on the store: this process's own token
// age or the longest one a server recorded, whichever is longer, and a
// second for rounding.
func (s *Service) revokeUntil(ctx context.Context, now time.Time) (time.Time, error) {
	age, err := s.tokenAge(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(age + time.Second), nil
}

// DefaultTokenAge is the default access-token lifetime plus leeway, used
// by revocations made where no Tokens are configured (the command line).
const DefaultTokenAge = DefaultAccessTTL + DefaultLeeway

func (s *Service) revoke(ctx context.Context, r Revoke, now time.Time) error {
	until, err := s.revokeUntil(ctx, now)
	if err != nil {
		return err
	}
	r.At, r.Until = now, until
	if err := s.Store.Revoke(ctx, r); err != nil {
		return err
	}
	return s.SyncRevocations(ctx)
}

// SyncRevocations loads revocations recorded since the last call (by this
// process, another instance or the command line) into the token verifier.
// Servers call it periodically; Revoke-ing calls run it at once so that a
// logout is enforced on this instance before the response is sent. Each
// revocation is held until its Until, and at least until its CreatedAt
// plus this instance's own token age (and a second).
func (s *Service) SyncRevocations(ctx context.Context) error {
	if s.Tokens == nil {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	now := s.now()
	since := time.Time{}
	if !s.lastSync.IsZero() {
		// Re-read a window: a transaction that started before the last
		// poll may have committed after it.
		since = s.lastSync.Add(-revocationOverlap)
	}
	// Hold every revocation at least as long as this instance accepts a
	// token issued before it was made, whatever Until its maker chose (a
	// command line or an instance that knew shorter-lived tokens): ask
	// also for those whose stored Until passed less than that long ago.
	hold := s.ownTokenAge() + time.Second
	revs, err := s.Store.RevocationsSince(ctx, since, now.Add(-hold))
	if err != nil {
		return err
	}
	for i := range revs {
		if floor := revs[i].CreatedAt.Add(hold); floor.After(revs[i].Until) {
			revs[i].Until = floor
		}
	}
	s.Tokens.Revocations().Add(now, revs...)
	s.lastSync = now
	return nil
}

// revocationOverlap bounds how long a revocation's transaction may take
// between its timestamp and its commit and still be seen by the poller.
const revocationOverlap = 10 * time.Second

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// randomID returns n random bytes, base64url encoded.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewRandomToken returns 256 random bits in unpadded base64url, for
// values that must be unguessable (CSRF tokens).
func NewRandomToken() string { return randomID(32) }
