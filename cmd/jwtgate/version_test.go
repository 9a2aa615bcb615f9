package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	want := "jwtgate "
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		r := jwtgate(t, nil, "", args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "\ngo:       "+runtime.Version()+" ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	mustFail(t, jwtgate(t, nil, "", "version", "extra"), 2, `unexpected argument "extra"`)
}

// A binary built with -ldflags -X shows that version, and the commit it
// was built from, which go build records with no flags.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: skipped by -short")
	}
	bin := filepath.Join(t.TempDir(), "jwtgate")
	const v = "v1.2.3-test"
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/jwtgate/jwtgate/internal/buildinfo.version="+v, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if !strings.HasPrefix(string(out), "jwtgate "+v+"\n") {
			t.Errorf("%s printed %q, want the version %s first", arg, out, v)
		}
		// The commit go build recorded, if it recorded one (a checkout,
		// and -buildvcs not false in GOFLAGS).
		meta, err := exec.Command("go", "version", "-m", bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*build\s+vcs\.revision=(\S+)$`).FindSubmatch(meta)
		if m == nil {
			t.Log("go build recorded no commit (not a checkout, or -buildvcs=false in go env GOFLAGS): the revision line is not checked")
			continue
		}
		head := m[1]
		re := regexp.MustCompile(`(?m)^revision: ` + string(head) + `( \(modified\))?$`)
		if !re.Match(out) {
			t.Errorf("%s printed %q, want the revision %s", arg, out, head)
		}
	}
}

// The start-up line says which build is running.
func TestServeLogsVersion(t *testing.T) {
	_, _, logs := startServer(t)
	re := regexp.MustCompile(`msg="jwtgate listening" version=\S+ revision=\S*`)
	if !re.MatchString(logs.String()) {
		t.Fatalf("no version in the start-up line:\n%s", logs)
	}
}
