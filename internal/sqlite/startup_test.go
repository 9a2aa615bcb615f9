package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/migrations"
)

func TestOpenRefusesEmptyFile(t *testing.T) {
	tests := []struct {
		name   string
		db     *string // contents of the database file; nil: no file
		wal    *string // contents of the -wal file; nil: no file
		refuse bool
	}{
		{"no file", nil, nil, false},
		{"zero bytes", ptr(""), nil, true},
		{"zero bytes, empty WAL", ptr(""), ptr(""), true},
		{"zero bytes, junk WAL", ptr(""), ptr("not a WAL, but not empty either"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jwtgate.db")
			for name, content := range map[string]*string{path: tc.db, path + "-wal": tc.wal} {
				if content != nil {
					if err := os.WriteFile(name, []byte(*content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			db, err := Open(ctx, path)
			if !tc.refuse {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				db.Close()
				return
			}
			if err == nil {
				db.Close()
				t.Fatal("Open took an empty file for a new database")
			}
			if !errors.Is(err, ErrEmptyFile) || !strings.Contains(err.Error(), "delete the file") {
				t.Fatalf("Open: %v, want ErrEmptyFile saying what to do", err)
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
				t.Fatalf("the refused file was changed: %v %v", fi, err)
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ms, err := migrations.List("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	known := ms[len(ms)-1].Num
	path := filepath.Join(t.TempDir(), "jwtgate.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	future := fmt.Sprintf("%03d_from_the_future", known+1)
	if _, err := db.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, future); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database migrated by a newer jwtgate")
	}
	want := fmt.Sprintf("database schema %d is newer than this jwtgate (%d); upgrade jwtgate", known+1, known)
	if !errors.Is(err, migrations.ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open: %v, want %q", err, want)
	}
}

func ptr(s string) *string { return &s }
