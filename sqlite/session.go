package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/auth"
)

// CreateSession stores a session and its first refresh token in one
// transaction, if the user's version is still s.UserVersion (else
// auth.ErrStale). The transaction holds the write lock from BEGIN: a
// change of the user commits either before the check or after the
// session, which it then revokes.
func (d *DB) CreateSession(ctx context.Context, s *auth.Session, first *auth.RefreshToken) error {
	return d.tx(ctx, "create session", func(tx *sql.Tx) error {
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM users WHERE id = ?`, s.UserID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) || err == nil && version != s.UserVersion {
			return fmt.Errorf("sqlite: create session: %w: the user changed since the login read it", auth.ErrStale)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			s.ID, s.UserID, ms(s.CreatedAt), ms(s.ExpiresAt)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
			first.Hash, s.ID, ms(first.ExpiresAt))
		return err
	})
}

// RefreshToken returns a refresh token by hash, with its session.
func (d *DB) RefreshToken(ctx context.Context, hash []byte) (*auth.RefreshToken, *auth.Session, error) {
	var rt auth.RefreshToken
	var s auth.Session
	var rtExp, created, sExp int64
	var used, revoked sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT r.hash, r.session_id, r.expires_at, r.used_at,
		s.user_id, s.created_at, s.expires_at, s.revoked_at
		FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?`, hash).
		Scan(&rt.Hash, &rt.SessionID, &rtExp, &used, &s.UserID, &created, &sExp, &revoked)
	if err != nil {
		return nil, nil, d.wrap("refresh token", err)
	}
	s.ID = rt.SessionID
	rt.ExpiresAt, s.CreatedAt, s.ExpiresAt = fromMS(rtExp), fromMS(created), fromMS(sExp)
	rt.UsedAt, s.RevokedAt = nullTime(used), nullTime(revoked)
	return &rt, &s, nil
}

func nullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// RotateRefreshToken marks oldHash used and stores next; auth.ErrStale if
// next's session was revoked or deleted, auth.ErrConflict if oldHash was
// used already (or is unknown).
func (d *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, usedAt time.Time, next *auth.RefreshToken) error {
	return d.tx(ctx, "rotate refresh token", func(tx *sql.Tx) error {
		if err := sessionLive(ctx, tx, next.SessionID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`, ms(usedAt), oldHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = fmt.Errorf("sqlite: rotate refresh token: %w: already used", auth.ErrConflict)
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
			next.Hash, next.SessionID, ms(next.ExpiresAt))
		return err
	})
}

// sessionLive fails with auth.ErrStale unless the session exists and is
// not revoked.
func sessionLive(ctx context.Context, tx *sql.Tx, id string) error {
	var live bool
	err := tx.QueryRowContext(ctx, `SELECT revoked_at IS NULL FROM sessions WHERE id = ?`, id).Scan(&live)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !live {
		return fmt.Errorf("sqlite: rotate refresh token: %w: the session ended", auth.ErrStale)
	}
	return err
}

// Revoke ends sessions and records revocations in one transaction.
func (d *DB) Revoke(ctx context.Context, r auth.Revoke) error {
	return d.tx(ctx, "revoke", func(tx *sql.Tx) error { return revoke(ctx, tx, r) })
}

func revoke(ctx context.Context, tx *sql.Tx, r auth.Revoke) error {
	var ids []string
	if r.SessionID != "" || r.UserID != 0 {
		rows, err := tx.QueryContext(ctx, `UPDATE sessions SET revoked_at = ?
			WHERE revoked_at IS NULL AND (id = ? OR user_id = ?) RETURNING id`, ms(r.At), r.SessionID, r.UserID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (id, until, created_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until), created_at = excluded.created_at`,
			id, ms(r.Until), ms(r.At)); err != nil {
			return err
		}
	}
	return nil
}

// RevocationsSince returns revocations recorded at or after since and
// still in force at now.
func (d *DB) RevocationsSince(ctx context.Context, since, now time.Time) ([]auth.Revocation, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, until, created_at FROM revocations WHERE created_at >= ? AND until > ?`, ms(since), ms(now))
	if err != nil {
		return nil, d.wrap("revocations", err)
	}
	defer rows.Close()
	var out []auth.Revocation
	for rows.Next() {
		var r auth.Revocation
		var until, created int64
		if err := rows.Scan(&r.ID, &until, &created); err != nil {
			return nil, d.wrap("revocations", err)
		}
		r.Until, r.CreatedAt = fromMS(until), fromMS(created)
		out = append(out, r)
	}
	return out, d.wrap("revocations", rows.Err())
}

// PurgeExpired deletes what can no longer matter at now. Revoked
// sessions stay a day, so a late refresh with one is still recognised.
func (d *DB) PurgeExpired(ctx context.Context, now time.Time) error {
	t, day := ms(now), int64(24*time.Hour/time.Millisecond)
	return d.tx(ctx, "purge", func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM revocations WHERE until <= ?`, []any{t}},
			{`DELETE FROM sessions WHERE expires_at <= ? OR revoked_at <= ?`, []any{t, t - day}},
			{`DELETE FROM refresh_tokens WHERE expires_at <= ?`, []any{t}},
			{`DELETE FROM signing_keys WHERE retire_at <= ?`, []any{t}},
			{`DELETE FROM token_lifetimes WHERE until <= ?`, []any{t}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// SigningKeys returns every stored signing key.
func (d *DB) SigningKeys(ctx context.Context) ([]auth.StoredKey, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT kid, jwk, created_at, retire_at FROM signing_keys`)
	if err != nil {
		return nil, d.wrap("signing keys", err)
	}
	defer rows.Close()
	var out []auth.StoredKey
	for rows.Next() {
		var k auth.StoredKey
		var created int64
		var retire sql.NullInt64
		if err := rows.Scan(&k.ID, &k.JWK, &created, &retire); err != nil {
			return nil, d.wrap("signing keys", err)
		}
		k.CreatedAt, k.RetireAt = fromMS(created), nullTime(retire)
		out = append(out, k)
	}
	return out, d.wrap("signing keys", rows.Err())
}

// AddSigningKey stores k as the active key and retires the others at
// retireOthers, in one transaction.
func (d *DB) AddSigningKey(ctx context.Context, k auth.StoredKey, retireOthers time.Time, onlyIfNone bool) error {
	return d.tx(ctx, "add signing key", func(tx *sql.Tx) error {
		if onlyIfNone {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM signing_keys`).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("sqlite: add signing key: %w: a key exists", auth.ErrConflict)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retire_at = ? WHERE retire_at IS NULL`, ms(retireOthers)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, jwk, created_at) VALUES (?, ?, ?)`, k.ID, k.JWK, ms(k.CreatedAt))
		return err
	})
}

// tx runs fn in a transaction (taking the write lock at BEGIN) and commits
// it, or rolls it back on any error.
func (d *DB) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return d.wrap(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if errors.Is(err, auth.ErrConflict) || errors.Is(err, auth.ErrNotFound) || errors.Is(err, auth.ErrStale) || errors.Is(err, auth.ErrForbidden) {
			return err
		}
		return d.wrap(op, err)
	}
	return d.wrap(op, tx.Commit())
}
