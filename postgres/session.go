package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/auth"
)

// CreateSession stores a session and its first refresh token in one
// transaction, if the user's version is still s.UserVersion (else
// auth.ErrStale). The user's row is share-locked, so a change of the user
// (which locks the row for update) commits either before the check, which
// then reads the new version, or after the session, which it revokes.
func (d *DB) CreateSession(ctx context.Context, s *auth.Session, first *auth.RefreshToken) error {
	return d.tx(ctx, "create session", func(ctx context.Context, tx pgx.Tx) error {
		var version int64
		err := tx.QueryRow(ctx, `SELECT version FROM users WHERE id = $1 FOR SHARE`, s.UserID).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && version != s.UserVersion {
			return fmt.Errorf("postgres: create session: %w: the user changed since the login read it", auth.ErrStale)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			s.ID, s.UserID, s.CreatedAt, s.ExpiresAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES ($1, $2, $3)`,
			first.Hash, s.ID, first.ExpiresAt)
		return err
	})
}

// RefreshToken returns a refresh token by hash, with its session.
func (d *DB) RefreshToken(ctx context.Context, hash []byte) (*auth.RefreshToken, *auth.Session, error) {
	ctx, done := d.bound(ctx)
	defer done()
	var rt auth.RefreshToken
	var s auth.Session
	var used, revoked *time.Time
	err := d.pool.QueryRow(ctx, `SELECT r.hash, r.session_id, r.expires_at, r.used_at,
		s.user_id, s.created_at, s.expires_at, s.revoked_at
		FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1`, hash).
		Scan(&rt.Hash, &rt.SessionID, &rt.ExpiresAt, &used, &s.UserID, &s.CreatedAt, &s.ExpiresAt, &revoked)
	if err != nil {
		return nil, nil, d.wrap("refresh token", err)
	}
	s.ID = rt.SessionID
	rt.ExpiresAt, s.CreatedAt, s.ExpiresAt = rt.ExpiresAt.UTC(), s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	rt.UsedAt, s.RevokedAt = orZero(used), orZero(revoked)
	return &rt, &s, nil
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// RotateRefreshToken marks oldHash used and stores next; auth.ErrStale if
// next's session was revoked or deleted, auth.ErrConflict if oldHash was
// used already (or is unknown). Under READ COMMITTED a concurrent rotation
// of the same token waits for the row lock and then finds used_at set, so
// exactly one wins. The session's row is share-locked, so a revocation
// commits either before the check or after the rotation.
func (d *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, usedAt time.Time, next *auth.RefreshToken) error {
	return d.tx(ctx, "rotate refresh token", func(ctx context.Context, tx pgx.Tx) error {
		var live bool
		err := tx.QueryRow(ctx, `SELECT revoked_at IS NULL FROM sessions WHERE id = $1 FOR SHARE`, next.SessionID).Scan(&live)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !live {
			return fmt.Errorf("postgres: rotate refresh token: %w: the session ended", auth.ErrStale)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, usedAt, oldHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("postgres: rotate refresh token: %w: already used", auth.ErrConflict)
		}
		_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES ($1, $2, $3)`,
			next.Hash, next.SessionID, next.ExpiresAt)
		return err
	})
}

// Revoke ends sessions and records revocations in one transaction.
func (d *DB) Revoke(ctx context.Context, r auth.Revoke) error {
	return d.tx(ctx, "revoke", func(ctx context.Context, tx pgx.Tx) error { return revoke(ctx, tx, r) })
}

func revoke(ctx context.Context, tx pgx.Tx, r auth.Revoke) error {
	var ids []string
	if r.SessionID != "" || r.UserID != 0 {
		rows, err := tx.Query(ctx, `UPDATE sessions SET revoked_at = $1
			WHERE revoked_at IS NULL AND (id = $2 OR user_id = $3) RETURNING id`, r.At, r.SessionID, r.UserID)
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if r.SessionID != "" && len(ids) == 0 {
			// Already revoked: record it again anyway, the caller may be
			// logging out a token whose session ended by reuse meanwhile.
			ids = append(ids, r.SessionID)
		}
	}
	for _, id := range append(ids, r.TokenIDs...) {
		if id == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO revocations (id, until, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET until = GREATEST(revocations.until, excluded.until), created_at = excluded.created_at`,
			id, r.Until, r.At); err != nil {
			return err
		}
	}
	return nil
}

// RevocationsSince returns revocations recorded at or after since and
// still in force at now.
func (d *DB) RevocationsSince(ctx context.Context, since, now time.Time) ([]auth.Revocation, error) {
	ctx, done := d.bound(ctx)
	defer done()
	rows, err := d.pool.Query(ctx, `SELECT id, until, created_at FROM revocations WHERE created_at >= $1 AND until > $2`, since, now)
	if err != nil {
		return nil, d.wrap("revocations", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Revocation, error) {
		var v auth.Revocation
		err := r.Scan(&v.ID, &v.Until, &v.CreatedAt)
		v.Until, v.CreatedAt = v.Until.UTC(), v.CreatedAt.UTC()
		return v, err
	})
	return out, d.wrap("revocations", err)
}

// PurgeExpired deletes what can no longer matter at now. Revoked sessions
// stay a day, so a late refresh with one is still recognised.
func (d *DB) PurgeExpired(ctx context.Context, now time.Time) error {
	return d.tx(ctx, "purge", func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM revocations WHERE until <= $1`, []any{now}},
			{`DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $2`, []any{now, now.Add(-24 * time.Hour)}},
			{`DELETE FROM refresh_tokens WHERE expires_at <= $1`, []any{now}},
			{`DELETE FROM signing_keys WHERE retire_at <= $1`, []any{now}},
			{`DELETE FROM token_lifetimes WHERE until <= $1`, []any{now}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// SigningKeys returns every stored signing key.
func (d *DB) SigningKeys(ctx context.Context) ([]auth.StoredKey, error) {
	ctx, done := d.bound(ctx)
	defer done()
	rows, err := d.pool.Query(ctx, `SELECT kid, jwk, created_at, retire_at FROM signing_keys`)
	if err != nil {
		return nil, d.wrap("signing keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.StoredKey, error) {
		var k auth.StoredKey
		var retire *time.Time
		err := r.Scan(&k.ID, &k.JWK, &k.CreatedAt, &retire)
		k.CreatedAt, k.RetireAt = k.CreatedAt.UTC(), orZero(retire)
		return k, err
	})
	return out, d.wrap("signing keys", err)
}

// AddSigningKey stores k as the active key and retires the others at
// retireOthers, in one transaction. The table lock makes onlyIfNone hold
// across instances: of two starting together on an empty table, one
// inserts and the other waits, then finds the key.
func (d *DB) AddSigningKey(ctx context.Context, k auth.StoredKey, retireOthers time.Time, onlyIfNone bool) error {
	return d.tx(ctx, "add signing key", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if onlyIfNone {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM signing_keys`).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("postgres: add signing key: %w: a key exists", auth.ErrConflict)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET retire_at = $1 WHERE retire_at IS NULL`, retireOthers); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, jwk, created_at) VALUES ($1, $2, $3)`, k.ID, k.JWK, k.CreatedAt)
		return err
	})
}
