package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// mfaStore returns the store's MFAStore, if it keeps second factors.
func (s *Service) mfaStore() (MFAStore, bool) {
	ms, ok := s.Store.(MFAStore)
	return ms, ok
}

// requiresMFA reports whether users of role r need a second factor.
func (s *Service) requiresMFA(r Role) bool { return slices.Contains(s.RequireMFA, r) }

// MFAStatus returns what u has enrolled.
func (s *Service) MFAStatus(ctx context.Context, u *User) (MFAStatus, error) {
	st := MFAStatus{RequiredByRole: s.requiresMFA(u.Role)}
	ms, ok := s.mfaStore()
	if !ok {
		return st, nil
	}
	t, err := ms.TOTP(ctx, u.ID)
	switch {
	case err == nil:
		st.TOTP, st.TOTPPending = !t.ConfirmedAt.IsZero(), t.ConfirmedAt.IsZero()
	case !errors.Is(err, ErrNotFound):
		return st, err
	}
	if s.WebAuthn != nil {
		if st.WebAuthn, err = s.WebAuthn.Enrolled(ctx, u); err != nil {
			return st, err
		}
	}
	if st.RecoveryLeft, err = ms.RecoveryCodesLeft(ctx, u.ID); err != nil {
		return st, err
	}
	return st, nil
}

// loginChallenge is the Data of a ChallengeLogin challenge.
type loginChallenge struct {
	Cookie    bool            `json:"cookie,omitempty"`
	UserAgent string          `json:"ua,omitempty"`       // the first step's, for the session
	WebAuthn  json.RawMessage `json:"webauthn,omitempty"` // BeginLogin's state
}

// LoginSession goes on from a password Login accepted for u: a user
// without a second factor gets a session (amr ["pwd"]); one with a
// factor gets a *MFARequiredError (ErrMFARequired) whose token LoginMFA
// takes with the factor, from the same client (from.ClientIP). cookie is
// carried to the Grant either way.
func (s *Service) LoginSession(ctx context.Context, from LoginFrom, u *User, cookie bool) (*Grant, error) {
	clientIP := from.ClientIP
	st, err := s.MFAStatus(ctx, u)
	if err != nil {
		return nil, err
	}
	if !st.HasFactor() {
		g, err := s.startSession(ctx, u, from, []string{AMRPassword})
		if g != nil {
			g.Cookie = cookie
		}
		return g, err
	}
	ms, _ := s.mfaStore()
	data := loginChallenge{Cookie: cookie, UserAgent: truncateUTF8(from.UserAgent, MaxUserAgentLen)}
	var options []byte
	if st.WebAuthn {
		var state []byte
		if options, state, err = s.WebAuthn.BeginLogin(ctx, u); err != nil {
			return nil, err
		}
		data.WebAuthn = state
	}
	token, hash := newRefreshToken()
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	c := &MFAChallenge{Hash: hash, UserID: u.ID, ClientIP: clientIP, Kind: ChallengeLogin, Data: raw,
		ExpiresAt: s.now().Add(MFAChallengeTTL)}
	if err := ms.CreateMFAChallenge(ctx, c); err != nil {
		return nil, err
	}
	s.audit(ctx, AuditEvent{Kind: AuditMFARequired, User: u.Name, UserID: u.ID, ClientIP: clientIP,
		Reason: "factors=" + strings.Join(st.Factors(), ",")})
	return nil, &MFARequiredError{Token: token, Factors: st.Factors(), ExpiresAt: c.ExpiresAt, WebAuthn: options}
}

// LoginMFA completes a login with its second step: the mfa_token of
// LoginSession and one proof. The token must be unexpired, unused, from
// the client it was issued to (clientIP) and have fewer than
// MaxMFAAttempts wrong answers, else ErrMFAToken; a wrong, replayed or
// used code is ErrMFACode and counts against the token and, as a wrong
// password does, against the login limits of the user's name on the
// client's network (UserNetLimit) and the client's address (IPLimit).
func (s *Service) LoginMFA(ctx context.Context, clientIP, token string, proof MFAProof) (*Grant, error) {
	ms, ok := s.mfaStore()
	if !ok {
		return nil, ErrMFAToken
	}
	addr, network := clientKeys(clientIP)
	if err := spend(ctx, s.IPLimit, addr); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{proof.TOTP != "", proof.RecoveryCode != "", len(proof.WebAuthn) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, invalid("give exactly one of totp, recovery_code and webauthn")
	}
	if len(token) != refreshTokenLen {
		return nil, ErrMFAToken
	}
	hash := hashRefreshToken(token)
	c, err := ms.MFAChallenge(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrMFAToken
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if c.Kind != ChallengeLogin || !c.UsedAt.IsZero() || !now.Before(c.ExpiresAt) || c.Attempts >= MaxMFAAttempts ||
		subtle.ConstantTimeCompare([]byte(c.ClientIP), []byte(clientIP)) != 1 {
		return nil, ErrMFAToken
	}
	u, err := s.Store.UserByID(ctx, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrMFAToken
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrMFAToken
	}
	var data loginChallenge
	if err := json.Unmarshal(c.Data, &data); err != nil {
		return nil, fmt.Errorf("mfa challenge data: %w", err)
	}
	netKey := NameKey(u.Name) + "\x00" + network
	if err := spend(ctx, s.UserNetLimit, netKey); err != nil {
		return nil, err
	}
	// The try is counted before its answer is checked, so that
	// concurrent answers, at any instance, cannot check more than
	// MaxMFAAttempts between them.
	tries, err := ms.FailMFAChallenge(ctx, hash)
	if err != nil {
		s.refund(ctx, s.UserNetLimit, netKey)
		return nil, err
	}
	if tries > MaxMFAAttempts {
		s.refund(ctx, s.UserNetLimit, netKey)
		return nil, ErrMFAToken
	}
	amr, factor, err := s.checkProof(ctx, ms, u, data, proof)
	if err != nil {
		if !errors.Is(err, ErrUnauthorized) {
			s.refund(ctx, s.UserNetLimit, netKey)
			return nil, err
		}
		s.audit(ctx, AuditEvent{Kind: AuditMFAFailure, User: u.Name, UserID: u.ID, ClientIP: clientIP,
			Reason: fmt.Sprintf("factor=%s tries=%d", factor, tries)})
		if tries >= MaxMFAAttempts {
			return nil, fmt.Errorf("%w (%d wrong codes)", ErrMFAToken, tries)
		}
		return nil, err
	}
	s.refund(ctx, s.UserNetLimit, netKey)
	// The right answer's own try is counted: allow one more than the
	// limit of wrong ones.
	if err := ms.UseMFAChallenge(ctx, hash, now, MaxMFAAttempts+1); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, ErrMFAToken
		}
		return nil, err
	}
	g, err := s.startSession(ctx, u, LoginFrom{ClientIP: clientIP, UserAgent: data.UserAgent}, amr)
	if err != nil {
		return nil, err
	}
	g.Cookie = data.Cookie
	s.audit(ctx, AuditEvent{Kind: AuditMFASuccess, User: u.Name, UserID: u.ID, ClientIP: clientIP, SessionID: g.SessionID,
		Reason: "factor=" + factor})
	return g, nil
}

