package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlstore"
)

// smallDisk mounts a tmpfs of size bytes and returns its path; it skips
// the test where that is not allowed (not root, no mount permission, not
// Linux).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root on Linux): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file until the disk is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// TestPingWriteNoticesFullDisk fills the disk under a database: reads
// and Ping go on working while every write fails, and PingWrite fails with
// them; once there is room again it succeeds. The database's WAL already
// holds frames, as in a running server, so the probe must extend it.
func TestPingWriteNoticesFullDisk(t *testing.T) {
	dir := smallDisk(t, 4<<20)
	db := open(t, filepath.Join(dir, "jwtgate.db"))
	for i := range 20 {
		u := &auth.User{Name: fmt.Sprintf("user%d", i), Role: auth.RoleReader, PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PingWrite(ctx); err != nil {
		t.Fatalf("PingWrite with room: %v", err)
	}
	fill(t, dir)
	for i := range 3 {
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping on a full disk: %v (reads still work)", err)
		}
		u := &auth.User{Name: fmt.Sprintf("full%d", i), Role: auth.RoleReader, PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("CreateUser on a full disk: %v", err)
		}
		if err := db.PingWrite(ctx); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("PingWrite on a full disk: %v, want ErrUnavailable", err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	if err := db.PingWrite(ctx); err != nil {
		t.Fatalf("PingWrite after making room: %v", err)
	}
	if n, err := db.CountRows(ctx, "users"); err != nil || n != 20 {
		t.Fatalf("users: %d %v", n, err)
	}
	applied, err := db.AppliedMigrations(ctx)
	if err != nil || len(applied) != len(embeddedVersions(t)) {
		t.Fatalf("the probe left a row in schema_migrations: %v %v", applied, err)
	}
}

// TestPingWriteReadOnly: a database file that cannot be written fails
// the probe while it still answers reads.
func TestPingWriteReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtgate.db")
	db := open(t, path)
	if err := db.PingWrite(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := sql.Open("sqlite", dsn(path)+"&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	d := &DB{db: ro, path: path, abs: path}
	if d.Store, err = sqlstore.New(ctx, sqlstore.NewSQLDB(ro), d.dialect()); err != nil {
		t.Fatal(err)
	}
	if err := d.PingWrite(ctx); !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("PingWrite on a read-only database: %v, want ErrUnavailable (SQLITE_READONLY)", err)
	}
}
