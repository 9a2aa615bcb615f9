package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Service holds the rules of login, users and posts over a Store.
type Service struct {
	Store  Store
	Hasher *Hasher
	Tokens *Tokens
	// Login limits (see Login): attempts per client address, failures per
	// username and client network, and failures per username from
	// networks it has not logged in from lately. nil: no limit.
	IPLimit      RateLimiter
	UserNetLimit RateLimiter
	UserLimit    RateLimiter
	RefreshTTL   time.Duration // lifetime of one refresh token (DefaultRefreshTTL)
	SessionTTL   time.Duration // absolute lifetime of a session (DefaultSessionTTL)
	// TokenAge is how long an access token can be accepted (lifetime plus
	// leeway) as far as this process knows. Defaults to Tokens' settings,
	// else DefaultTokenAge. Revocations last at least that long, and
	// longer when a server on the same store recorded longer-lived tokens
	// (see TokenLifetimeStore).
	TokenAge time.Duration
	Now      func() time.Time
	Log      *slog.Logger
	// PKCEOptional lets confidential OAuth clients leave PKCE out; public
	// clients always need it.
	PKCEOptional bool
	// Audit receives the security events (see AuditKind); nil: none are
	// recorded.
	Audit AuditSink
	// MFAKey is the key material TOTP secrets are encrypted with (see
	// NewMFAKey); nil: TOTP cannot be enrolled (ErrMFAKeyMissing), and
	// enrolled users cannot log in with it.
	MFAKey *MFAKey
	// WebAuthn is the passkey factor; nil: unavailable.
	WebAuthn WebAuthnVerifier
	// RequireMFA are the roles whose users need a second factor: without
	// one their logins only give tokens to enrol one (MFAEnroll).
	RequireMFA []Role

	auditFailures  atomic.Uint64
	auditFloodOnce sync.Once
	auditFloodLim  *Limiter

	knownNets recentSet // username key + network of recent successful logins

	syncMu   sync.Mutex
	lastSync time.Time

	leaseMu  sync.Mutex   // serializes renewals of the token lifetime record
	leaseEnd atomic.Int64 // Unix nanoseconds: the record covers tokens issued before
	instance string       // this process's id in the record

	ready writeProbe // Ready's write probe
}

// Login checks a username and password from the client at address
// clientIP. Unknown users, wrong passwords and disabled users all fail
// with the same ErrUnauthorized after the same amount of hashing work, so
// responses reveal nothing about which it was. Missing or over-long
// fields fail at once with ErrInvalid: they reveal nothing about accounts.
//
// Rate limits (ErrRateLimited) apply in this order: every attempt spends
// from the client's address (IPLimit); a failure spends from the username
// with the client's network (UserNetLimit), so one client's guessing
// never blocks the user logging in from elsewhere; and, unless the user
// logged in from that network within KnownNetworkTTL, from the username
// across all clients (UserLimit), a ceiling for guessing spread over many
// networks. Failure budgets are taken before the password check, so
// concurrent guesses cannot overdraw them, and given back on success.
//
// Every outcome is an audit event (AuditLoginSuccess, AuditLoginFailure),
// refusals by the address limit only a few a minute per address.
func (s *Service) Login(ctx context.Context, clientIP, username, password string) (*User, error) {
	var found *User
	var reason string
	u, err := s.login(ctx, clientIP, username, password, &found, &reason)
	s.auditLogin(ctx, clientIP, username, found, reason, err)
	return u, err
}

