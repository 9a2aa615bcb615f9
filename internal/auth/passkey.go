package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Passkey is a WebAuthn credential (a passkey or a security key) of a
// user: the credential record of WebAuthn Level 3 section 4, kept as
// plain columns. Nothing in it is secret: the private key never leaves
// the authenticator.
type Passkey struct {
	ID        []byte // the credential id the authenticator chose
	UserID    int64
	RPID      string // the relying party id it was registered under
	Name      string // the user's label
	PublicKey []byte // COSE_Key
	// AttestationType and AttestationFormat are as registered ("none").
	AttestationType   string
	AttestationFormat string
	AAGUID            []byte
	Transports        []string // "internal", "usb", "hybrid", ...
	Attachment        string   // "platform", "cross-platform" or ""
	SignCount         uint32
	// Flags is the authenticator data flags byte as last seen (UP, UV,
	// BE, BS): whether the credential is backed up, or can be, is in it.
	Flags      byte
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
}

// The authenticator data flags of WebAuthn section 6.1.
const (
	FlagUserPresent    byte = 0x01
	FlagUserVerified   byte = 0x04
	FlagBackupEligible byte = 0x08
	FlagBackupState    byte = 0x10
)

// AMR is the RFC 8176 authentication method of this credential: "swk"
// (a software-secured key) for a passkey that can be synced or backed up
// (the BE flag), which lives in a password manager or a platform
// keychain and can be copied between devices, else "hwk" (a
// hardware-secured key): a security key or a device-bound platform key
// whose private key never leaves the device. The BE flag is fixed when
// the credential is made, so a credential's AMR never changes.
func (p *Passkey) AMR() string {
	if p.Flags&FlagBackupEligible != 0 {
		return "swk"
	}
	return "hwk"
}

// Synced reports whether the credential is backed up (the BS flag).
func (p *Passkey) Synced() bool { return p.Flags&FlagBackupState != 0 }

// IDString is the credential id in unpadded base64url, as the API names it.
func (p *Passkey) IDString() string { return base64.RawURLEncoding.EncodeToString(p.ID) }

// Ceremony is the state a WebAuthn ceremony keeps between its begin and
// finish steps: stored by the server, never by the client, so a ceremony
// begun on one instance finishes on any other.
type Ceremony struct {
	// Key identifies the ceremony: the SHA-256 of its challenge, which
	// the authenticator's response carries back.
	Key       []byte
	Kind      string // CeremonyRegister, CeremonyLogin, ...
	UserID    int64  // 0: not bound to a user (a passwordless login)
	Data      []byte // the ceremony's session data, opaque to stores
	ExpiresAt time.Time
}

// Kinds of Ceremony.
const (
	CeremonyRegister     = "webauthn.register"
	CeremonyPasswordless = "webauthn.passwordless"
)

// CeremonyTTL bounds how long a ceremony can be finished after it began.
const CeremonyTTL = 5 * time.Minute

// PasskeyStore keeps passkeys and WebAuthn ceremonies. The sqlite and
// postgres stores implement it; the Service finds it on its Store.
type PasskeyStore interface {
	// WebAuthnHandle returns the user's WebAuthn user handle, storing
	// fresh (random, 32 bytes) as the handle if the user has none yet; a
	// user keeps one handle for life. Unknown user: ErrNotFound.
	WebAuthnHandle(ctx context.Context, userID int64, fresh []byte) ([]byte, error)
	// UserByWebAuthnHandle returns the user whose handle it is, or
	// ErrNotFound.
	UserByWebAuthnHandle(ctx context.Context, handle []byte) (*User, error)
	// AddPasskey stores p and sets CreatedAt; a credential id that is
	// stored (for any user) is ErrConflict, an unknown user ErrNotFound.
	AddPasskey(ctx context.Context, p *Passkey) error
	// Passkeys returns the user's passkeys registered under rpID ("":
	// under any), oldest first.
	Passkeys(ctx context.Context, userID int64, rpID string) ([]Passkey, error)
	// UsePasskey records a successful assertion of the user's credential
	// id: its sign count, flags and the time. A count that does not
	// exceed the stored one is ErrStale and changes nothing, unless both
	// are 0 (an authenticator without a counter, as synced passkeys are).
	// Unknown credential: ErrNotFound.
	UsePasskey(ctx context.Context, userID int64, id []byte, signCount uint32, flags byte, at time.Time) error
	// RenamePasskey renames the user's credential id, or ErrNotFound.
	RenamePasskey(ctx context.Context, userID int64, id []byte, name string) error
	// DeletePasskey deletes the user's credential id, or ErrNotFound.
	DeletePasskey(ctx context.Context, userID int64, id []byte) error
	// SaveCeremony stores c (deleting the ceremonies that expired); a
	// Key that is stored is ErrConflict.
	SaveCeremony(ctx context.Context, c *Ceremony) error
	// TakeCeremony deletes the ceremony of key and kind and returns it,
	// once: ErrNotFound if there is none, it was taken, or it expired
	// by now.
	TakeCeremony(ctx context.Context, key []byte, kind string, now time.Time) (*Ceremony, error)
}

