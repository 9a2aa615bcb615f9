package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/migrations"
)

// Migrate applies, in order, the dialect's embedded migrations that
// schema_migrations does not record, each in its own transaction with
// its check (a migration that fails leaves no trace), then RekeyNames.
// It refuses a database a newer jwtgate migrated
// (migrations.ErrSchemaTooNew). conn must be one connection, held by the
// caller under whatever makes the check and the migration atomic between
// processes (SQLite: the write lock each transaction takes at BEGIN;
// PostgreSQL: an advisory lock). No deadline of the store's applies:
// waiting for another instance's migrations, or an index on a big table,
// may take long. op prefixes errors.
func Migrate(ctx context.Context, conn DB, d Dialect, op string) error {
	s := &Store{db: conn, d: d}
	ms, err := migrations.List(d.Name)
	if err != nil {
		return s.errorf(op, "%w", err)
	}
	if _, err := s.exec(ctx, conn, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at `+d.TimeType+` NOT NULL
	)`); err != nil {
		return s.wrap(op, err)
	}
	rows, err := s.query(ctx, conn, `SELECT version FROM schema_migrations`)
	applied, err := collect(s, op, rows, err, func(r Rows) (string, error) {
		var v string
		return v, r.Scan(&v)
	})
	if err != nil {
		return err
	}
	if err := migrations.CheckApplied(d.Name, applied); err != nil {
		return s.errorf(op, "%w", err)
	}
	for _, m := range ms {
		err := conn.Tx(ctx, func(q Querier) error {
			var done bool
			if err := s.queryRow(ctx, q, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := q.Exec(ctx, m.SQL); err != nil {
				return err
			}
			if d.CheckMigration != nil {
				if err := d.CheckMigration(ctx, q); err != nil {
					return err
				}
			}
			_, err := s.exec(ctx, q, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, s.t(time.Now()))
			return err
		})
		if err != nil {
			return s.wrap(fmt.Sprintf("%s: migration %s", op, m.Version), err)
		}
	}
	return s.RekeyNames(ctx, conn)
}

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
// It runs on q, with no deadline of the store's: Migrate calls it after
// the migrations, on their connection.
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
