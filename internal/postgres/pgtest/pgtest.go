// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the server named by JWTGATE_TEST_POSTGRES_URL, dropped when the
// test ends.
//
// Without that variable the test is skipped, except under CI=true, where
// .ci/run starts PostgreSQL and exports the URL: there a missing URL is a
// broken CI set-up and fails the test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// EnvURL is the variable that names the test server.
const EnvURL = "JWTGATE_TEST_POSTGRES_URL"

// URL returns a connection URL whose search_path is a new, empty schema.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		testutil.Unavailable(t, EnvURL+" is not set", ".ci/run starts the server")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "jwtgate_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
