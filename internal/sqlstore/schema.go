package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// AppliedMigrations returns the versions recorded in schema_migrations, in
// the order they were applied.
func (s *Store) AppliedMigrations(ctx context.Context) ([]string, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, `SELECT version FROM schema_migrations ORDER BY applied_at, version`)
	return collect(s, "applied migrations", rows, err, func(r Rows) (string, error) {
		var v string
		return v, r.Scan(&v)
	})
}

// RekeyNames brings name_key up to date with auth.NameKey for the names
// that are not ASCII (an ASCII name's key is its lower case in every
// version): keys written before names were mapped with PRECIS, or under
// other Unicode tables, would otherwise no longer find their user. A user
// whose new key another user already holds (a look-alike such as "ａｄｍｉｎ"
// created next to "admin") keeps the old key: its name, and every
// spelling of it, finds the other user, the one that held the key first.
// It runs on q, with no deadline of the store's: Open calls it after the
// migrations (PostgreSQL: under their lock, on their connection).
func (s *Store) RekeyNames(ctx context.Context, q Querier) error {
	const op = "rekey names"
	type stale struct {
		id  int64
		key string
	}
	rows, err := s.query(ctx, q, `SELECT id, name, name_key FROM users WHERE octet_length(name) <> length(name) ORDER BY id`)
	all, err := collect(s, op, rows, err, func(r Rows) (stale, error) {
		var id int64
		var name string
		var key sql.NullString
		err := r.Scan(&id, &name, &key)
		if k := auth.NameKey(name); !key.Valid || key.String != k {
			return stale{id, k}, err
		}
		return stale{}, err
	})
	if err != nil {
		return err
	}
	for _, st := range all {
		if st.id == 0 {
			continue
		}
		_, err := s.exec(ctx, q, `UPDATE users SET name_key = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM users WHERE name_key = ?)`, st.key, st.id, st.key)
		// A conflict: a user created meanwhile holds the key.
		if err := s.wrap(op, err); err != nil && !errors.Is(err, auth.ErrConflict) {
			return err
		}
	}
	return nil
}