// Audit events of passkeys.
const (
	AuditPasskeyRegister AuditKind = "passkey.register" // Actor, User, UserID, Reason ("id=ID name=N amr=A")
	AuditPasskeyRename   AuditKind = "passkey.rename"   // Actor, User, UserID, Reason ("id=ID name=N")
	AuditPasskeyDelete   AuditKind = "passkey.delete"   // Actor, User, UserID, Reason ("id=ID")
	// A passwordless login; Reason "id=ID amr=A".
	AuditPasskeyLogin AuditKind = "passkey.login" // User, UserID, ClientIP, SessionID, Reason
	// An assertion refused after its signature checked out: Reason says
	// why ("sign_count id=ID stored=N got=M").
	AuditPasskeyRefused AuditKind = "passkey.refused" // User, UserID, ClientIP, Reason
)

// MaxPasskeyName bounds a passkey's name, in bytes.
const MaxPasskeyName = 64

// MaxPasskeys bounds the passkeys of one user.
const MaxPasskeys = 20

// ErrSignCount refuses an assertion whose signature counter did not
// increase: the credential may have been cloned.
var ErrSignCount = fmt.Errorf("%w: the authenticator's signature counter went back; the passkey may have been copied", ErrUnauthorized)

// PasskeyStore returns the Store as a PasskeyStore, or an error wrapping
// ErrUnavailable if it keeps none.
func (s *Service) PasskeyStore() (PasskeyStore, error) {
	ps, ok := s.Store.(PasskeyStore)
	if !ok {
		return nil, fmt.Errorf("%w: this store keeps no passkeys", ErrUnavailable)
	}
	return ps, nil
}

// CleanPasskeyName validates a passkey name: trimmed, 1 to MaxPasskeyName
// bytes of printable UTF-8.
func CleanPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxPasskeyName || !utf8.ValidString(name) {
		return "", invalid("a passkey name is 1 to %d bytes of UTF-8", MaxPasskeyName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", invalid("a passkey name has no control characters")
		}
	}
	return name, nil
}

