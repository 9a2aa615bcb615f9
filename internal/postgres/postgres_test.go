package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/auth/storetest"
	"github.com/jwtgate/jwtgate/internal/migrations"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
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

// Keys written by a jwtgate that did not map names with PRECIS (or by
// migration 002's lower()) are brought up to date on open, so their users
// are found by every spelling; a look-alike of an existing name keeps its
// old key and cannot take over the name.
func TestOpenRekeysNames(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, url)
	for _, name := range []string{"admin", "ｔａｒｏ", "E\u0301mile", "ǅungla"} {
		if err := db.CreateUser(ctx, &auth.User{Name: name, Role: auth.RoleReader, PasswordHash: "x"}); err != nil {
			t.Fatal(name, err)
		}
	}
	db.Close()
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	// The keys of the earlier version: case folding only.
	for name, key := range map[string]string{"ｔａｒｏ": "ｔａｒｏ", "E\u0301mile": "e\u0301mile", "ǅungla": "ǆungla"} {
		if _, err := raw.Exec(ctx, `UPDATE users SET name_key = $1 WHERE name = $2`, key, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(ctx, `INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at)
		VALUES ('ＡＤＭＩＮ', 'ａｄｍｉｎ', 'admin', 'x', false, now(), now())`); err != nil {
		t.Fatal(err)
	}
	db = open(t, url)
	for spelling, want := range map[string]string{
		"ｔａｒｏ": "ｔａｒｏ", "taro": "ｔａｒｏ", "TARO": "ｔａｒｏ",
		"émile": "E\u0301mile", "E\u0301mile": "E\u0301mile",
		"admin": "admin", "ＡＤＭＩＮ": "admin", "ａｄｍｉｎ": "admin",
		"ǅungla": "ǅungla", "ǆungla": "ǅungla",
	} {
		if u, err := db.UserByName(ctx, spelling); err != nil || u.Name != want {
			t.Errorf("UserByName(%q) = %+v, %v; want %q", spelling, u, err, want)
		}
	}
	var key string
	if err := raw.QueryRow(ctx, `SELECT name_key FROM users WHERE name = 'ＡＤＭＩＮ'`).Scan(&key); err != nil || key != "ａｄｍｉｎ" {
		t.Errorf("the look-alike's key = %q, %v; want it kept", key, err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 5 {
		t.Errorf("CountUsers = %d, %v; want 5", n, err)
	}
}

// A code issued through one instance is redeemed exactly once when both
// instances race to redeem it.
func TestAuthCodeAcrossInstances(t *testing.T) {
	url := pgtest.URL(t)
	one, two := open(t, url), open(t, url)
	svcOne, svcTwo := storetest.OIDCService(t, one), storetest.OIDCService(t, two)
	c, code := storetest.IssueCode(t, svcOne)
	storetest.ExchangeOnce(t, svcOne, svcTwo, c, code)
}
