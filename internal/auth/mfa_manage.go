package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// TOTPEnrolment is a TOTP secret waiting for its first code: the
// otpauth:// URI for an authenticator app (or its QR code) and the
// secret for typing in.
type TOTPEnrolment struct {
	URI    string
	Secret string // base32, no padding
}

// principalUser reads the user of p, who must still exist and be enabled.
func (s *Service) principalUser(ctx context.Context, p *Principal) (*User, MFAStore, error) {
	if p == nil || p.UserID <= 0 || p.Claims.ClientID != "" {
		return nil, nil, fmt.Errorf("%w: a login's access token is required", ErrForbidden)
	}
	ms, ok := s.mfaStore()
	if !ok {
		return nil, nil, fmt.Errorf("%w: this store keeps no second factors", ErrUnavailable)
	}
	u, err := s.Store.UserByID(ctx, p.UserID)
	if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
		return nil, nil, ErrUnauthorized
	}
	return u, ms, err
}

// BeginTOTP starts (or starts over) p's TOTP enrolment with a new secret.
// issuer names the server in the app; the account is the username. A
// user with a confirmed TOTP must remove it first (ErrConflict).
func (s *Service) BeginTOTP(ctx context.Context, p *Principal, issuer string) (*TOTPEnrolment, error) {
	if s.MFAKey == nil {
		return nil, ErrMFAKeyMissing
	}
	u, ms, err := s.principalUser(ctx, p)
	if err != nil {
		return nil, err
	}
	secret := newTOTPSecret()
	t := &TOTPSecret{UserID: u.ID, SecretEnc: s.MFAKey.seal(u.ID, secret), CreatedAt: s.now()}
	if err := ms.PutTOTP(ctx, t); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("%w: TOTP is already set up; remove it first", ErrConflict)
		}
		return nil, err
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	return &TOTPEnrolment{URI: TOTPURI(issuer, u.Name, secret), Secret: TOTPSecretText(secret)}, nil
}

// ConfirmTOTP confirms p's pending enrolment with a first code: the
// factor is then in force, and p's session counts as authenticated with
// it (a token refreshed in it has amr ["pwd","otp"]). A user who had no
// unused recovery codes gets RecoveryCodes new ones, returned here once.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) (recovery []string, err error) {
	if s.MFAKey == nil {
		return nil, ErrMFAKeyMissing
	}
	u, ms, err := s.principalUser(ctx, p)
	if err != nil {
		return nil, err
	}
	t, err := ms.TOTP(ctx, u.ID)
	if errors.Is(err, ErrNotFound) || err == nil && !t.ConfirmedAt.IsZero() {
		return nil, fmt.Errorf("%w: no TOTP enrolment is waiting for a code: begin one", ErrConflict)
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.MFAKey.open(u.ID, t.SecretEnc)
	if err != nil {
		return nil, err
	}
	step, ok := matchTOTP(secret, strings.TrimSpace(code), s.now(), 0)
	if !ok {
		return nil, invalid("the code is wrong: check the device's clock and type the current code")
	}
	if err := ms.ConfirmTOTP(ctx, u.ID, t.SecretEnc, s.now(), step); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: the enrolment was replaced meanwhile", ErrConflict)
		}
		return nil, err
	}
	s.auditUser(ctx, AuditMFATOTPEnrol, p, u, u.Name, "")
	if p.Claims.SessionID != "" {
		amr := []string{AMRPassword, AMROTP}
		if err := ms.SetSessionAMR(ctx, p.Claims.SessionID, amr); err != nil {
			return nil, err
		}
	}
	left, err := ms.RecoveryCodesLeft(ctx, u.ID)
	if err != nil || left > 0 {
		return nil, err
	}
	return s.newRecovery(ctx, ms, p, u)
}

func (s *Service) newRecovery(ctx context.Context, ms MFAStore, p *Principal, u *User) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	if err := ms.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, err
	}
	s.auditUser(ctx, AuditMFARecoveryNew, p, u, u.Name, "")
	return codes, nil
}

// RegenerateRecoveryCodes replaces p's recovery codes with RecoveryCodes
// new ones, returned once. The user's current password is required
// (checked as ChangeOwnPassword checks it, from clientIP): the old codes
// stop working. Only a user with a second factor has any use for them
// (ErrConflict otherwise).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *Principal, clientIP, currentPassword string) ([]string, error) {
	u, ms, err := s.principalUser(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.confirmOwnPassword(ctx, p, clientIP, currentPassword); err != nil {
		return nil, err
	}
	st, err := s.MFAStatus(ctx, u)
	if err != nil {
		return nil, err
	}
	if !st.HasFactor() {
		return nil, fmt.Errorf("%w: recovery codes back up a second factor: set one up first", ErrConflict)
	}
	return s.newRecovery(ctx, ms, p, u)
}

// RemoveTOTP removes p's TOTP (confirmed or pending). The user's current
// password is required (checked as ChangeOwnPassword checks it, from
// clientIP). When it is the last second factor of a user whose role
// requires one, it is refused with ErrMFARequiredByRole.
func (s *Service) RemoveTOTP(ctx context.Context, p *Principal, clientIP, currentPassword string) error {
	u, ms, err := s.principalUser(ctx, p)
	if err != nil {
		return err
	}
	if err := s.confirmOwnPassword(ctx, p, clientIP, currentPassword); err != nil {
		return err
	}
	st, err := s.MFAStatus(ctx, u)
	if err != nil {
		return err
	}
	if st.TOTP && !st.WebAuthn && st.RequiredByRole {
		return ErrMFARequiredByRole
	}
	if err := ms.DeleteTOTP(ctx, u.ID); err != nil {
		return err
	}
	s.auditUser(ctx, AuditMFATOTPRemove, p, u, u.Name, "")
	return nil
}

// CanRemoveFactor reports, for a factor store outside this package (the
// passkeys), whether u may lose one of its factors: not when it is the
// last one and u's role requires one (ErrMFARequiredByRole).
func (s *Service) CanRemoveFactor(ctx context.Context, u *User, webauthnLeft bool) error {
	st, err := s.MFAStatus(ctx, u)
	if err != nil {
		return err
	}
	if st.RequiredByRole && !st.TOTP && !webauthnLeft {
		return ErrMFARequiredByRole
	}
	return nil
}

// ResetMFA is an admin's removal of every second factor of the user
// name (the user lost them): TOTP, recovery codes, passkeys and pending
// challenges go, and every session of the user ends. A nil actor (the
// command line) is named as in UpdateUser.
func (s *Service) ResetMFA(ctx context.Context, actor *Principal, name string) (*User, error) {
	ms, ok := s.mfaStore()
	if !ok {
		return nil, fmt.Errorf("%w: this store keeps no second factors", ErrUnavailable)
	}
	u, err := s.Store.UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return nil, err
	}
	if err := ms.ResetMFA(ctx, u.ID, end); err != nil {
		return nil, err
	}
	if err := s.SyncRevocations(ctx); err != nil {
		s.log().Warn("revocations not loaded yet; the poller retries", "err", err)
	}
	s.auditUser(ctx, AuditMFAReset, actor, u, u.Name, "")
	return u, nil
}
