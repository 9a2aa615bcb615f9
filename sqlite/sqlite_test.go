package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/auth/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) auth.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &auth.User{Name: "kept", Role: auth.RoleAdmin, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.UserByName(ctx, "kept"); err != nil {
		t.Fatalf("data lost on reopen: %v", err)
	}
	var n int
	db.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if want := 1; n != want {
		t.Fatalf("%d migrations recorded, want %d", n, want)
	}
	var mode string
	db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}
