package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditKind names a security event.
type AuditKind string

// The events of the audit trail. Which fields of AuditEvent each fills is
// said next to it; Time and Kind are always set.
const (
	AuditLoginSuccess AuditKind = "login.success" // User (as stored), UserKey, UserID, ClientIP, SessionID
	// User is the name as typed, UserKey its normalised form (NameKey),
	// Reason one of the AuditReason constants.
	AuditLoginFailure AuditKind = "login.failure" // User, UserKey, UserID (when known), ClientIP, Reason
	// A refresh token presented a second time: the session is revoked.
	AuditRefreshReuse AuditKind = "refresh.reuse" // User, UserID, SessionID, ClientID (an OAuth client's), ClientIP
	// An authorization code redeemed a second time: its session is revoked.
	AuditCodeReuse      AuditKind = "oauth.code_reuse"     // UserID, SessionID, ClientID, ClientIP
	AuditLogout         AuditKind = "logout"               // Actor, User, UserID, SessionID, ClientIP
	AuditLogoutAll      AuditKind = "logout.all"           // Actor, User, UserID, ClientIP
	AuditUserCreate     AuditKind = "user.create"          // Actor, User, UserID, Reason ("role=R")
	AuditPasswordChange AuditKind = "user.password"        // Actor, User, UserID
	AuditRoleChange     AuditKind = "user.role"            // Actor, User, UserID, Reason ("role=R")
	AuditUserDisable    AuditKind = "user.disable"         // Actor, User, UserID
	AuditUserEnable     AuditKind = "user.enable"          // Actor, User, UserID
	AuditUserDelete     AuditKind = "user.delete"          // Actor, User
	AuditSessionsEnd    AuditKind = "user.sessions_end"    // Actor, User, UserID, SessionID (one session, or all when empty)
	AuditLogoutOthers   AuditKind = "logout.others"        // Actor, User, UserID, SessionID (the one kept), ClientIP
	AuditKeyRotate      AuditKind = "key.rotate"           // Actor, KeyID, Reason ("alg=A grace=D")
	AuditClientRegister AuditKind = "client.register"      // Actor, ClientID, Reason ("name=N public=B")
	AuditClientDelete   AuditKind = "client.delete"        // Actor, ClientID
	AuditClientSecret   AuditKind = "client.secret_rotate" // Actor, ClientID
	// A right password of a user with a second factor: the login waits
	// for it (login.success is recorded before, for the password).
	AuditMFARequired AuditKind = "mfa.required" // User, UserID, ClientIP, Reason ("factors=totp,recovery")
	// The second step of a login succeeded or failed.
	AuditMFASuccess     AuditKind = "mfa.success"        // User, UserID, ClientIP, SessionID, Reason ("factor=F")
	AuditMFAFailure     AuditKind = "mfa.failure"        // User, UserID, ClientIP, Reason ("factor=F tries=N")
	AuditMFARecoveryUse AuditKind = "mfa.recovery_use"   // User, UserID, ClientIP
	AuditMFATOTPEnrol   AuditKind = "mfa.totp_enroll"    // Actor, User, UserID
	AuditMFATOTPRemove  AuditKind = "mfa.totp_remove"    // Actor, User, UserID
	AuditMFARecoveryNew AuditKind = "mfa.recovery_renew" // Actor, User, UserID
	AuditMFAReset       AuditKind = "mfa.reset"          // Actor, User, UserID: every factor removed, sessions ended
)

// Reasons of a failed login (AuditEvent.Reason of AuditLoginFailure).
const (
	AuditUnknownUser = "unknown_user"
	AuditBadPassword = "bad_password"
	AuditDisabled    = "disabled"
	AuditRateLimited = "rate_limited"
	AuditBusy        = "busy"            // no password-hashing slot in time
	AuditInvalid     = "invalid_request" // a field missing or too long
	AuditError       = "error"           // the store failed, or the request ended
)

