package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// ErrEmptyFile is returned by Open for an existing database file of zero
// bytes: SQLite would take it for a new, empty database, and a server would
// start over (no users, new keys) on what is most likely a failed copy or
// restore, or a file made by mistake.
var ErrEmptyFile = errors.New("the database file is empty (0 bytes)")

// checkNotEmpty refuses an existing zero-length database file. A missing
// file is a new install. jwtgate never leaves an empty one itself: the
// first connection writes the header page at once to switch to WAL mode,
// so the file has 4 KiB before any table exists. A -wal beside an empty
// file does not make it a database either: SQLite ignores a WAL it cannot
// use and would still start a new one.
func checkNotEmpty(path, abs string) error {
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w: %w", path, auth.ErrUnavailable, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() != 0 {
		return nil
	}
	return fmt.Errorf("sqlite: open %s: %w: not a jwtgate database. If it is a copy or a restored backup, the copy failed: restore it again; for a new install, delete the file", path, ErrEmptyFile)
}
