package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

var _ auth.MFAStore = (*Store)(nil)

// TOTP returns the user's TOTP enrolment.
func (s *Store) TOTP(ctx context.Context, userID int64) (*auth.TOTPSecret, error) {
	ctx, done := s.bound(ctx)
	defer done()
	var t auth.TOTPSecret
	err := s.queryRow(ctx, s.db, qTOTP, userID).Scan(&t.UserID, &t.SecretEnc, s.tc(&t.CreatedAt), s.tc(&t.ConfirmedAt), &t.LastStep)
	if err != nil {
		return nil, s.wrap("totp", err)
	}
	return &t, nil
}

// PutTOTP stores an unconfirmed enrolment, replacing an unconfirmed one;
// auth.ErrConflict if a confirmed one exists, auth.ErrInvalid if the
// user does not.
func (s *Store) PutTOTP(ctx context.Context, t *auth.TOTPSecret) error {
	const op = "put totp"
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qPutTOTP, t.UserID, t.SecretEnc, s.t(t.CreatedAt))
	if err != nil {
		return s.wrap(op, err)
	}
	if n != 1 {
		return s.errorf(op, "%w: a confirmed TOTP exists", auth.ErrConflict)
	}
	return nil
}

// ConfirmTOTP confirms the pending enrolment whose secret is secretEnc.
func (s *Store) ConfirmTOTP(ctx context.Context, userID int64, secretEnc []byte, at time.Time, step int64) error {
	const op = "confirm totp"
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qConfirmTOTP, s.t(at), step, userID, secretEnc)
	if err != nil {
		return s.wrap(op, err)
	}
	if n != 1 {
		return s.errorf(op, "%w: no such pending enrolment", auth.ErrNotFound)
	}
	return nil
}

// UseTOTPStep records step as used if it is later than the last one.
func (s *Store) UseTOTPStep(ctx context.Context, userID, step int64) error {
	const op = "use totp step"
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qUseTOTPStep, step, userID, step)
	if err != nil {
		return s.wrap(op, err)
	}
	if n != 1 {
		return s.errorf(op, "%w: the step or a later one was used", auth.ErrConflict)
	}
	return nil
}

// DeleteTOTP removes the user's enrolment.
func (s *Store) DeleteTOTP(ctx context.Context, userID int64) error {
	const op = "delete totp"
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qDeleteTOTP, userID)
	if err != nil {
		return s.wrap(op, err)
	}
	if n != 1 {
		return s.errorf(op, "%w", auth.ErrNotFound)
	}
	return nil
}

// SetRecoveryCodes replaces the user's recovery codes, in one
// transaction.
func (s *Store) SetRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	return s.tx(ctx, "set recovery codes", func(ctx context.Context, q Querier) error {
		if _, err := s.exec(ctx, q, qDeleteRecovery, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := s.exec(ctx, q, qInsertRecovery, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseRecoveryCode marks an unused code used; one statement, so of two
// concurrent uses exactly one changes the row.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) error {
	const op = "use recovery code"
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qUseRecovery, s.t(at), userID, hash)
	if err != nil {
		return s.wrap(op, err)
	}
	if n != 1 {
		return s.errorf(op, "%w", auth.ErrNotFound)
	}
	return nil
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	ctx, done := s.bound(ctx)
	defer done()
	var n int
	err := s.queryRow(ctx, s.db, qRecoveryLeft, userID).Scan(&n)
	return n, s.wrap("recovery codes left", err)
}

// CreateMFAChallenge stores c; a UserID of 0 is stored as NULL.
func (s *Store) CreateMFAChallenge(ctx context.Context, c *auth.MFAChallenge) error {
	ctx, done := s.bound(ctx)
	defer done()
	var user any
	if c.UserID != 0 {
		user = c.UserID
	}
	_, err := s.exec(ctx, s.db, qCreateChallenge, c.Hash, user, c.ClientIP, c.Kind, c.Data, s.t(c.ExpiresAt))
	return s.wrap("create mfa challenge", err)
}

// MFAChallenge returns the challenge with this hash.
func (s *Store) MFAChallenge(ctx context.Context, hash []byte) (*auth.MFAChallenge, error) {
	ctx, done := s.bound(ctx)
	defer done()
	var c auth.MFAChallenge
	var user sql.NullInt64
	err := s.queryRow(ctx, s.db, qChallenge, hash).Scan(&c.Hash, &user, &c.ClientIP, &c.Kind, &c.Data, &c.Attempts,
		s.tc(&c.ExpiresAt), s.tc(&c.UsedAt))
	if err != nil {
		return nil, s.wrap("mfa challenge", err)
	}
	c.UserID = user.Int64
	return &c, nil
}

// FailMFAChallenge counts a wrong answer.
func (s *Store) FailMFAChallenge(ctx context.Context, hash []byte) (int, error) {
	ctx, done := s.bound(ctx)
	defer done()
	var n int
	err := s.queryRow(ctx, s.db, qFailChallenge, hash).Scan(&n)
	return n, s.wrap("fail mfa challenge", err)
}

// UseMFAChallenge marks the challenge used if it is unused and has fewer
// than maxAttempts wrong answers; one statement, so of two concurrent
// answers exactly one completes it.
func (s *Store) UseMFAChallenge(ctx context.Context, hash []byte, at time.Time, maxAttempts int) error {
	const op = "use mfa challenge"
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qUseChallenge, s.t(at), hash, maxAttempts)
	if err != nil {
		return s.wrap(op, err)
	}
	if n != 1 {
		return s.errorf(op, "%w: used, unknown or out of attempts", auth.ErrConflict)
	}
	return nil
}

// mfaResets are the statements ResetMFA runs, each with the user's id:
// a factor kept in another table (passkeys) adds its own here.
var mfaResets = []string{qDeleteTOTP, qDeleteRecovery, qDeleteChallenges}

// ResetMFA removes the user's factors and challenges and ends their
// sessions, in one transaction.
func (s *Store) ResetMFA(ctx context.Context, userID int64, end *auth.Revoke) error {
	return s.tx(ctx, "reset mfa", func(ctx context.Context, q Querier) error {
		var version int64
		if err := s.queryRow(ctx, q, qUserVersion, userID).Scan(&version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return s.errorf("reset mfa", "%w", auth.ErrNotFound)
			}
			return err
		}
		for _, stmt := range mfaResets {
			if _, err := s.exec(ctx, q, stmt, userID); err != nil {
				return err
			}
		}
		if end == nil {
			return nil
		}
		r := *end
		r.SessionID, r.UserID, r.ClientID = "", userID, ""
		return s.revoke(ctx, q, r)
	})
}

// SetSessionAMR records how a session was authenticated.
func (s *Store) SetSessionAMR(ctx context.Context, sessionID string, amr []string) error {
	ctx, done := s.bound(ctx)
	defer done()
	_, err := s.exec(ctx, s.db, qSessionAMR, strings.Join(amr, " "), sessionID)
	return s.wrap("set session amr", err)
}
