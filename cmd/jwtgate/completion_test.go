package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	r := jwtgate(t, nil, "", "completion", shell)
	if r.code != 0 || r.stderr != "" || r.stdout == "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, r.code, r.stderr)
	}
	p := filepath.Join(t.TempDir(), "jwtgate."+shell)
	if err := os.WriteFile(p, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each script is valid in its shell; a shell that is missing is skipped.
func TestCompletionSyntax(t *testing.T) {
	for _, tc := range []struct {
		shell string
		check []string
	}{
		{"bash", []string{"bash", "-n"}},
		{"zsh", []string{"zsh", "-n"}},
		{"fish", []string{"fish", "--no-execute"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			if _, err := exec.LookPath(tc.shell); err != nil {
				t.Skipf("%s is not installed: %v", tc.shell, err)
			}
			p := completionScript(t, tc.shell)
			if out, err := exec.Command(tc.check[0], append(tc.check[1:], p)...).CombinedOutput(); err != nil {
				t.Fatalf("%v %s: %v\n%s", tc.check, p, err, out)
			}
		})
	}
}

// The cases every shell's completion is checked on: the words typed, the
// cursor at the end of the last one, and the candidates.
var completionCases = []struct {
	line string
	want []string
}{
	{"jwtgate us", []string{"user"}},
	{"jwtgate ", []string{"serve", "user", "client", "audit", "migrate", "token", "key", "version", "healthcheck", "completion", "help"}},
	{"jwtgate user a", []string{"add"}},
	{"jwtgate --data x user a", []string{"add"}},
	{"jwtgate serve --ac", []string{"--access-ttl"}},
	{"jwtgate serve --db-", []string{"--db-max-conns"}},
	{"jwtgate client secret ", []string{"rotate"}},
	{"jwtgate client secret rotate --d", []string{"--data", "--db"}},
	{"jwtgate token sign --no-", []string{"--no-exp", "--no-iat"}},
	{"jwtgate user add bob --ro", []string{"--role"}},
	{"jwtgate healthcheck --", []string{"--help", "--timeout", "--url"}},
	{"jwtgate completion f", []string{"fish"}},
	{"jwtgate --ver", []string{"--version"}},
}

// Bash completion completes: the function the script registers, called
// as bash calls it, fills COMPREPLY with the candidates.
func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skipf("bash is not installed: %v", err)
	}
	p := completionScript(t, "bash")
	for _, tc := range completionCases {
		t.Run(tc.line, func(t *testing.T) {
			words := strings.Fields(tc.line)
			if strings.HasSuffix(tc.line, " ") {
				words = append(words, "")
			}
			var quoted []string
			for _, w := range words {
				quoted = append(quoted, shellQuote(w))
			}
			script := `source "$1"
COMP_WORDS=(` + strings.Join(quoted, " ") + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=` + shellQuote(tc.line) + `
COMP_POINT=${#COMP_LINE}
_jwtgate jwtgate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"`
			out, err := exec.Command("bash", "--norc", "--noprofile", "-c", script, "bash", p).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			checkCandidates(t, out, tc.want)
		})
	}
}

// Fish completion completes, asked as fish asks it (complete -C).
func TestCompletionFish(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skipf("fish is not installed: %v", err)
	}
	p := completionScript(t, "fish")
	for _, tc := range completionCases {
		t.Run(tc.line, func(t *testing.T) {
			out, err := exec.Command("fish", "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, p, tc.line).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			// Each candidate is a line, with a description after a tab.
			var names bytes.Buffer
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				name, _, _ := strings.Cut(l, "\t")
				names.WriteString(name + "\n")
			}
			checkCandidates(t, names.Bytes(), tc.want)
		})
	}
}

func checkCandidates(t *testing.T, out []byte, want []string) {
	t.Helper()
	got := strings.Fields(string(out))
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("candidates %q, want %q", got, want)
	}
}
