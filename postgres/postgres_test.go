package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/auth/storetest"
	"github.com/jwtgate/jwtgate/migrations"
	"github.com/jwtgate/jwtgate/postgres"
	"github.com/jwtgate/jwtgate/postgres/pgtest"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) auth.Store { return open(t, pgtest.URL(t)) })
}

func versions(t *testing.T) []string {
	ms, err := migrations.List("postgres")
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs
}

// Instances starting together on an empty database apply each migration
// once: the advisory lock makes the others wait and find them done.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), url, 2)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	applied, err := open(t, url).AppliedMigrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := versions(t); !slices.Equal(applied, want) {
		t.Fatalf("applied %v, want %v once each", applied, want)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Nothing listens on port 1.
	_, unreachable := postgres.Open(ctx, "postgres://u:secret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", 1)
	if !errors.Is(unreachable, auth.ErrUnavailable) {
		t.Fatalf("unreachable server: %v, want ErrUnavailable", unreachable)
	}
	_, malformed := postgres.Open(ctx, "postgres://u:secret-pw@127.0.0.1:99999999/db", 1)
	if !errors.Is(malformed, auth.ErrInvalid) {
		t.Fatalf("malformed URL: %v, want ErrInvalid", malformed)
	}
	for _, e := range []error{unreachable, malformed} {
		if strings.Contains(e.Error(), "secret-pw") {
			t.Fatalf("error shows the password: %v", e)
		}
	}
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://h/db": true, "postgresql://u@h/db": true,
		"./jwtgate-data": false, "/var/lib/x.db": false, "": false,
	} {
		if postgres.IsURL(s) != want {
			t.Errorf("IsURL(%q) = %v", s, !want)
		}
	}
}
