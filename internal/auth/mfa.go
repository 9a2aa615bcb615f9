package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Second factors a user can have, as named in an mfa_required answer's
// factors and in MFAStatus.
const (
	FactorTOTP     = "totp"
	FactorWebAuthn = "webauthn"
	FactorRecovery = "recovery"
)

// Authentication method references (RFC 8176) in the amr claim of access
// and ID tokens. A password login is ["pwd"]; with a TOTP code ["pwd",
// "otp"]; with a security key ["pwd","hwk"] (a synced or platform passkey
// "swk" where the authenticator says so); a passwordless passkey sign-in
// ["hwk"] or ["swk"]. A recovery code is none of RFC 8176's methods: it
// is ["pwd","mfa"], two factors without claiming which, so that a route
// that demands "otp" or "hwk" does not take it for one.
const (
	AMRPassword    = "pwd"
	AMROTP         = "otp"
	AMRHardwareKey = "hwk"
	AMRSoftwareKey = "swk"
	AMRMFA         = "mfa"
)

// ACRMFA is the acr claim of tokens whose login used a second factor (or
// a passkey with user verification, which is two factors in one).
const ACRMFA = "urn:jwtgate:mfa"

// MFAChallengeTTL is how long an mfa_token (and a WebAuthn ceremony)
// can be answered.
const MFAChallengeTTL = 5 * time.Minute

// MaxMFAAttempts is how many wrong answers one mfa_token takes: the last
// one ends it, and the user has to enter the password again.
const MaxMFAAttempts = 5

// Kinds of MFAChallenge. WebAuthn ceremonies outside a login (passkey
// registration, passwordless sign-in) use their own kinds.
const (
	ChallengeLogin = "login" // the second step of a password login
)

// Errors of the second-factor flow. httpapi maps them to problem codes.
var (
	// ErrMFARequired is what a right password of a user with a second
	// factor gets: see MFARequiredError for the token to go on with.
	ErrMFARequired = errors.New("a second factor is required")
	// ErrMFAToken refuses an mfa_token that is unknown, expired, used,
	// ended by too many wrong codes, or presented from another client.
	ErrMFAToken = errors.New("the mfa_token is invalid, expired or used: log in again")
	// ErrMFACode refuses a wrong, expired or already used code or
	// assertion; the token stays usable until MaxMFAAttempts.
	ErrMFACode = fmt.Errorf("%w: wrong or already used code", ErrUnauthorized)
	// ErrMFAEnrollment refuses a token that may only enrol a second
	// factor (AccessClaims.MFAEnroll) everywhere else.
	ErrMFAEnrollment = fmt.Errorf("%w: enrol a second factor first", ErrForbidden)
	// ErrMFARequiredByRole refuses removing a user's last second factor
	// when their role requires one.
	ErrMFARequiredByRole = fmt.Errorf("%w: the user's role requires a second factor", ErrConflict)
	// ErrMFAKeyMissing means no key to encrypt TOTP secrets with was
	// configured (Service.MFAKey).
	ErrMFAKeyMissing = errors.New("TOTP needs an encryption key: start the server with --mfa-key-file (JWTGATE_MFA_KEY_FILE)")
)

// MFARequiredError is the error of a right password whose user must
// present a second factor: POST /login/mfa with Token completes the login.
type MFARequiredError struct {
	Token     string   // the mfa_token: single use, MFAChallengeTTL
	Factors   []string // FactorTOTP, FactorWebAuthn, FactorRecovery, as enrolled
	ExpiresAt time.Time
	// WebAuthn is the assertion options (PublicKeyCredentialRequestOptions
	// JSON) for the browser when the user has a passkey, else nil.
	WebAuthn []byte
}

func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }
func (e *MFARequiredError) Unwrap() error { return ErrMFARequired }

// MFAProof is the second step of a login: exactly one of a TOTP code, a
// recovery code, or a WebAuthn assertion (the browser's
// PublicKeyCredential JSON).
type MFAProof struct {
	TOTP         string
	RecoveryCode string
	WebAuthn     []byte
}

// WebAuthnVerifier is the passkey factor, plugged into the login flow by
// wiring (Service.WebAuthn); nil makes the factor unavailable.
type WebAuthnVerifier interface {
	// Enrolled reports whether the user has a credential.
	Enrolled(ctx context.Context, u *User) (bool, error)
	// BeginLogin starts an assertion ceremony for u: options go to the
	// browser, state is kept with the challenge and handed to FinishLogin.
	BeginLogin(ctx context.Context, u *User) (options, state []byte, err error)
	// FinishLogin checks an assertion against the state of BeginLogin
	// and returns the amr value it proves (AMRHardwareKey or
	// AMRSoftwareKey). A wrong assertion is an error wrapping
	// ErrUnauthorized.
	FinishLogin(ctx context.Context, u *User, state, assertion []byte) (amr string, err error)
}

