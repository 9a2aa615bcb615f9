package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

var _ auth.PasskeyStore = (*Store)(nil)

const (
	passkeyCols = `id, user_id, rp_id, name, public_key, attestation_type, attestation_format, aaguid, transports, attachment, sign_count, flags, created_at, last_used_at`

	qWebAuthnHandle = `UPDATE users SET webauthn_handle = COALESCE(webauthn_handle, ?) WHERE id = ? RETURNING webauthn_handle`
	qUserByHandle   = `SELECT ` + userCols + ` FROM users WHERE webauthn_handle = ?`
	qAddPasskey     = `INSERT INTO webauthn_credentials (` + passkeyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`
	qPasskeys       = `SELECT ` + passkeyCols + ` FROM webauthn_credentials WHERE user_id = ? AND (rp_id = ? OR ? = '') ORDER BY created_at, id`
	// The counter must go up, unless the authenticator keeps none (0
	// stored, 0 sent): checked in the update itself, so two instances
	// cannot both accept the same count.
	qUsePasskey = `UPDATE webauthn_credentials SET sign_count = ?, flags = ?, last_used_at = ?
		WHERE user_id = ? AND id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`
	qPasskeyExists = `SELECT EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = ? AND id = ?)`
	qRenamePasskey = `UPDATE webauthn_credentials SET name = ? WHERE user_id = ? AND id = ?`
	qDeletePasskey = `DELETE FROM webauthn_credentials WHERE user_id = ? AND id = ?`
	qPurgeCeremony = `DELETE FROM webauthn_ceremonies WHERE expires_at <= ?`
	qSaveCeremony  = `INSERT INTO webauthn_ceremonies (challenge_hash, kind, user_id, data, expires_at) VALUES (?, ?, ?, ?, ?)`
	qTakeCeremony  = `DELETE FROM webauthn_ceremonies WHERE challenge_hash = ? AND kind = ? RETURNING user_id, data, expires_at`
	qResetPasskeys = `DELETE FROM webauthn_credentials WHERE user_id = ?`
	qResetCeremony = `DELETE FROM webauthn_ceremonies WHERE user_id = ?`
)

func init() {
	queries = append(queries, qWebAuthnHandle, qUserByHandle, qAddPasskey, qPasskeys, qUsePasskey, qPasskeyExists,
		qRenamePasskey, qDeletePasskey, qPurgeCeremony, qSaveCeremony, qTakeCeremony, qResetPasskeys, qResetCeremony)
	// An admin's reset of a user's second factors removes their passkeys.
	mfaResets = append(mfaResets, qResetPasskeys, qResetCeremony)
}

// WebAuthnHandle returns the user's handle, storing fresh if it has none.
func (s *Store) WebAuthnHandle(ctx context.Context, userID int64, fresh []byte) ([]byte, error) {
	ctx, done := s.bound(ctx)
	defer done()
	var h []byte
	err := s.queryRow(ctx, s.db, qWebAuthnHandle, fresh, userID).Scan(&h)
	return h, s.wrap("webauthn handle", err)
}

// UserByWebAuthnHandle returns the user whose handle it is.
func (s *Store) UserByWebAuthnHandle(ctx context.Context, handle []byte) (*auth.User, error) {
	if len(handle) == 0 {
		return nil, s.errorf("user by webauthn handle", "%w", auth.ErrNotFound)
	}
	ctx, done := s.bound(ctx)
	defer done()
	u, err := s.scanUser(s.queryRow(ctx, s.db, qUserByHandle, handle))
	return u, s.wrap("user by webauthn handle", err)
}

// AddPasskey stores p and sets CreatedAt; the user is locked first, so
// an unknown or deleted one is auth.ErrNotFound.
func (s *Store) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	now := s.now()
	err := s.tx(ctx, "add passkey", func(ctx context.Context, q Querier) error {
		var version int64
		if err := s.queryRow(ctx, q, qUserVersion, p.UserID).Scan(&version); err != nil {
			return err
		}
		_, err := s.exec(ctx, q, qAddPasskey, p.ID, p.UserID, p.RPID, p.Name, p.PublicKey, p.AttestationType, p.AttestationFormat,
			p.AAGUID, strings.Join(p.Transports, ","), p.Attachment, int64(p.SignCount), int64(p.Flags), s.t(now))
		return err
	})
	if err != nil {
		return err
	}
	p.CreatedAt, p.LastUsedAt = now, time.Time{}
	return nil
}

// Passkeys returns the user's passkeys under rpID ("": any), oldest first.
func (s *Store) Passkeys(ctx context.Context, userID int64, rpID string) ([]auth.Passkey, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qPasskeys, userID, rpID, rpID)
	return collect(s, "passkeys", rows, err, func(r Rows) (auth.Passkey, error) {
		var p auth.Passkey
		var transports string
		var count, flags int64
		err := r.Scan(&p.ID, &p.UserID, &p.RPID, &p.Name, &p.PublicKey, &p.AttestationType, &p.AttestationFormat, &p.AAGUID,
			&transports, &p.Attachment, &count, &flags, s.tc(&p.CreatedAt), s.tc(&p.LastUsedAt))
		if transports != "" {
			p.Transports = strings.Split(transports, ",")
		}
		p.SignCount, p.Flags = uint32(count), byte(flags)
		return p, err
	})
}

// UsePasskey records an assertion; a counter that did not go up is
// auth.ErrStale.
func (s *Store) UsePasskey(ctx context.Context, userID int64, id []byte, signCount uint32, flags byte, at time.Time) error {
	return s.tx(ctx, "use passkey", func(ctx context.Context, q Querier) error {
		n, err := s.exec(ctx, q, qUsePasskey, int64(signCount), int64(flags), s.t(at.UTC().Truncate(s.d.Precision)), userID, id, int64(signCount), int64(signCount))
		if err != nil || n == 1 {
			return err
		}
		var exists bool
		if err := s.queryRow(ctx, q, qPasskeyExists, userID, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return s.errorf("use passkey", "%w", auth.ErrNotFound)
		}
		return s.errorf("use passkey", "%w: the signature counter did not go up", auth.ErrStale)
	})
}

// RenamePasskey renames the user's credential id.
func (s *Store) RenamePasskey(ctx context.Context, userID int64, id []byte, name string) error {
	return s.oneRow(ctx, "rename passkey", qRenamePasskey, name, userID, id)
}

// DeletePasskey deletes the user's credential id.
func (s *Store) DeletePasskey(ctx context.Context, userID int64, id []byte) error {
	return s.oneRow(ctx, "delete passkey", qDeletePasskey, userID, id)
}

// oneRow runs a statement that must change one row: none is
// auth.ErrNotFound.
func (s *Store) oneRow(ctx context.Context, op, query string, args ...any) error {
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, query, args...)
	if err != nil {
		return s.wrap(op, err)
	}
	if n == 0 {
		return s.errorf(op, "%w", auth.ErrNotFound)
	}
	return nil
}

// SaveCeremony stores c, deleting the ceremonies that expired.
func (s *Store) SaveCeremony(ctx context.Context, c *auth.Ceremony) error {
	var user any
	if c.UserID != 0 {
		user = c.UserID
	}
	return s.tx(ctx, "save ceremony", func(ctx context.Context, q Querier) error {
		if _, err := s.exec(ctx, q, qPurgeCeremony, s.t(s.now())); err != nil {
			return err
		}
		_, err := s.exec(ctx, q, qSaveCeremony, c.Key, c.Kind, user, c.Data, s.t(c.ExpiresAt.UTC()))
		return err
	})
}

// TakeCeremony deletes the ceremony of key and kind and returns it, if
// it has not expired at now.
func (s *Store) TakeCeremony(ctx context.Context, key []byte, kind string, now time.Time) (*auth.Ceremony, error) {
	ctx, done := s.bound(ctx)
	defer done()
	c := &auth.Ceremony{Key: key, Kind: kind}
	var user *int64
	err := s.queryRow(ctx, s.db, qTakeCeremony, key, kind).Scan(&user, &c.Data, s.tc(&c.ExpiresAt))
	if err != nil {
		return nil, s.wrap("take ceremony", err)
	}
	if user != nil {
		c.UserID = *user
	}
	if !now.Before(c.ExpiresAt) {
		return nil, s.errorf("take ceremony", "%w: the ceremony expired", auth.ErrNotFound)
	}
	return c, nil
}
