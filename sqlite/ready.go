package sqlite

import (
	"context"
	"database/sql"

	"github.com/jwtgate/jwtgate/auth"
)

var _ auth.WriteChecker = (*DB)(nil)

// probeVersion is the schema_migrations key of PingWrite's row, which no
// migration can have (migration versions start with a number).
const probeVersion = "write-probe"

// PingWrite commits a transaction that inserts a row and deletes it
// again. A transaction that is rolled back proves nothing: its pages never
// leave the page cache. A committed one must append its pages to the WAL,
// so it fails, like the writes of the store's users, when the disk is
// full (SQLITE_FULL), the file or folder is read-only, or the lock cannot
// be had within busy_timeout; it leaves no row behind. schema_migrations is
// used because its shape is fixed by this package, not by a migration.
func (d *DB) PingWrite(ctx context.Context) error {
	return d.tx(ctx, "write probe", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)
			ON CONFLICT (version) DO NOTHING`, probeVersion); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, probeVersion)
		return err
	})
}
