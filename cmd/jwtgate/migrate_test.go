package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/migrations"
)

// `jwtgate migrate` brings an empty database to the current schema, is
// idempotent, and never prints the URL's password.
func TestMigrateCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	for _, be := range []backend{sqliteBackend, postgresBackend} {
		t.Run(be.name, func(t *testing.T) {
			args := be.args(t)
			ms, err := migrations.List(be.name)
			if err != nil {
				t.Fatal(err)
			}
			last := ms[len(ms)-1].Version
			var password string // of the --db URL, if any
			for i, a := range args {
				if a == "--db" && i+1 < len(args) {
					u, err := url.Parse(args[i+1])
					if err != nil {
						t.Fatal(err)
					}
					password, _ = u.User.Password()
				}
			}
			for range 2 {
				out, err := runBinary(t, "", append([]string{"migrate"}, args...)...)
				if err != nil {
					t.Fatalf("migrate: %v %s", err, out)
				}
				if !strings.Contains(out, "at schema "+last) || !strings.Contains(out, "migrations applied") {
					t.Fatalf("migrate said %q, want schema %s", out, last)
				}
				if password != "" && strings.Contains(out, password) {
					t.Fatalf("migrate printed the database password: %q", out)
				}
			}
			// The migrated database serves.
			if out, err := runBinary(t, "migrated-password\n", append([]string{"user", "add", "mo"}, args...)...); err != nil {
				t.Fatalf("user add after migrate: %v %s", err, out)
			}
		})
	}
	out, err := runBinary(t, "", "migrate", "--db", "mysql://x")
	if err == nil || !strings.Contains(out, "postgres://") {
		t.Fatalf("migrate --db mysql://x: %v %q", err, out)
	}
	out, err = runBinary(t, "", "migrate", "--db", "postgres://u:hunter2-secret@127.0.0.1:1/db?connect_timeout=2")
	if err == nil || strings.Contains(out, "hunter2-secret") {
		t.Fatalf("migrate against nothing: %v %q (must fail without showing the password)", err, out)
	}
}
