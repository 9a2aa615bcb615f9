//go:build !windows

package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// withUmask sets the process umask for the test. Tests that call it must
// not be parallel: the umask is the process's.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// With a common umask, in a folder everyone may enter, the database and
// the WAL and shared-memory files that hold its recent writes are private
// from the first byte on.
func TestNewDatabaseFilesArePrivate(t *testing.T) {
	for _, mask := range []int{0o022, 0o002, 0} {
		withUmask(t, mask)
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "jwtgate.db")
		db := open(t, path)
		if err := db.AddSigningKey(ctx, auth.StoredKey{ID: "k1", JWK: []byte(`{"kty":"oct","k":"secret"}`), CreatedAt: time.Now()}, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateUser(ctx, &auth.User{Name: "ann", Role: auth.RoleAdmin, PasswordHash: "hash"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range files(path) {
			if m := mode(t, p); m != 0o600 {
				t.Errorf("umask %04o: %s has mode %04o after writes, want 0600", mask, filepath.Base(p), m)
			}
		}
		if g := db.GroupAccess(); len(g) != 0 {
			t.Errorf("umask %04o: GroupAccess() = %q, want none", mask, g)
		}
		db.Close()
	}
}

// Files others may read or write are refused with the command that fixes
// them; files only the group may access are opened and reported.
func TestOpenChecksFileModes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		db, wal    fs.FileMode // 0: no such file
		refuse     string      // in the error; "" to open
		groupFiles int
	}{
		{name: "private", db: 0o600},
		{name: "readable by all", db: 0o644, refuse: "jwtgate.db is readable by other users (mode 0644); fix with: chmod 600 "},
		{name: "writable by all", db: 0o602, refuse: "is writable by other users (mode 0602)"},
		{name: "all", db: 0o666, refuse: "is readable and writable by other users (mode 0666)"},
		{name: "group too keeps group", db: 0o664, refuse: "fix with: chmod o-rw "},
		{name: "leftover WAL", db: 0o600, wal: 0o644, refuse: "jwtgate.db-wal is readable by other users (mode 0644); fix with: chmod 600 "},
		{name: "group readable", db: 0o640, groupFiles: 1},
		{name: "group writable", db: 0o660, wal: 0o660, groupFiles: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jwtgate.db")
			first, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			first.Close()
			if err := os.Chmod(path, tc.db); err != nil {
				t.Fatal(err)
			}
			if tc.wal != 0 {
				if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path+"-wal", tc.wal); err != nil {
					t.Fatal(err)
				}
			}
			db, err := Open(ctx, path)
			if tc.refuse != "" {
				if err == nil {
					db.Close()
					t.Fatalf("opened with mode %04o", tc.db)
				}
				if !errors.Is(err, ErrExposed) || !strings.Contains(err.Error(), tc.refuse) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %q: want ErrExposed, one line, containing %q", err, tc.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if g := db.GroupAccess(); len(g) != tc.groupFiles {
				t.Errorf("GroupAccess() = %q, want %d files", g, tc.groupFiles)
			}
			// The WAL and shared-memory files SQLite makes get the database's mode.
			if err := db.CreateUser(ctx, &auth.User{Name: "bo", Role: auth.RoleReader, PasswordHash: "h"}); err != nil {
				t.Fatal(err)
			}
			for _, p := range files(path)[1:] {
				if m := mode(t, p); m&^tc.db != 0 {
					t.Errorf("%s has mode %04o, more than the database's %04o", filepath.Base(p), m, tc.db)
				}
			}
		})
	}
}

func TestCheckPrivateQuotesPaths(t *testing.T) {
	p := filepath.Join(t.TempDir(), "it's here.jwk")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := CheckPrivate(p, p+".missing")
	want := `chmod 600 '` + strings.ReplaceAll(p, "'", `'\''`) + `'`
	if !errors.Is(err, ErrExposed) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("CheckPrivate: %v, want it to end with %s", err, want)
	}
}
