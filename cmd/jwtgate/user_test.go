package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

func TestUserAdd(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ann"}, "created user ann (id 1, role reader: the default without --role)"},
		{[]string{"bea", "--role", "reader"}, "created user bea (id 2, role reader)"},
		{[]string{"--role", "admin", "cy"}, "created user cy (id 3, role admin)"},
	} {
		args := append([]string{"user", "add", "--data", data}, tc.args...)
		if got := mustOK(t, jwtgate(t, nil, "password-1\n", args...)); got != tc.want {
			t.Errorf("user add %s: %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	// A name taken in any case: one plain line, no database error text.
	for _, name := range []string{"ann", "ANN"} {
		r := jwtgate(t, nil, "password-1\n", "user", "add", name, "--data", data)
		mustFail(t, r, 1, `jwtgate user add: user "`+name+`" already exists`)
		if strings.Contains(r.stderr, "constraint") || strings.Contains(r.stderr, "sqlite") {
			t.Errorf("duplicate user add: %q shows the database's error", r.stderr)
		}
	}
}

// The command line cannot remove the last enabled admin either.
func TestUserCommandsKeepAnAdmin(t *testing.T) {
	data := t.TempDir()
	mustOK(t, jwtgate(t, nil, "password-1\n", "user", "add", "root", "--role", "admin", "--data", data))
	for _, args := range [][]string{{"role", "ROOT", "editor"}, {"disable", "Root"}, {"delete", "rOOt"}} {
		r := jwtgate(t, nil, "", append(append([]string{"user"}, args...), "--data", data)...)
		mustFail(t, r, 1, "the last enabled admin cannot be demoted, disabled or deleted")
	}
	mustOK(t, jwtgate(t, nil, "password-2\n", "user", "add", "second", "--role", "admin", "--data", data))
	mustOK(t, jwtgate(t, nil, "", "user", "delete", "root", "--data", data))
}

func TestSetupHint(t *testing.T) {
	for _, tc := range []struct {
		s    storage
		want string
	}{
		{storage{data: "./jwtgate-data"}, "jwtgate user add admin --role admin --data ./jwtgate-data"},
		{storage{data: "/srv/my data"}, "jwtgate user add admin --role admin --data '/srv/my data'"},
		{storage{data: "it's"}, `jwtgate user add admin --role admin --data 'it'\''s'`},
		{storage{data: "$HOME/x"}, "jwtgate user add admin --role admin --data '$HOME/x'"},
		// The URL, which may hold a password, is never shown.
		{storage{data: defaultData, db: "postgres://jwtgate:s3cret@db/jwtgate"}, `jwtgate user add admin --role admin --db "$JWTGATE_DB"`},
	} {
		if got := tc.s.setupHint(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.s, got, tc.want)
		}
	}
}

// user mfa-reset removes a user's second factors and no one else's.
func TestUserMFAReset(t *testing.T) {
	data := t.TempDir()
	mustOK(t, jwtgate(t, nil, "password-1\n", "user", "add", "ann", "--data", data))
	mustOK(t, jwtgate(t, nil, "password-2\n", "user", "add", "bob", "--data", data))
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ann", "bob"} {
		u, err := db.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutTOTP(ctx, &auth.TOTPSecret{UserID: u.ID, SecretEnc: []byte("sealed"), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetRecoveryCodes(ctx, u.ID, [][]byte{[]byte("h")}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if got := mustOK(t, jwtgate(t, nil, "", "user", "mfa-reset", "ANN", "--data", data)); got != "second factors of ann removed; their sessions ended" {
		t.Errorf("mfa-reset: %q", got)
	}
	mustFail(t, jwtgate(t, nil, "", "user", "mfa-reset", "nobody", "--data", data), 1, "not found")
	db, err = sqlite.Open(ctx, filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ann, _ := db.UserByName(ctx, "ann")
	bob, _ := db.UserByName(ctx, "bob")
	if _, err := db.TOTP(ctx, ann.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ann's TOTP after mfa-reset: %v", err)
	}
	if _, err := db.TOTP(ctx, bob.ID); err != nil {
		t.Errorf("bob's TOTP after ann's reset: %v", err)
	}
	es, err := db.AuditEvents(ctx, auth.AuditFilter{User: "ann", Limit: 10})
	if err != nil || len(es) == 0 || es[0].Kind != auth.AuditMFAReset || !strings.HasPrefix(es[0].Actor, "cli@") {
		t.Errorf("audit after mfa-reset: %+v, %v", es, err)
	}
}

func TestRequireMFAFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want []auth.Role
		err  string
	}{
		{nil, "", nil, ""},
		{[]string{"--require-mfa", "admin"}, "", []auth.Role{auth.RoleAdmin}, ""},
		{[]string{"--require-mfa", "admin, editor"}, "", []auth.Role{auth.RoleAdmin, auth.RoleEditor}, ""},
		{nil, "editor", []auth.Role{auth.RoleEditor}, ""},
		{[]string{"--require-mfa", "root"}, "", nil, "--require-mfa: invalid input: role must be admin, editor or reader"},
	} {
		env := func(k string) string {
			if k == "JWTGATE_REQUIRE_MFA" {
				return tc.env
			}
			return ""
		}
		c, err := parseServeFlags(tc.args, env, io.Discard)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(c.RequireMFA, tc.want) {
			t.Errorf("%q $%q: %v, %v; want %v", tc.args, tc.env, c, err, tc.want)
		}
	}
}
