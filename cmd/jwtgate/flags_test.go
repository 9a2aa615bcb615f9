package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Each kind of flag takes its value from the command line, else from its
// variable, else from its default; a variable that does not parse is an
// error naming it, even when the flag is given; set tells a value the
// user chose from the default.
func TestCommandFlagOverEnvOverDefault(t *testing.T) {
	type values struct {
		s string
		i int
		d time.Duration
		b bool
	}
	def := values{"def", 7, time.Minute, false}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    values
		set     []string // flags set reports as given
		wantErr []string // variables the error names
	}{
		{name: "defaults", want: def},
		{name: "variables",
			env:  map[string]string{"T_S": "env", "T_I": "8", "T_D": "2m", "T_B": "yes"},
			want: values{"env", 8, 2 * time.Minute, true}, set: []string{"s", "i", "d", "b"}},
		{name: "flags",
			args: []string{"--s", "flag", "-i=9", "--d", "3m", "--b"},
			want: values{"flag", 9, 3 * time.Minute, true}, set: []string{"s", "i", "d", "b"}},
		{name: "flags win over variables",
			env:  map[string]string{"T_S": "env", "T_I": "8", "T_D": "2m", "T_B": "true"},
			args: []string{"--s", "flag", "-i=9", "--d", "3m", "--b=false"},
			want: values{"flag", 9, 3 * time.Minute, false}, set: []string{"s", "i", "d", "b"}},
		{name: "bool variable spellings", env: map[string]string{"T_B": "TRUE"}, want: values{"def", 7, time.Minute, true}, set: []string{"b"}},
		{name: "false variable", env: map[string]string{"T_B": "0"}, want: def, set: []string{"b"}},
		{name: "bad duration", env: map[string]string{"T_D": "soon"}, wantErr: []string{`$T_D: time: invalid duration "soon"`}},
		{name: "bad duration under a flag", env: map[string]string{"T_D": "soon"}, args: []string{"--d", "1m"}, wantErr: []string{"$T_D"}},
		{name: "bad int", env: map[string]string{"T_I": "many"}, wantErr: []string{"$T_I: not a number"}},
		{name: "bad bool", env: map[string]string{"T_B": "maybe"}, wantErr: []string{"$T_B: want true or false"}},
		{name: "every bad variable", env: map[string]string{"T_I": "x", "T_D": "y", "T_B": "z"}, wantErr: []string{"$T_I", "$T_D", "$T_B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCommand("t", "t", "", func(k string) string { return tc.env[k] })
			c.fs.SetOutput(io.Discard)
			var got values
			c.str(&got.s, "s", "T_S", def.s, "")
			c.int(&got.i, "i", "T_I", def.i, "")
			c.dur(&got.d, "d", "T_D", def.d, "")
			c.bool(&got.b, "b", "T_B", def.b, "")
			c.fs.Bool("plain", false, "a flag without a variable")
			_, err := c.parseArgs(tc.args)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; values %+v", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("values %+v, want %+v", got, tc.want)
			}
			for _, name := range []string{"s", "i", "d", "b", "plain"} {
				want := strings.Contains(strings.Join(tc.set, " "), name)
				if c.set(name) != want {
					t.Errorf("set(%q) = %v, want %v", name, !want, want)
				}
			}
		})
	}
}

// The help text names each flag's variable.
func TestCommandHelpNamesVariables(t *testing.T) {
	c := newCommand("t", "t [flags]", "About t.", func(string) string { return "" })
	var s string
	c.str(&s, "data", "T_DATA", "dir", "data folder `DIR`")
	var out strings.Builder
	c.fs.SetOutput(&out)
	if _, err := c.parseArgs([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, w := range []string{"Usage: t [flags]\n\nAbout t.\n", "-data DIR", "data folder DIR ($T_DATA)", `(default "dir")`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help lacks %q:\n%s", w, out.String())
		}
	}
}

// -h shows a flag's built-in default, not the variable's value: a
// database URL in $JWTGATE_DB carries a password.
func TestHelpHidesVariableValues(t *testing.T) {
	env := map[string]string{"JWTGATE_DB": "postgres://jwtgate:s3cret-pw@db.example/jwtgate"}
	for _, args := range [][]string{{"serve", "-h"}, {"migrate", "-h"}, {"user", "add", "-h"}, {"key", "rotate", "-h"}} {
		var stdout, stderr strings.Builder
		if code := run(args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] }); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		if out := stdout.String() + stderr.String(); strings.Contains(out, "s3cret-pw") || !strings.Contains(out, "$JWTGATE_DB") {
			t.Errorf("%v: help shows the variable's value or does not name it:\n%s", args, out)
		}
	}
}

