package postgres

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/migrations"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
)

// TestPingWrite: the probe succeeds on a writable database without leaving
// a row, and fails with ErrUnavailable where writes fail but reads work:
// here a session whose transactions are read-only, as on a standby.
func TestPingWrite(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.URL(t), 1) // one connection: the SET below sticks
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if err := db.PingWrite(ctx); err != nil {
			t.Fatalf("PingWrite: %v", err)
		}
	}
	ms, err := migrations.List("postgres")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range ms {
		want = append(want, m.Version)
	}
	if applied, err := db.AppliedMigrations(ctx); err != nil || !slices.Equal(applied, want) {
		t.Fatalf("after the probe: %v %v, want %v", applied, err, want)
	}

	if _, err := db.pool.Exec(ctx, `SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping on a read-only session: %v", err)
	}
	if _, err := db.ListUsers(ctx); err != nil {
		t.Fatalf("reads on a read-only session: %v", err)
	}
	if err := db.PingWrite(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("PingWrite on a read-only session: %v, want ErrUnavailable", err)
	}
}
