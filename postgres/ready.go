package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/auth"
)

var _ auth.WriteChecker = (*DB)(nil)

// probeVersion is the schema_migrations key of PingWrite's row, which no
// migration can have (migration versions start with a number).
const probeVersion = "write-probe"

// PingWrite commits a transaction that inserts a row and deletes it
// again, so it fails where the store's writes do: on a standby or a
// read-only transaction default (25006), a full disk (53100), a lock or
// the server not answering within the store's timeout. Committing makes
// the server write and flush its WAL; nothing is left behind but a dead
// row for vacuum. schema_migrations is used because its shape is fixed by
// this package, not by a migration.
func (d *DB) PingWrite(ctx context.Context) error {
	return d.tx(ctx, "write probe", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())
			ON CONFLICT (version) DO NOTHING`, probeVersion); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, probeVersion)
		return err
	})
}