// AuditEvent is one record of the audit trail. It never holds a password,
// a secret or a token: only names, ids and addresses.
type AuditEvent struct {
	ID   int64 // assigned by the store, increasing
	Time time.Time
	Kind AuditKind
	// Actor is who made a change: a username, or cli@HOST for the command
	// line. Empty for a user's own login and logout-free events.
	Actor string
	// User is the account the event is about: for a login the name as
	// typed, else the stored name. UserKey is its normalised form
	// (NameKey), which AuditFilter.User matches.
	User     string
	UserKey  string
	UserID   int64 // 0 when unknown
	ClientIP string
	// SessionID is a session's id (the sid claim), never a token.
	SessionID string
	ClientID  string // an OAuth client's id
	KeyID     string // a signing key's kid
	Reason    string
}

// AuditSink receives the audit trail.
type AuditSink interface {
	Record(ctx context.Context, e AuditEvent) error
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	// User, if set, keeps the events about that user or made by them
	// (compared by NameKey).
	User   string
	Since  time.Time // zero: from the oldest kept
	Before int64     // events with smaller IDs only (a page's cursor); 0: from the newest
	Limit  int
}

// AuditStore keeps the audit trail. Stores that keep one implement it
// besides Store.
type AuditStore interface {
	// AddAuditEvent stores e and sets its ID.
	AddAuditEvent(ctx context.Context, e *AuditEvent) error
	// AuditEvents returns up to f.Limit events matching f, highest ID
	// (newest) first.
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PurgeAudit deletes the events older than before and returns how
	// many it deleted.
	PurgeAudit(ctx context.Context, before time.Time) (int64, error)
}

// MaxAuditPage bounds one page of audit events.
const MaxAuditPage = 1000

// DefaultAuditRetention is how long a server keeps audit events.
const DefaultAuditRetention = 90 * 24 * time.Hour

// StoreAudit is an AuditSink that writes each event to Log, with an
// "event" attribute, and then to Store. The log line comes first, so that
// an event the store fails to keep is still written somewhere.
type StoreAudit struct {
	Store AuditStore   // nil: the log only
	Log   *slog.Logger // nil: the store only
}

// Record logs and stores e.
func (a *StoreAudit) Record(ctx context.Context, e AuditEvent) error {
	if a.Log != nil {
		a.Log.LogAttrs(ctx, slog.LevelInfo, "audit", auditAttrs(e)...)
	}
	if a.Store == nil {
		return nil
	}
	return a.Store.AddAuditEvent(ctx, &e)
}

// auditAttrs are e's fields as log attributes; empty ones are left out.
func auditAttrs(e AuditEvent) []slog.Attr {
	attrs := []slog.Attr{slog.String("event", string(e.Kind))}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("actor", e.Actor)
	add("user", e.User)
	if e.UserKey != e.User {
		add("user_key", e.UserKey)
	}
	if e.UserID != 0 {
		attrs = append(attrs, slog.Int64("user_id", e.UserID))
	}
	add("client_ip", e.ClientIP)
	add("session", e.SessionID)
	add("client_id", e.ClientID)
	add("kid", e.KeyID)
	add("reason", e.Reason)
	return attrs
}

// AuditInfo is what a caller knows about who acts and from where, for the
// events of the calls made with its context (WithAuditInfo).
type AuditInfo struct {
	// Actor acts when a call is given no Principal: cli@HOST for the
	// command line.
	Actor    string
	ClientIP string
}

type auditInfoKey struct{}

// WithAuditInfo returns ctx carrying info for the audit events of the
// Service calls made with it.
func WithAuditInfo(ctx context.Context, info AuditInfo) context.Context {
	return context.WithValue(ctx, auditInfoKey{}, info)
}

func auditInfo(ctx context.Context) AuditInfo {
	info, _ := ctx.Value(auditInfoKey{}).(AuditInfo)
	return info
}

// actorName is who acts: the principal, else the context's actor.
func actorName(ctx context.Context, p *Principal) string {
	if p != nil {
		return p.Name
	}
	return auditInfo(ctx).Actor
}

// auditFlood bounds the rate_limited login failures recorded per client
// address: a flood of refused attempts must not become a flood of writes.
// The first few in a minute are recorded; the rest show in the access log.
const (
	auditFloodEvery = 20 * time.Second
	auditFloodBurst = 3
)

