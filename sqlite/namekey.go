package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"modernc.org/sqlite"

	"github.com/jwtgate/jwtgate/auth"
)

// nameKey is auth.NameKey: the unique index holds it and lookups compare it.
func nameKey(name string) string { return auth.NameKey(name) }

// nameKeyFunc is nameKey as the SQL function jwtgate_name_key(name), which
// migration 002 uses to fill the column for users created before it. It is
// used by no index, trigger or view, so other SQLite tools can still read
// and write the database without it.
const nameKeyFunc = "jwtgate_name_key"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(nameKeyFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return nameKey(v), nil
		case []byte:
			return nameKey(string(v)), nil
		case nil:
			return nil, nil
		default:
			return nil, fmt.Errorf("%s: want text, got %T", nameKeyFunc, v)
		}
	})
}

// rekeyNames brings name_key up to date with nameKey for the names that
// are not ASCII (an ASCII name's key is its lower case in every version):
// keys written before names were mapped with PRECIS, or under other
// Unicode tables, would otherwise no longer find their user. A user whose
// new key another user already holds (a look-alike such as "ａｄｍｉｎ"
// created next to "admin") keeps the old key: its name, and every
// spelling of it, finds the other user, the one that held the key first.
func (d *DB) rekeyNames(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, `SELECT id, name, name_key FROM users WHERE length(CAST(name AS BLOB)) <> length(name) ORDER BY id`)
	if err != nil {
		return d.wrap("rekey names", err)
	}
	type stale struct {
		id  int64
		key string
	}
	var todo []stale
	for rows.Next() {
		var id int64
		var name string
		var key sql.NullString
		if err := rows.Scan(&id, &name, &key); err != nil {
			rows.Close()
			return d.wrap("rekey names", err)
		}
		if k := nameKey(name); !key.Valid || key.String != k {
			todo = append(todo, stale{id, k})
		}
	}
	if err := rows.Close(); err != nil {
		return d.wrap("rekey names", err)
	}
	if err := rows.Err(); err != nil {
		return d.wrap("rekey names", err)
	}
	for _, s := range todo {
		_, err := d.db.ExecContext(ctx, `UPDATE OR IGNORE users SET name_key = ? WHERE id = ?`, s.key, s.id)
		if err != nil {
			return d.wrap("rekey names", err)
		}
	}
	return nil
}
