package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jwtgate/jwtgate/internal/migrations"
)

// checkSchema refuses a database that a newer jwtgate has migrated (see
// migrations.CheckApplied). migrate calls it under the migration lock.
func (d *DB) checkSchema(ctx context.Context, conn *pgxpool.Conn) error {
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return d.wrap("migrate", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return d.wrap("migrate", err)
	}
	if err := migrations.CheckApplied("postgres", applied); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}