// audit hands e to the Service's sink, filling in the time and, from ctx,
// the client address. A sink that fails never fails the call that made
// the event: the failure is logged and counted (AuditFailures). The write
// outlives a cancelled request, so a client that hangs up cannot keep its
// attempt out of the trail.
func (s *Service) audit(ctx context.Context, e AuditEvent) {
	if s.Audit == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.ClientIP == "" {
		e.ClientIP = auditInfo(ctx).ClientIP
	}
	if e.UserKey == "" && e.User != "" {
		e.UserKey = NameKey(e.User)
	}
	if err := s.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.auditFailures.Add(1)
		// The server's logger (lograte) writes a failure that repeats
		// once per interval with a count.
		s.log().Error("audit event not recorded", "event", string(e.Kind), "err", err)
	}
}

// AuditFailures returns how many audit events the sink failed to record
// since the Service started.
func (s *Service) AuditFailures() uint64 { return s.auditFailures.Load() }

// auditLogin records a login's outcome: u is the account the name found
// (nil if none), reason why it failed when the error does not say.
func (s *Service) auditLogin(ctx context.Context, clientIP, username string, u *User, reason string, err error) {
	username = typedName(username)
	e := AuditEvent{Kind: AuditLoginSuccess, User: username, UserKey: NameKey(username), ClientIP: clientIP}
	if u != nil {
		e.UserID = u.ID
	}
	if err == nil {
		e.User = u.Name
		s.audit(ctx, e)
		return
	}
	e.Kind = AuditLoginFailure
	if e.Reason = reason; reason == "" {
		e.Reason = loginFailureReason(err)
	}
	if e.Reason == AuditRateLimited {
		addr, _ := clientKeys(clientIP)
		if ok, _ := s.auditFlood().Allow(addr); !ok {
			return
		}
	}
	s.audit(ctx, e)
}

// typedName is a username as a client typed it, made fit to store: valid
// UTF-8 and at most MaxUsernameLen bytes (an attempt refused before its
// fields are checked may carry anything).
func typedName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if len(name) <= MaxUsernameLen {
		return name
	}
	cut := MaxUsernameLen
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut]
}

func (s *Service) auditFlood() *Limiter {
	s.auditFloodOnce.Do(func() {
		s.auditFloodLim = &Limiter{Every: auditFloodEvery, Burst: auditFloodBurst, Now: s.now}
	})
	return s.auditFloodLim
}

// loginFailureReason is the Reason of a login that failed with err,
// when checkPassword gave none.
func loginFailureReason(err error) string {
	switch {
	case errors.Is(err, ErrRateLimited):
		return AuditRateLimited
	case errors.Is(err, ErrBusy):
		return AuditBusy
	case errors.Is(err, ErrInvalid):
		return AuditInvalid
	case errors.Is(err, ErrUnauthorized):
		return AuditBadPassword
	}
	return AuditError
}

// auditUser records a change an actor made to a user.
func (s *Service) auditUser(ctx context.Context, kind AuditKind, actor *Principal, u *User, name, reason string) {
	e := AuditEvent{Kind: kind, Actor: actorName(ctx, actor), User: name, Reason: reason}
	if u != nil {
		e.User, e.UserID = u.Name, u.ID
	}
	s.audit(ctx, e)
}

// roleReason is the Reason of a role change or a user creation.
func roleReason(r Role) string { return fmt.Sprintf("role=%s", r) }

// AuditEvents returns a page of the audit trail, newest first; f.Limit
// is 1 to MaxAuditPage.
func (s *Service) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	as, ok := s.Store.(AuditStore)
	if !ok {
		return nil, fmt.Errorf("%w: this store keeps no audit trail", ErrUnavailable)
	}
	if f.Limit < 1 || f.Limit > MaxAuditPage {
		return nil, invalid("limit must be 1 to %d", MaxAuditPage)
	}
	if f.Before < 0 {
		return nil, invalid("cursor must be an event id")
	}
	return as.AuditEvents(ctx, f)
}