// login is Login; it sets *found to the account the name found and
// *reason to why it refused the password.
func (s *Service) login(ctx context.Context, clientIP, username, password string, found **User, reason *string) (*User, error) {
	addr, network := clientKeys(clientIP)
	if err := spend(ctx, s.IPLimit, addr); err != nil {
		return nil, err
	}
	// A request without both fields, or with one no account can have, is
	// the client's mistake, not a guess: say so instead of "wrong password".
	if username == "" || password == "" {
		return nil, fmt.Errorf("%w: username and password are required", ErrInvalid)
	}
	if len(username) > MaxUsernameLen || len(password) > MaxPasswordLen {
		return nil, fmt.Errorf("%w: username is at most %d bytes and password at most %d", ErrInvalid, MaxUsernameLen, MaxPasswordLen)
	}
	userKey := NameKey(username)
	netKey := userKey + "\x00" + network
	if err := spend(ctx, s.UserNetLimit, netKey); err != nil {
		return nil, err
	}
	known := s.knownNets.has(netKey, s.now(), KnownNetworkTTL)
	if !known {
		if err := spend(ctx, s.UserLimit, userKey); err != nil {
			s.refund(ctx, s.UserNetLimit, netKey)
			return nil, err
		}
	}
	u, err := s.checkPassword(ctx, username, password, found, reason)
	if !errors.Is(err, ErrUnauthorized) { // a success, or no answer (busy, unavailable)
		s.refund(ctx, s.UserNetLimit, netKey)
		if !known {
			s.refund(ctx, s.UserLimit, userKey)
		}
	}
	if err == nil {
		s.knownNets.add(netKey, s.now(), KnownNetworkTTL)
	}
	return u, err
}

// spend takes an attempt from l (nil: no limit): a *RetryError wrapping
// ErrRateLimited when none is left, or the limiter's own error. A limiter
// that cannot answer refuses: one that keeps its buckets in the database
// fails when the database does, and so would the login itself.
func spend(ctx context.Context, l RateLimiter, key string) error {
	if l == nil {
		return nil
	}
	ok, wait, err := l.Spend(ctx, key)
	if err != nil {
		return fmt.Errorf("login limit: %w", err)
	}
	if !ok {
		return &RetryError{Err: ErrRateLimited, After: wait}
	}
	return nil
}

// refund gives an attempt back to l, even when the client has gone: the
// attempt did not count either way. A failure costs the user one attempt
// of the budget, no more; it is logged.
func (s *Service) refund(ctx context.Context, l RateLimiter, key string) {
	if l == nil {
		return
	}
	if err := l.Refund(context.WithoutCancel(ctx), key); err != nil {
		s.log().Warn("login limit: giving back an attempt failed", "err", err)
	}
}

// KnownNetworkTTL is how long a successful login exempts the user's later
// logins from that client network from the ceiling across all networks.
const KnownNetworkTTL = 30 * 24 * time.Hour

func (s *Service) checkPassword(ctx context.Context, username, password string, found **User, reason *string) (*User, error) {
	u, err := s.Store.UserByName(ctx, username)
	if errors.Is(err, ErrNotFound) {
		if err := s.Hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		*reason = AuditUnknownUser
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	*found = u
	ok, rehash, err := s.Hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		if errors.Is(err, ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		s.log().Error("stored password hash unusable", "user_id", u.ID, "err", err)
		return nil, ErrUnauthorized
	}
	if !ok {
		*reason = AuditBadPassword
		return nil, ErrUnauthorized
	}
	if u.Disabled {
		*reason = AuditDisabled
		return nil, ErrAccountDisabled
	}
	if rehash {
		s.rehash(ctx, u, password)
	}
	return u, nil
}

// rehash upgrades a bcrypt or outdated argon2id hash after a successful
// login. Failure only delays the upgrade to the next login.
func (s *Service) rehash(ctx context.Context, u *User, password string) {
	h, err := s.Hasher.Hash(ctx, password)
	if err == nil {
		// The same password, better hashed: a password to change stays so.
		_, err = s.Store.UpdateUser(ctx, u.Name, UserUpdate{PasswordHash: &h, MustChangePassword: &u.MustChangePassword})
	}
	if err != nil {
		s.log().Warn("password rehash postponed", "user_id", u.ID, "err", err)
		return
	}
	u.PasswordHash = h
	s.log().Info("password rehashed to argon2id", "user_id", u.ID)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// CreateUser validates and stores a new user with a hashed password. The
// audit event's actor is the context's (WithAuditInfo).
func (s *Service) CreateUser(ctx context.Context, name, password string, role Role) (*User, error) {
	if err := ValidateUsername(name); err != nil {
		return nil, err
	}
	name = CanonicalUsername(name)
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	h, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	u := &User{Name: name, Role: role, PasswordHash: h}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, ErrConflict) {
			// "already exists", without the database's words for it.
			return nil, fmt.Errorf("user %q %w", name, ErrConflict)
		}
		return nil, err
	}
	s.auditUser(ctx, AuditUserCreate, nil, u, name, roleReason(role))
	return u, nil
}