// TOTPSecret is a user's TOTP enrolment. Secret is encrypted at rest
// (SecretEnc); ConfirmedAt is zero until a first code confirmed it, and an
// unconfirmed secret is no factor yet.
type TOTPSecret struct {
	UserID      int64
	SecretEnc   []byte
	CreatedAt   time.Time
	ConfirmedAt time.Time
	// LastStep is the newest time step a code was accepted for: codes of
	// that step or earlier are refused.
	LastStep int64
}

// MFAChallenge is a pending second step (Kind ChallengeLogin) or WebAuthn
// ceremony, stored by the SHA-256 of its token so that any instance can
// answer it and a copy of the database cannot.
type MFAChallenge struct {
	Hash      []byte
	UserID    int64  // 0: none yet (a passwordless sign-in)
	ClientIP  string // the client it was issued to; "" binds to none
	Kind      string
	Data      []byte // the kind's state (JSON)
	Attempts  int    // tries so far (FailMFAChallenge)
	ExpiresAt time.Time
	UsedAt    time.Time
}

// MFAStore keeps second factors and challenges. Errors wrap ErrNotFound,
// ErrConflict or ErrUnavailable, as the other stores'.
type MFAStore interface {
	// TOTP returns the user's TOTP enrolment, or ErrNotFound.
	TOTP(ctx context.Context, userID int64) (*TOTPSecret, error)
	// PutTOTP stores an unconfirmed enrolment, replacing an unconfirmed
	// one; ErrConflict, changing nothing, if a confirmed one exists.
	PutTOTP(ctx context.Context, t *TOTPSecret) error
	// ConfirmTOTP confirms the unconfirmed enrolment and records step as
	// used, if its secret is still secretEnc (ErrNotFound otherwise: it
	// was replaced or removed meanwhile).
	ConfirmTOTP(ctx context.Context, userID int64, secretEnc []byte, at time.Time, step int64) error
	// UseTOTPStep records that a code of step was accepted, if no code of
	// that step or a later one was: ErrConflict (a replay) otherwise, and
	// ErrNotFound without a confirmed enrolment.
	UseTOTPStep(ctx context.Context, userID, step int64) error
	// DeleteTOTP removes the enrolment (ErrNotFound if none).
	DeleteTOTP(ctx context.Context, userID int64) error

	// SetRecoveryCodes replaces the user's recovery codes by hashes.
	SetRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error
	// UseRecoveryCode marks the unused code with hash used at at; of two
	// concurrent uses one wins, the other gets ErrNotFound, as does a
	// used or unknown code.
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) error
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)

	// CreateMFAChallenge stores c.
	CreateMFAChallenge(ctx context.Context, c *MFAChallenge) error
	// MFAChallenge returns the challenge with this hash, or ErrNotFound.
	MFAChallenge(ctx context.Context, hash []byte) (*MFAChallenge, error)
	// FailMFAChallenge counts a try at answering and returns the count
	// (Attempts). LoginMFA counts before it checks an answer, so that
	// concurrent answers cannot together overrun its limit.
	FailMFAChallenge(ctx context.Context, hash []byte) (int, error)
	// UseMFAChallenge marks the challenge used at at, if it is unused
	// and has fewer than maxAttempts tries: ErrConflict otherwise, so
	// that exactly one answer completes it.
	UseMFAChallenge(ctx context.Context, hash []byte, at time.Time, maxAttempts int) error

	// ResetMFA removes every second factor (passkeys included: the
	// command line resets without a WebAuthnVerifier) and pending
	// challenge of the user and applies end (every session of theirs
	// ends), in one transaction.
	ResetMFA(ctx context.Context, userID int64, end *Revoke) error
	// SetSessionAMR records amr as how session sessionID was
	// authenticated (a factor confirmed in a session proves it).
	SetSessionAMR(ctx context.Context, sessionID string, amr []string) error
}

// MFAStatus is what a user has enrolled.
type MFAStatus struct {
	TOTP           bool // a confirmed TOTP enrolment
	TOTPPending    bool // an enrolment waiting for its first code
	WebAuthn       bool
	RecoveryLeft   int // unused recovery codes
	RequiredByRole bool
}

// Factors lists the enrolled factors as an mfa_required answer names them.
func (m MFAStatus) Factors() []string {
	var f []string
	if m.TOTP {
		f = append(f, FactorTOTP)
	}
	if m.WebAuthn {
		f = append(f, FactorWebAuthn)
	}
	if m.RecoveryLeft > 0 && (m.TOTP || m.WebAuthn) {
		f = append(f, FactorRecovery)
	}
	return f
}

// HasFactor reports whether the user has a second factor a login must
// present (recovery codes alone are none: they back up one).
func (m MFAStatus) HasFactor() bool { return m.TOTP || m.WebAuthn }

// SecondFactor reports whether amr shows a second factor (or a passkey,
// which is two in one).
func SecondFactor(amr []string) bool {
	for _, a := range amr {
		switch a {
		case AMROTP, AMRHardwareKey, AMRSoftwareKey, AMRMFA:
			return true
		}
	}
	return false
}

// ACRFor is the acr claim for amr: ACRMFA with a second factor, else "".
func ACRFor(amr []string) string {
	if SecondFactor(amr) {
		return ACRMFA
	}
	return ""
}