// checkProof checks one proof for u and returns the session's amr and
// the factor's name. A wrong proof is an error wrapping ErrUnauthorized.
func (s *Service) checkProof(ctx context.Context, ms MFAStore, u *User, data loginChallenge, proof MFAProof) ([]string, string, error) {
	switch {
	case proof.TOTP != "":
		return []string{AMRPassword, AMROTP}, FactorTOTP, s.checkTOTP(ctx, ms, u, proof.TOTP)
	case proof.RecoveryCode != "":
		hash, ok := recoveryHash(proof.RecoveryCode)
		if !ok {
			return nil, FactorRecovery, ErrMFACode
		}
		err := ms.UseRecoveryCode(ctx, u.ID, hash, s.now())
		if errors.Is(err, ErrNotFound) {
			return nil, FactorRecovery, ErrMFACode
		}
		if err != nil {
			return nil, FactorRecovery, err
		}
		s.audit(ctx, AuditEvent{Kind: AuditMFARecoveryUse, User: u.Name, UserID: u.ID, ClientIP: auditInfo(ctx).ClientIP})
		return []string{AMRPassword, AMRMFA}, FactorRecovery, nil
	default:
		if s.WebAuthn == nil || len(data.WebAuthn) == 0 {
			return nil, FactorWebAuthn, ErrMFACode
		}
		amr, err := s.WebAuthn.FinishLogin(ctx, u, data.WebAuthn, proof.WebAuthn)
		if err != nil {
			return nil, FactorWebAuthn, err
		}
		return []string{AMRPassword, amr}, FactorWebAuthn, nil
	}
}

// checkTOTP accepts code if it is the code of a step within TOTPSkew of
// now that is later than the last step accepted, and records that step.
func (s *Service) checkTOTP(ctx context.Context, ms MFAStore, u *User, code string) error {
	if s.MFAKey == nil {
		return ErrMFAKeyMissing
	}
	t, err := ms.TOTP(ctx, u.ID)
	if errors.Is(err, ErrNotFound) {
		return ErrMFACode
	}
	if err != nil {
		return err
	}
	if t.ConfirmedAt.IsZero() {
		return ErrMFACode
	}
	secret, err := s.MFAKey.open(u.ID, t.SecretEnc)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, strings.TrimSpace(code), s.now(), t.LastStep)
	if !ok {
		return ErrMFACode
	}
	err = ms.UseTOTPStep(ctx, u.ID, step)
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		return ErrMFACode // replayed, concurrently or not
	}
	return err
}

// Recovery codes: 10 of 80 random bits each, written as four groups of
// four base32 characters. A code has as much entropy as a strong key, so
// an unsalted SHA-256 is enough to keep it: no dictionary or brute force
// reaches 2^80, and a slow hash would only slow the login.
const (
	RecoveryCodes    = 10
	recoveryCodeLen  = 10 // bytes
	recoveryCodeText = 16 // base32 characters
)

// newRecoveryCodes returns RecoveryCodes codes and their hashes.
func newRecoveryCodes() (codes []string, hashes [][]byte) {
	for range RecoveryCodes {
		raw := make([]byte, recoveryCodeLen)
		rand.Read(raw)
		t := strings.ToLower(b32.EncodeToString(raw))
		code := t[0:4] + "-" + t[4:8] + "-" + t[8:12] + "-" + t[12:16]
		h, _ := recoveryHash(code)
		codes, hashes = append(codes, code), append(hashes, h)
	}
	return codes, hashes
}

// recoveryHash normalises a typed code (case, spaces, dashes) and hashes
// it; ok is false for text no code can be.
func recoveryHash(code string) ([]byte, bool) {
	c := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
	if len(c) != recoveryCodeText {
		return nil, false
	}
	if _, err := b32.DecodeString(c); err != nil {
		return nil, false
	}
	h := sha256.Sum256([]byte("recovery:" + c))
	return h[:], true
}
