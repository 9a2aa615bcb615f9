package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// TestSystemdUnit checks jwtgate.service with systemd-analyze: verify
// finds no error or ignored line, and the offline security review rates
// its exposure at most 2.0 ("OK"). A unit that fails either is shown to
// be caught.
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		testutil.Unavailable(t, "systemd-analyze not installed: "+err.Error(), "apt-get install -y systemd in .ci/run")
	}
	unit, err := os.ReadFile("jwtgate.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify wants ExecStart's program to exist; a stand-in takes the
	// place of the installed binary.
	standIn := filepath.Join(t.TempDir(), "jwtgate")
	if err := os.WriteFile(standIn, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	installed := strings.ReplaceAll(string(unit), "/usr/local/bin/jwtgate", standIn)

	for _, tc := range []struct {
		name     string
		unit     string
		verifyOK bool
		secureOK bool
	}{
		{"as shipped", installed, true, true},
		{"misspelt setting", strings.Replace(installed, "ProtectSystem=strict", "ProtectSytem=strict", 1), false, true},
		{"no hardening", withoutHardening(installed), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The file's name is the unit's name.
			path := filepath.Join(t.TempDir(), "jwtgate.service")
			if err := os.WriteFile(path, []byte(tc.unit), 0o644); err != nil {
				t.Fatal(err)
			}
			// verify reports ignored settings but exits 0 for them: any
			// output is a failure.
			out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
			if ok := err == nil && len(out) == 0; ok != tc.verifyOK {
				t.Errorf("systemd-analyze verify: passed %v, want %v: %v\n%s", ok, tc.verifyOK, err, out)
			}
			out, err = exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold=20", path).CombinedOutput()
			if ok := err == nil; ok != tc.secureOK {
				t.Errorf("systemd-analyze security: passed %v, want %v: %v\n%s", ok, tc.secureOK, err, lastLine(out))
			}
		})
	}
}

// withoutHardening keeps only the [Service] settings that start and run
// the server.
func withoutHardening(unit string) string {
	var b strings.Builder
	section := ""
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "[") {
			section = line
		}
		key, _, _ := strings.Cut(line, "=")
		if section == "[Service]" && strings.Contains(line, "=") &&
			!strings.HasPrefix(key, "Exec") && key != "Type" && key != "EnvironmentFile" && key != "Restart" {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// TestSystemdUnitSettings checks the settings the unit must keep, which
// the exposure rating alone would not miss: a private state directory and
// the server's data folder in it.
func TestSystemdUnitSettings(t *testing.T) {
	unit, err := os.ReadFile("jwtgate.service")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(string(unit)))
	for sc.Scan() {
		if key, value, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(key, "#") {
			settings[key] = append(settings[key], value)
		}
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/jwtgate serve --data ${STATE_DIRECTORY}",
		"EnvironmentFile=-/etc/jwtgate.env",
		"DynamicUser=yes",
		"StateDirectory=jwtgate",
		"StateDirectoryMode=0700",
		"UMask=0077",
		"NoNewPrivileges=yes",
		"CapabilityBoundingSet=",
		"ProtectSystem=strict",
		"ProtectHome=yes",
		"PrivateTmp=yes",
		"SystemCallFilter=@system-service",
		"MemoryDenyWriteExecute=yes",
		"LockPersonality=yes",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
	} {
		key, value, _ := strings.Cut(want, "=")
		if !slices.Contains(settings[key], value) {
			t.Errorf("no %s (%s=%q)", want, key, settings[key])
		}
	}
}

// TestEnvFile checks that every variable the example environment file
// names, set or commented out, is one that jwtgate reads.
func TestEnvFile(t *testing.T) {
	env, err := os.ReadFile("jwtgate.env")
	if err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob("../cmd/jwtgate/*.go")
	if err != nil || len(sources) == 0 {
		t.Fatalf("jwtgate's sources: %v", err)
	}
	var code strings.Builder
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	names := regexp.MustCompile(`(?m)^#?(JWTGATE_[A-Z0-9_]+)=`).FindAllStringSubmatch(string(env), -1)
	if len(names) == 0 {
		t.Fatal("no variables in jwtgate.env")
	}
	for _, m := range names {
		if !strings.Contains(code.String(), `"`+m[1]+`"`) {
			t.Errorf("jwtgate.env names %s, which jwtgate does not read", m[1])
		}
	}
}
