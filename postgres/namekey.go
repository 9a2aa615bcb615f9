package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jwtgate/jwtgate/auth"
)

// rekeyNames brings name_key up to date with auth.NameKey for the names
// that are not ASCII (an ASCII name's key is its lower case in every
// version): keys filled by migration 002's lower(), written before names
// were mapped with PRECIS, or under other Unicode tables, would otherwise
// no longer find their user. A user whose new key another user already
// holds (a look-alike such as "ａｄｍｉｎ" created next to "admin") keeps the
// old key: its name, and every spelling of it, finds the other user, the
// one that held the key first. It runs under the migration lock.
func rekeyNames(ctx context.Context, conn *pgxpool.Conn) error {
	rows, err := conn.Query(ctx, `SELECT id, name, name_key FROM users WHERE octet_length(name) <> char_length(name) ORDER BY id`)
	if err != nil {
		return err
	}
	type stale struct {
		id  int64
		key string
	}
	var todo []stale
	var id int64
	var name, key string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name, &key}, func() error {
		if k := auth.NameKey(name); k != key {
			todo = append(todo, stale{id, k})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, s := range todo {
		_, err := conn.Exec(ctx, `UPDATE users SET name_key = $1 WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM users WHERE name_key = $1)`, s.key, s.id)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation: a user created meanwhile holds the key
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
