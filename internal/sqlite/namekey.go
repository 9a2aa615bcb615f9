package sqlite

import (
	"database/sql/driver"
	"fmt"

	"modernc.org/sqlite"

	"github.com/jwtgate/jwtgate/internal/auth"
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