// WebAuthnHandle returns the user's WebAuthn user handle, making one on
// first use: 32 random bytes, never the user id, so a credential tells
// nothing of the account it belongs to.
func (s *Service) WebAuthnHandle(ctx context.Context, userID int64) ([]byte, error) {
	ps, err := s.PasskeyStore()
	if err != nil {
		return nil, err
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	return ps.WebAuthnHandle(ctx, userID, fresh)
}

// AddPasskey stores a credential a registration ceremony verified and
// records it.
func (s *Service) AddPasskey(ctx context.Context, actor *Principal, u *User, p *Passkey) error {
	ps, err := s.PasskeyStore()
	if err != nil {
		return err
	}
	if p.Name, err = CleanPasskeyName(p.Name); err != nil {
		return err
	}
	have, err := ps.Passkeys(ctx, u.ID, "")
	if err != nil {
		return err
	}
	if len(have) >= MaxPasskeys {
		return fmt.Errorf("%w: at most %d passkeys per user", ErrConflict, MaxPasskeys)
	}
	p.UserID = u.ID
	if err := ps.AddPasskey(ctx, p); err != nil {
		return err
	}
	s.auditUser(ctx, AuditPasskeyRegister, actor, u, "", fmt.Sprintf("id=%s name=%s amr=%s", p.IDString(), p.Name, p.AMR()))
	return nil
}

// Passkeys lists a user's passkeys.
func (s *Service) Passkeys(ctx context.Context, userID int64) ([]Passkey, error) {
	ps, err := s.PasskeyStore()
	if err != nil {
		return nil, err
	}
	return ps.Passkeys(ctx, userID, "")
}

// RenamePasskey renames one of the principal's own passkeys.
func (s *Service) RenamePasskey(ctx context.Context, p *Principal, id []byte, name string) error {
	ps, err := s.PasskeyStore()
	if err != nil {
		return err
	}
	if name, err = CleanPasskeyName(name); err != nil {
		return err
	}
	if err := ps.RenamePasskey(ctx, p.UserID, id, name); err != nil {
		return err
	}
	s.audit(ctx, AuditEvent{Kind: AuditPasskeyRename, Actor: actorName(ctx, p), User: p.Name, UserID: p.UserID,
		Reason: fmt.Sprintf("id=%s name=%s", base64.RawURLEncoding.EncodeToString(id), name)})
	return nil
}

// DeletePasskey deletes one of the principal's own passkeys. The user's
// current password is required (checked as ChangeOwnPassword checks it,
// from clientIP). keep, if not nil, is asked next whether the user may
// lose it (a role that requires a second factor keeps the last one); its
// error refuses.
func (s *Service) DeletePasskey(ctx context.Context, p *Principal, clientIP, currentPassword string, id []byte, keep func(ctx context.Context, userID int64, remaining int) error) error {
	ps, err := s.PasskeyStore()
	if err != nil {
		return err
	}
	if err := s.confirmOwnPassword(ctx, p, clientIP, currentPassword); err != nil {
		return err
	}
	if keep != nil {
		have, err := ps.Passkeys(ctx, p.UserID, "")
		if err != nil {
			return err
		}
		if err := keep(ctx, p.UserID, len(have)-1); err != nil {
			return err
		}
	}
	if err := ps.DeletePasskey(ctx, p.UserID, id); err != nil {
		return err
	}
	s.audit(ctx, AuditEvent{Kind: AuditPasskeyDelete, Actor: actorName(ctx, p), User: p.Name, UserID: p.UserID,
		Reason: "id=" + base64.RawURLEncoding.EncodeToString(id)})
	return nil
}

// UsePasskey records a verified assertion of p (its new counter and
// flags). A counter that went back refuses the login with ErrSignCount
// and is logged and audited: two copies of the key may exist.
// Authenticators without a counter, as synced passkeys are, send 0 every
// time; 0 after 0 is accepted.
func (s *Service) UsePasskey(ctx context.Context, u *User, p *Passkey, signCount uint32, flags byte) error {
	ps, err := s.PasskeyStore()
	if err != nil {
		return err
	}
	err = ps.UsePasskey(ctx, u.ID, p.ID, signCount, flags, s.now())
	if errors.Is(err, ErrStale) {
		reason := fmt.Sprintf("sign_count id=%s stored=%d got=%d", p.IDString(), p.SignCount, signCount)
		s.log().Warn("passkey refused: its signature counter went back", "user", u.Name, "credential", p.IDString(),
			"stored", p.SignCount, "got", signCount)
		s.audit(ctx, AuditEvent{Kind: AuditPasskeyRefused, User: u.Name, UserID: u.ID, Reason: reason})
		return ErrSignCount
	}
	return err
}

// PasskeySession starts the session of a passwordless sign-in of u with
// the passkey p (which the caller verified, with user verification): its
// amr is p's alone ("hwk" or "swk"), its acr that of a second factor,
// since the authenticator checked the user's PIN or biometric. The
// sign-in is audited; from is kept with the session.
func (s *Service) PasskeySession(ctx context.Context, from LoginFrom, u *User, p *Passkey) (*Grant, error) {
	g, err := s.startSession(ctx, u, from, []string{p.AMR()})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, AuditEvent{Kind: AuditPasskeyLogin, User: u.Name, UserID: u.ID, ClientIP: from.ClientIP, SessionID: g.SessionID,
		Reason: fmt.Sprintf("id=%s amr=%s", p.IDString(), p.AMR())})
	return g, nil
}

// KeepLastFactor is the keep function of DeletePasskey: a user whose role
// requires a second factor keeps their last one (ErrMFARequiredByRole).
func (s *Service) KeepLastFactor(ctx context.Context, userID int64, remaining int) error {
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	return s.CanRemoveFactor(ctx, u, remaining > 0)
}

// SpendLoginAttempt takes one attempt from the client address's login
// limit (IPLimit, as Login does) for a sign-in that has no password, as a
// passwordless one: a *RetryError wrapping ErrRateLimited when none is
// left.
func (s *Service) SpendLoginAttempt(ctx context.Context, clientIP string) error {
	addr, _ := clientKeys(clientIP)
	return spend(ctx, s.IPLimit, addr)
}