// A bad flag or argument is a usage error: exit 2, nothing on stdout, the
// complaint on stderr; so is a variable that does not parse, in one line
// per variable naming it.
func TestEveryUsageErrorOnStderr(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--frobnicate"}, nil, "flag provided but not defined: -frobnicate"},
		{[]string{"serve", "stray"}, nil, `jwtgate serve: unexpected argument "stray"`},
		{[]string{"serve"}, map[string]string{"JWTGATE_LEEWAY": "soon"}, `jwtgate serve: $JWTGATE_LEEWAY: time: invalid duration "soon"`},
		{[]string{"serve", "--leeway", "1s"}, map[string]string{"JWTGATE_LEEWAY": "soon"}, "jwtgate serve: $JWTGATE_LEEWAY"},
		{[]string{"serve"}, map[string]string{"JWTGATE_DB_MAX_CONNS": "ten"}, "jwtgate serve: $JWTGATE_DB_MAX_CONNS: not a number"},
		{[]string{"serve"}, map[string]string{"JWTGATE_TRUST_PROXY": "maybe"}, "jwtgate serve: $JWTGATE_TRUST_PROXY: want true or false"},
		{[]string{"serve", "--access-ttl", "0s"}, nil, "jwtgate serve: --access-ttl must be positive"},
		{[]string{"serve", "--audit-retention", "-1h"}, nil, "jwtgate serve: --audit-retention must not be negative"},
		{[]string{"serve"}, map[string]string{"JWTGATE_AUDIT_RETENTION": "forever"}, "jwtgate serve: $JWTGATE_AUDIT_RETENTION"},
		{[]string{"migrate", "--frobnicate"}, nil, "flag provided but not defined: -frobnicate"},
		{[]string{"migrate", "stray"}, nil, `jwtgate migrate: unexpected argument "stray"`},
		{[]string{"user", "add", "--frobnicate"}, nil, "flag provided but not defined: -frobnicate"},
		{[]string{"user", "list", "stray"}, nil, "jwtgate user list: want 0 argument(s), got 1"},
		{[]string{"user", "role", "ann"}, nil, "jwtgate user role: want 2 argument(s), got 1"},
		{[]string{"user", "frob"}, nil, `jwtgate user: unknown command "frob"`},
		{[]string{"key", "rotate", "--frobnicate"}, nil, "flag provided but not defined: -frobnicate"},
		{[]string{"key", "rotate", "stray"}, nil, `jwtgate key rotate: usage: unexpected argument "stray"`},
		{[]string{"key", "list", "--frobnicate"}, nil, "flag provided but not defined: -frobnicate"},
		{[]string{"token", "sign", "stray"}, nil, `jwtgate token sign: usage: unexpected argument "stray"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// A bad log format stops a serve that got past its flags
			// before it listens, should it wrongly get there.
			env := map[string]string{"JWTGATE_DATA": t.TempDir() + "/absent", "JWTGATE_LOG_FORMAT": "unset-by-test"}
			for k, v := range tc.env {
				env[k] = v
			}
			r := jwtgate(t, env, "", tc.args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}

// user takes its flags anywhere among its arguments, and its data folder
// from --data, else $JWTGATE_DATA.
func TestUserInterspersedAndEnv(t *testing.T) {
	data := t.TempDir()
	absent := t.TempDir() + "/absent"
	mustOK(t, jwtgate(t, nil, "password-1\n", "user", "add", "--data", data, "ann"))
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"role", "--data", data, "ann", "editor"}, "ann is now editor"},
		{nil, []string{"role", "ann", "--data", data, "reader"}, "ann is now reader"},
		{nil, []string{"role", "ann", "editor", "--data=" + data}, "ann is now editor"},
		{map[string]string{"JWTGATE_DATA": data}, []string{"role", "ann", "reader"}, "ann is now reader"},
		{map[string]string{"JWTGATE_DATA": absent}, []string{"disable", "ann", "--data", data}, "disabled ann"},
		{nil, []string{"enable", "--data", data, "--", "ann"}, "enabled ann"},
	} {
		if got := mustOK(t, jwtgate(t, tc.env, "", append([]string{"user"}, tc.args...)...)); got != tc.want {
			t.Errorf("user %s (env %v): %q, want %q", strings.Join(tc.args, " "), tc.env, got, tc.want)
		}
	}
	mustFail(t, jwtgate(t, map[string]string{"JWTGATE_DATA": absent}, "", "user", "list"), 1, "no database at "+absent)
}

// The commands that revoke take the servers' token age from their
// variables when those are usable, never below the default, and ignore
// them when not, rather than refuse to revoke.
func TestTokenAgeFromEnv(t *testing.T) {
	for _, tc := range []struct {
		ttl, leeway string
		want        time.Duration
	}{
		{"", "", auth.DefaultTokenAge},
		{"1h", "", time.Hour + auth.DefaultLeeway},
		{"", "2m", auth.DefaultAccessTTL + 2*time.Minute},
		{"1h", "0s", time.Hour},
		{"1m", "0s", auth.DefaultTokenAge},
		{"soon", "later", auth.DefaultTokenAge},
		{"-1h", "-1m", auth.DefaultTokenAge},
		{"0s", "", auth.DefaultTokenAge},
	} {
		env := map[string]string{"JWTGATE_ACCESS_TTL": tc.ttl, "JWTGATE_LEEWAY": tc.leeway}
		if got := tokenAge(func(k string) string { return env[k] }); got != tc.want {
			t.Errorf("ttl %q leeway %q: %v, want %v", tc.ttl, tc.leeway, got, tc.want)
		}
	}
}

// A secret setting comes from its flag, else its variable, else the file
// its _FILE variable names (read once, one trailing newline dropped), else
// its default; a file others may read, a missing or empty file, and both
// variables at once are errors, even under the flag.
func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		return p
	}
	url := "postgres://u:pw@db/x"
	private := write("db", url+"\n", 0o600)
	crlf := write("db-crlf", url+"\r\n", 0o400)
	bare := write("db-bare", url, 0o600)
	group := write("db-group", url+"\n", 0o640)
	open := write("db-open", url+"\n", 0o644)
	empty := write("db-empty", "\n", 0o600)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		set     bool
		wantErr string
	}{
		{name: "default", want: ""},
		{name: "variable", env: map[string]string{"T_DB": url}, want: url, set: true},
		{name: "file, newline dropped", env: map[string]string{"T_DB_FILE": private}, want: url, set: true},
		{name: "file, CRLF dropped", env: map[string]string{"T_DB_FILE": crlf}, want: url, set: true},
		{name: "file without newline", env: map[string]string{"T_DB_FILE": bare}, want: url, set: true},
		{name: "file open to its group", env: map[string]string{"T_DB_FILE": group}, want: url, set: true},
		{name: "flag wins over the file", env: map[string]string{"T_DB_FILE": private}, args: []string{"--db", "postgres://flag"}, want: "postgres://flag", set: true},
		{name: "file readable by others", env: map[string]string{"T_DB_FILE": open}, wantErr: "$T_DB_FILE: " + open + " is readable by other users (mode 0644); fix with: chmod 600 " + open},
		{name: "file readable by others under the flag", env: map[string]string{"T_DB_FILE": open}, args: []string{"--db", "postgres://flag"}, wantErr: "chmod 600"},
		{name: "both variables", env: map[string]string{"T_DB": url, "T_DB_FILE": private}, wantErr: "$T_DB and $T_DB_FILE are both set"},
		{name: "missing file", env: map[string]string{"T_DB_FILE": filepath.Join(dir, "absent")}, wantErr: "$T_DB_FILE: open " + filepath.Join(dir, "absent")},
		{name: "empty file", env: map[string]string{"T_DB_FILE": empty}, wantErr: "$T_DB_FILE: " + empty + " is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCommand("t", "t", "", func(k string) string { return tc.env[k] })
			c.fs.SetOutput(io.Discard)
			var got string
			c.secret(&got, "db", "T_DB", "", "URL")
			_, err := c.parseArgs(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || c.set("db") != tc.set {
				t.Errorf("value %q, set %v; want %q, %v", got, c.set("db"), tc.want, tc.set)
			}
			if def := c.fs.Lookup("db").DefValue; def != "" {
				t.Errorf("-h shows default %q: the secret", def)
			}
		})
	}
}

// Every command that opens the database takes $JWTGATE_DB_FILE, and
// refuses one that others may read before touching any database.
func TestDBFileEveryCommand(t *testing.T) {
	p := filepath.Join(t.TempDir(), "db-url")
	if err := os.WriteFile(p, []byte("postgres://u:pw@127.0.0.1:1/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve"}, {"migrate"}, {"user", "list"}, {"client", "list"}, {"key", "list"}, {"key", "rotate"}, {"audit"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := jwtgate(t, map[string]string{"JWTGATE_DB_FILE": p}, "", args...)
			if r.code != 2 || !strings.Contains(r.stderr, "$JWTGATE_DB_FILE: "+p+" is readable by other users") {
				t.Fatalf("exit %d, stderr %q; want 2 and the file refused", r.code, r.stderr)
			}
		})
	}
}
