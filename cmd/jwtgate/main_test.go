package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

const teachingToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc"

type result struct {
	code           int
	stdout, stderr string
}

// jwtgate runs the command in-process with the given environment and stdin.
func jwtgate(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

// mustOK fails unless the command exited 0, and returns its stdout trimmed.
func mustOK(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// mustFail fails unless the command exited with code and wrote exactly one
// line containing msg to stderr and nothing to stdout.
func mustFail(t *testing.T, r result, code int, msg string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d; stderr: %q", r.code, code, r.stderr)
	}
	if !strings.Contains(r.stderr, msg) {
		t.Fatalf("stderr %q does not say %q", r.stderr, msg)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("want exactly one line on stderr, got %q", r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("stdout %q, want nothing", r.stdout)
	}
}

// strong holds a 32-byte secret (S) and the teaching example's (WEAK).
var strong = map[string]string{"S": strings.Repeat("s", 32), "WEAK": "my_super_secret_key"}

// members walks a JSON object with a json.Decoder and returns its member
// names in order, duplicates included, and the last value of each.
func members(t *testing.T, obj []byte) ([]string, map[string]json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not a JSON object (%v)", obj, err)
	}
	var names []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		names = append(names, tok.(string))
		vals[tok.(string)] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		t.Fatalf("%s: unterminated object", obj)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: data after the object", obj)
	}
	return names, vals
}

func TestUsageAndDispatch(t *testing.T) {
	usage := usage()
	r := jwtgate(t, nil, "")
	if r.code != 2 || r.stdout != "" || r.stderr != usage {
		t.Fatalf("no args: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, cmd := range []string{"serve", "user", "token decode", "token sign", "token verify", "key generate", "key jwks", "version", "healthcheck", "completion"} {
		if !strings.Contains(usage, "jwtgate "+cmd+" ") {
			t.Errorf("usage does not list %q", cmd)
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		if r := jwtgate(t, nil, "", args...); r.code != 0 || r.stdout != usage || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"token"}, "jwtgate token sign"},
		{[]string{"token", "frob"}, `jwtgate token: unknown command "frob"`},
		{[]string{"key"}, "jwtgate key generate"},
		{[]string{"key", "frob"}, `jwtgate key: unknown command "frob"`},
	} {
		if r := jwtgate(t, nil, "", tc.args...); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, r.code, r.stdout, r.stderr, tc.msg)
		}
	}
	if r := jwtgate(t, nil, "", "token", "help"); r.code != 0 || r.stdout != tokenUsage {
		t.Errorf("token help: exit %d, %q", r.code, r.stdout)
	}
	if r := jwtgate(t, nil, "", "key", "-h"); r.code != 0 || r.stdout != keyUsage {
		t.Errorf("key -h: exit %d, %q", r.code, r.stdout)
	}
}

// Every leaf command answers -h and --help with its synopsis and its flags
// with their defaults, on stdout, exit 0.
func TestCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd   []string
		wants []string
	}{
		{[]string{"token", "decode"}, []string{"Usage: jwtgate token decode [--json] [TOKEN|-]", "-json", "WITHOUT checking its signature"}},
		{[]string{"token", "sign"}, []string{"Usage: jwtgate token sign --alg ALG KEY", "-exp duration", "(default 15m0s)", "-claim k=v", "-claims object", "-no-exp", "-no-iat", "-kid ID", "-secret-env NAME", "-secret-file FILE", "-key-file FILE", "-allow-weak-secret"}},
		{[]string{"token", "verify"}, []string{"Usage: jwtgate token verify KEY", "-require-exp", "(default true)", "-jwks-file FILE", "-now TIME", "-leeway duration", "-iss", "-aud", "Exit status: 0 valid"}},
		{[]string{"key", "generate"}, []string{"Usage: jwtgate key generate --alg ALG", "-out FILE", "-format pem", "-force", "-kid ID", "0600"}},
		{[]string{"key", "jwks"}, []string{"Usage: jwtgate key jwks", "-alg ALG"}},
	} {
		for _, h := range []string{"-h", "--help"} {
			r := jwtgate(t, nil, "", append(tc.cmd, h)...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%v %s: exit %d, stderr %q", tc.cmd, h, r.code, r.stderr)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%v %s: help lacks %q:\n%s", tc.cmd, h, w, r.stdout)
				}
			}
			if h2 := jwtgate(t, nil, "", append([]string{"help"}, tc.cmd...)...); h2 != r {
				t.Errorf("help %v differs from %v -h", tc.cmd, tc.cmd)
			}
		}
		// A bad flag is a usage error: exit 2, the complaint on stderr.
		r := jwtgate(t, nil, "", append(tc.cmd, "--frobnicate")...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "flag provided but not defined: -frobnicate") {
			t.Errorf("%v --frobnicate: exit %d, stdout %q, stderr %q", tc.cmd, r.code, r.stdout, r.stderr)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		pos       []string
		s, claims string
		b         bool
		err       bool
	}{
		{args: nil, pos: nil},
		{args: []string{"a", "-s", "x", "b", "--b", "c"}, pos: []string{"a", "b", "c"}, s: "x", b: true},
		{args: []string{"--s=y", "-", "-b=false"}, pos: []string{"-"}, s: "y"},
		{args: []string{"-s", "-dash-value", "tok"}, pos: []string{"tok"}, s: "-dash-value"},
		{args: []string{"-b", "tok", "-s", "v"}, pos: []string{"tok"}, s: "v", b: true},
		{args: []string{"a", "--", "-s", "z", "--b"}, pos: []string{"a", "-s", "z", "--b"}},
		{args: []string{"--s", "--", "p"}, pos: []string{"p"}, s: "--"},
		{args: []string{"--claims", `{"a":1}`, "x"}, pos: []string{"x"}, claims: `{"a":1}`},
		{args: []string{"-s"}, err: true},
		{args: []string{"x", "--nope"}, err: true},
		{args: []string{"---s", "v"}, err: true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		s := fs.String("s", "", "")
		claims := fs.String("claims", "", "")
		b := fs.Bool("b", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.args, err)
			continue
		}
		if tc.err {
			continue
		}
		if !reflect.DeepEqual(pos, tc.pos) || *s != tc.s || *b != tc.b || *claims != tc.claims {
			t.Errorf("%q: pos %q s %q b %v claims %q; want %q %q %v %q", tc.args, pos, *s, *b, *claims, tc.pos, tc.s, tc.b, tc.claims)
		}
	}
}

func TestTrimNewline(t *testing.T) {
	for in, want := range map[string]string{
		"s": "s", "s\n": "s", "s\r\n": "s", "s\n\n": "s\n", "s\r\n\r\n": "s\r\n", "s\r": "s\r", "\n": "", "": "", " s \n": " s ",
	} {
		if got := string(trimNewline([]byte(in))); got != want {
			t.Errorf("trimNewline(%q) = %q, want %q", in, got, want)
		}
	}
}
