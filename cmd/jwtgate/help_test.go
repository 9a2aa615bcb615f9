package main

import (
	"strings"
	"testing"
)

// Every command and command group answers -h, -help and --help with its
// usage on stdout and nothing on stderr, exit 0, and touches no database
// (none exists here); "jwtgate help CMD..." says the same.
func TestEveryHelpOnStdout(t *testing.T) {
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{nil, "Usage:\n  jwtgate serve"},
		{[]string{"serve"}, "Usage: jwtgate serve [flags]"},
		{[]string{"migrate"}, "Usage: jwtgate migrate"},
		{[]string{"user"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "add"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "list"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "passwd"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "disable"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "enable"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "role"}, "Usage: jwtgate user COMMAND"},
		{[]string{"user", "delete"}, "Usage: jwtgate user COMMAND"},
		{[]string{"token"}, "jwtgate token sign"},
		{[]string{"token", "decode"}, "Usage: jwtgate token decode"},
		{[]string{"token", "sign"}, "Usage: jwtgate token sign"},
		{[]string{"token", "verify"}, "Usage: jwtgate token verify"},
		{[]string{"key"}, "jwtgate key generate"},
		{[]string{"key", "generate"}, "Usage: jwtgate key generate"},
		{[]string{"key", "jwks"}, "Usage: jwtgate key jwks"},
		{[]string{"key", "rotate"}, "Usage: jwtgate key rotate"},
		{[]string{"key", "list"}, "Usage: jwtgate key list"},
	} {
		for _, h := range []string{"-h", "-help", "--help"} {
			args := append(append([]string(nil), tc.cmd...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				env := map[string]string{"JWTGATE_DATA": t.TempDir() + "/absent"}
				r := jwtgate(t, env, "", args...)
				if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, tc.want) {
					t.Fatalf("exit %d, stderr %q, stdout %q; want 0, nothing, and %q", r.code, r.stderr, r.stdout, tc.want)
				}
				if len(tc.cmd) > 0 {
					if h := jwtgate(t, env, "", append([]string{"help"}, tc.cmd...)...); h != r {
						t.Errorf("help %v = %+v, differs from -h", tc.cmd, h)
					}
				}
			})
		}
	}
}

// Every command of the table answers -h on stdout, and is listed in the
// usage text; the completion scripts list them all.
func TestTableHelp(t *testing.T) {
	u := usage()
	bash := jwtgate(t, nil, "", "completion", "bash").stdout
	var walk func(cmds []*cmd, path []string)
	walk = func(cmds []*cmd, path []string) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.name)
			name := strings.Join(p, " ")
			if len(p) == 1 && !strings.Contains(u, "\n  jwtgate "+c.name+" ") {
				t.Errorf("usage does not list %q", name)
			}
			if !strings.Contains(bash, "'jwtgate "+name+"'") && len(c.subs) > 0 {
				t.Errorf("the bash script has no subcommands for %q", name)
			}
			r := jwtgate(t, map[string]string{"JWTGATE_DATA": t.TempDir() + "/absent"}, "", append(p, "-h")...)
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage") {
				t.Errorf("%s -h: exit %d, stderr %q, stdout %q", name, r.code, r.stderr, r.stdout)
			}
			walk(c.subs, p)
		}
	}
	walk(commands(), nil)
}
