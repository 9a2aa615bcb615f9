//go:build !windows

package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// tryServe runs serve on data with args until it is listening, and
// returns its log and the error it stopped with before listening (nil if
// it started).
func tryServe(t *testing.T, data string, args ...string) (string, error) {
	t.Helper()
	args = append([]string{"--addr", "127.0.0.1:0", "--data", data, "--hash-concurrency", "1"}, args...)
	c, err := parseServeFlags(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.LockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, c, func(string) string { return "" }, log, ready) }()
	select {
	case <-ready:
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		return logs.String(), nil
	case err := <-done:
		return logs.String(), err
	}
}

func chmod(t *testing.T, p string, m fs.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

// With the usual umask 0022 and a data folder everyone may enter, every
// file jwtgate writes there is 0600: the database, its WAL and
// shared-memory files (which exist while a server runs and hold its latest
// writes) and the generated key.
func TestDataFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022) // the process's: this test is not parallel
	t.Cleanup(func() { syscall.Umask(old) })
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	addUser(t, data, "ann", "admin", "correct horse battery")
	base, _ := startServerAt(t, data, nil)
	login(t, base, "ann", "correct horse battery")
	mustOK(t, jwtgate(t, nil, "", "key", "rotate", "--data", data, "--grace", "1m"))

	seen := map[string]bool{}
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Name()] = true
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", e.Name(), m)
		}
	}
	for _, name := range []string{"jwtgate.db", "jwtgate.db-wal", "jwtgate.db-shm", "hs256.jwk", "mfa.key"} {
		if !seen[name] {
			t.Errorf("no %s in the data folder (has %v)", name, seen)
		}
	}
}

// Files holding secrets that others may read or write stop the server and
// the commands with one line naming the file and the fix; files only the
// group may read start with a warning.
func TestExposedSecretFiles(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "ed.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", key))
	pub := writePublicPEM(t, key, "EdDSA") // 0644: public keys may be read by all
	old := filepath.Join(dir, "old.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", old))
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte(strings.Repeat("s", 32)), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		file   string // made mode
		mode   fs.FileMode
		args   []string
		refuse string // in the error; "" to start
		warn   string // in the log when it starts
	}{
		{name: "database readable by all", file: "jwtgate.db", mode: 0o644,
			refuse: "jwtgate.db is readable by other users (mode 0644); fix with: chmod 600 "},
		{name: "generated key readable by all", file: "hs256.jwk", mode: 0o644,
			refuse: "hs256.jwk is readable by other users (mode 0644); fix with: chmod 600 "},
		{name: "generated MFA key readable by all", file: "mfa.key", mode: 0o644,
			refuse: "mfa.key is readable by other users (mode 0644); fix with: chmod 600 "},
		{name: "database group-readable", file: "jwtgate.db", mode: 0o640,
			warn: "jwtgate.db is readable by its group (mode 0640)"},
		{name: "key file readable by all", file: key, mode: 0o644, args: []string{"--key-file", key},
			refuse: "--key-file: " + key + " is readable by other users (mode 0644); fix with: chmod 600 " + key},
		{name: "key file writable by all", file: key, mode: 0o602, args: []string{"--key-file", key},
			refuse: "is writable by other users (mode 0602)"},
		{name: "key file group-readable", file: key, mode: 0o640, args: []string{"--key-file", key},
			warn: key + " is readable by its group (mode 0640)"},
		{name: "secret file readable by all", file: secret, mode: 0o604, args: []string{"--secret-file", secret},
			refuse: "--secret-file: " + secret + " is readable by other users (mode 0604)"},
		{name: "old private key readable by all", file: old, mode: 0o644, args: []string{"--key-file", key, "--verify-key-file", old},
			refuse: "--verify-key-file: " + old + " is readable by other users"},
		{name: "old public key readable by all", file: pub, mode: 0o644, args: []string{"--key-file", key, "--verify-key-file", pub}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			addUser(t, data, "ann", "admin", "correct horse battery")
			if _, err := tryServe(t, data); err != nil { // generates hs256.jwk
				t.Fatal(err)
			}
			for _, f := range []string{key, secret, old} {
				chmod(t, f, 0o600)
			}
			file := tc.file
			if !filepath.IsAbs(file) {
				file = filepath.Join(data, file)
			}
			chmod(t, file, tc.mode)
			logs, err := tryServe(t, data, tc.args...)
			if tc.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refuse) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("serve: %v; want one line containing %q", err, tc.refuse)
				}
				if tc.args == nil && tc.file != "mfa.key" { // the data folder: the commands refuse too
					mustFail(t, jwtgate(t, nil, "", "user", "list", "--data", data), 1, tc.refuse)
					mustFail(t, jwtgate(t, nil, "", "key", "list", "--data", data), 1, tc.refuse)
				}
				return
			}
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
			if tc.warn == "" && strings.Contains(logs, "by its group") {
				t.Errorf("log %s\nwarns of no group access", logs)
			}
			if tc.warn != "" && !hasLine(logs, "level=WARN", tc.warn) {
				t.Errorf("log %s\nwant a warning containing %q", logs, tc.warn)
			}
			if tc.args == nil {
				r := jwtgate(t, nil, "", "user", "list", "--data", data)
				if r.code != 0 || !strings.Contains(r.stderr, "jwtgate user list: warning: ") || !strings.Contains(r.stderr, tc.warn) {
					t.Errorf("user list: exit %d, stderr %q; want a warning containing %q", r.code, r.stderr, tc.warn)
				}
			}
		})
	}
}

// A key file that becomes readable by others is refused on reload (SIGHUP
// or periodic), and the server keeps the keys it has.
func TestKeyReloadRefusesExposedKeyFile(t *testing.T) {
	key := filepath.Join(t.TempDir(), "ed.pem")
	mustOK(t, jwtgate(t, nil, "", "key", "generate", "--alg", "EdDSA", "--out", key))
	c := &serveConfig{Data: t.TempDir(), KeyFile: key, Alg: "EdDSA"}
	st := c.storage()
	db, err := st.open(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	noEnv := func(string) string { return "" }
	r, err := newKeyring(context.Background(), c, noEnv, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.load(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	chmod(t, key, 0o644)
	if _, err := r.load(context.Background(), time.Now()); !errors.Is(err, sqlite.ErrExposed) || !strings.Contains(err.Error(), "chmod 600 "+key) {
		t.Errorf("reload of a key file readable by all: %v, want ErrExposed and the chmod", err)
	}
}
