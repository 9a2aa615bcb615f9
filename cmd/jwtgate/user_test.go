package main

import (
	"strings"
	"testing"
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