// SetPassword replaces a user's password; the audit event's actor is the
// context's (WithAuditInfo).
func (s *Service) SetPassword(ctx context.Context, name, password string) (*User, error) {
	return s.setPassword(ctx, name, password, false)
}

// ResetPassword is an admin's setting of a user's password: the user's
// sessions end and they must choose their own password at the next login
// (User.MustChangePassword, which any later password change clears).
func (s *Service) ResetPassword(ctx context.Context, name, password string) (*User, error) {
	return s.setPassword(ctx, name, password, true)
}

// setPassword hashes password, stores it (with MustChangePassword when
// reset), ends the user's sessions and records the change.
func (s *Service) setPassword(ctx context.Context, name, password string, reset bool) (*User, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	h, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return nil, err
	}
	upd, reason := UserUpdate{PasswordHash: &h, EndSessions: end}, ""
	if reset {
		upd.MustChangePassword, reason = &reset, "reset"
	}
	u, err := s.updateUser(ctx, name, upd)
	if err != nil {
		return nil, err
	}
	s.auditUser(ctx, AuditPasswordChange, nil, u, name, reason)
	return u, nil
}

// EndUserSessions ends every session of a user: their refresh tokens stop
// working and their access tokens are refused.
func (s *Service) EndUserSessions(ctx context.Context, name string) (*User, error) {
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return nil, err
	}
	u, err := s.updateUser(ctx, name, UserUpdate{EndSessions: end})
	if err != nil {
		return nil, err
	}
	s.auditUser(ctx, AuditSessionsEnd, nil, u, name, "")
	return u, nil
}

// updateUser applies upd and, when it ends the user's sessions, makes
// this instance refuse their tokens before returning.
func (s *Service) updateUser(ctx context.Context, name string, upd UserUpdate) (*User, error) {
	u, err := s.Store.UpdateUser(ctx, name, upd)
	if err != nil {
		return nil, err
	}
	if upd.EndSessions != nil {
		if err := s.SyncRevocations(ctx); err != nil {
			s.log().Warn("revocations not loaded yet; the poller retries", "err", err)
		}
	}
	return u, nil
}

// UpdateUser changes a user's role or disabled flag and ends the user's
// sessions (their tokens carry the old role). An admin cannot demote or
// disable themselves, and the store refuses to demote or disable the last
// enabled admin (ErrLastAdmin), so a server always keeps an admin who can
// undo mistakes. A nil actor (the command line) is named in the audit
// event by the context's AuditInfo.
func (s *Service) UpdateUser(ctx context.Context, actor *Principal, name string, upd UserUpdate) (*User, error) {
	if upd.Role == nil && upd.Disabled == nil {
		return nil, invalid("nothing to change: give role or disabled")
	}
	if upd.Role != nil {
		if _, err := ParseRole(string(*upd.Role)); err != nil {
			return nil, err
		}
	}
	upd.PasswordHash = nil
	if actor != nil && sameName(actor.Name, name) && ((upd.Role != nil && *upd.Role != RoleAdmin) || (upd.Disabled != nil && *upd.Disabled)) {
		return nil, fmt.Errorf("%w: admins cannot demote or disable themselves", ErrForbidden)
	}
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return nil, err
	}
	upd.EndSessions = end
	u, err := s.updateUser(ctx, name, upd)
	if err != nil {
		return nil, err
	}
	if upd.Role != nil {
		s.auditUser(ctx, AuditRoleChange, actor, u, name, roleReason(*upd.Role))
	}
	if upd.Disabled != nil {
		kind := AuditUserEnable
		if *upd.Disabled {
			kind = AuditUserDisable
		}
		s.auditUser(ctx, kind, actor, u, name, "")
	}
	return u, nil
}

