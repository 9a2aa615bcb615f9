package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/migrations"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
)

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := pgtest.URL(t)
	open(t, url).Close()
	ms, err := migrations.List("postgres")
	if err != nil {
		t.Fatal(err)
	}
	known := ms[len(ms)-1].Num
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`,
		fmt.Sprintf("%03d_from_the_future", known+1)); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url, 1)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database migrated by a newer jwtgate")
	}
	want := fmt.Sprintf("database schema %d is newer than this jwtgate (%d); upgrade jwtgate", known+1, known)
	if !errors.Is(err, migrations.ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open: %v, want %q", err, want)
	}
}