// DeleteUser removes a user and their posts; admins cannot delete
// themselves, nor anyone the last enabled admin (ErrLastAdmin). A nil
// actor is named as in UpdateUser.
func (s *Service) DeleteUser(ctx context.Context, actor *Principal, name string) error {
	if actor != nil && sameName(actor.Name, name) {
		return fmt.Errorf("%w: admins cannot delete themselves", ErrForbidden)
	}
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return err
	}
	if err := s.Store.DeleteUser(ctx, name, end); err != nil {
		return err
	}
	s.auditUser(ctx, AuditUserDelete, actor, nil, name, "")
	if err := s.SyncRevocations(ctx); err != nil {
		s.log().Warn("revocations not loaded yet; the poller retries", "err", err)
	}
	return nil
}

// sameName reports whether two names are one user's, as the stores look
// names up.
func sameName(a, b string) bool { return NameKey(a) == NameKey(b) }

// CreatePost stores a post by the actor, who must be an editor or admin.
func (s *Service) CreatePost(ctx context.Context, actor *Principal, title, body string) (*Post, error) {
	if !actor.Role.AtLeast(RoleEditor) {
		return nil, fmt.Errorf("%w: creating posts needs the editor or admin role", ErrForbidden)
	}
	title = strings.TrimSpace(title)
	if title == "" || len(title) > MaxTitleLen || !utf8.ValidString(title) {
		return nil, invalid("title must be 1 to %d bytes of text", MaxTitleLen)
	}
	if len(body) > MaxBodyLen || !utf8.ValidString(body) {
		return nil, invalid("body must be at most %d bytes of text", MaxBodyLen)
	}
	p := &Post{AuthorID: actor.UserID, Title: title, Body: body}
	if err := s.Store.CreatePost(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// DeletePost removes a post; only its author or an admin may.
func (s *Service) DeletePost(ctx context.Context, actor *Principal, id int64) error {
	p, err := s.Store.Post(ctx, id)
	if err != nil {
		return err
	}
	if p.AuthorID != actor.UserID && actor.Role != RoleAdmin {
		return fmt.Errorf("%w: only the author or an admin may delete a post", ErrForbidden)
	}
	return s.Store.DeletePost(ctx, id)
}

// ListPosts returns a page of posts, newest first.
func (s *Service) ListPosts(ctx context.Context, limit int, before int64) ([]*Post, error) {
	if limit <= 0 || limit > MaxPageSize {
		return nil, invalid("limit must be 1 to %d", MaxPageSize)
	}
	if before < 0 {
		return nil, invalid("cursor must be a post id")
	}
	return s.Store.ListPosts(ctx, limit, before)
}

// Post returns one post; any authenticated user may read posts.
func (s *Service) Post(ctx context.Context, id int64) (*Post, error) {
	return s.Store.Post(ctx, id)
}

// ListUsers returns all users, ordered by name.
func (s *Service) ListUsers(ctx context.Context) ([]*User, error) {
	return s.Store.ListUsers(ctx)
}

// UsersPage returns up to limit users whose names start with search,
// ignoring case as names are compared, after the cursor: "" for the first
// page, else the NameKey of the last user of the page before, which must
// itself start with the search (a cursor of another search is
// ErrInvalid).
func (s *Service) UsersPage(ctx context.Context, search, cursor string, limit int) ([]*User, error) {
	if limit <= 0 || limit > MaxPageSize {
		return nil, invalid("limit must be 1 to %d", MaxPageSize)
	}
	if len(search) > MaxUsernameLen || !utf8.ValidString(search) {
		return nil, invalid("search must be at most %d bytes of text", MaxUsernameLen)
	}
	prefix := NameKey(search)
	if cursor != "" && (len(cursor) > 4*MaxUsernameLen || !utf8.ValidString(cursor) || !strings.HasPrefix(cursor, prefix)) {
		return nil, invalid("cursor is not one of this search's pages")
	}
	return s.Store.UsersPage(ctx, prefix, cursor, limit)
}

// Ready reports whether the store is reachable and, if it is a
// WriteChecker, accepts writes.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.Store.Ping(ctx); err != nil {
		return err
	}
	if wc, ok := s.Store.(WriteChecker); ok {
		return s.ready.check(ctx, wc)
	}
	return nil
}
