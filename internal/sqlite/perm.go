package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// ErrExposed is wrapped by the errors of Open and CheckPrivate for files
// that users other than the owner and the file's group may read or write.
var ErrExposed = errors.New("readable or writable by other users")

// exposedError names the exposed files and the fix; it is ErrExposed.
type exposedError struct{ msg string }

func (e *exposedError) Error() string        { return e.msg }
func (e *exposedError) Is(target error) bool { return target == ErrExposed }

// The database holds every signing key and password hash, so its files
// are private: mode 0600 for those Open creates. Access by the group is
// allowed (a container volume with a group owner, such as Kubernetes'
// fsGroup, needs it); access by others is refused.
const (
	otherRW = 0o006
	groupRW = 0o060
)

// files returns the database file and the WAL and shared-memory files that
// SQLite keeps next to it in WAL mode.
func files(abs string) []string { return []string{abs, abs + "-wal", abs + "-shm"} }

// CheckPrivate checks the permissions of files that hold secrets, skipping
// those that do not exist. It returns an error wrapping ErrExposed, naming
// the files and the chmod command that fixes them, when others may read or
// write any of them, and the names of those the group may read or write.
// On Windows, which has no such mode bits, it checks nothing.
func CheckPrivate(paths ...string) (group []string, err error) {
	if runtime.GOOS == "windows" {
		return nil, nil
	}
	var exposed []string
	var what []string
	groupWrite := false
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m := fi.Mode().Perm()
		if m&otherRW != 0 {
			exposed = append(exposed, p)
			what = append(what, fmt.Sprintf("%s is %s by other users (mode %04o)", p, access(m&otherRW), m))
			groupWrite = groupWrite || m&0o020 != 0
		} else if m&groupRW != 0 {
			group = append(group, fmt.Sprintf("%s is %s by its group (mode %04o)", p, access((m&groupRW)>>3), m))
		}
	}
	if len(exposed) == 0 {
		return group, nil
	}
	// A group that may write was given access on purpose (no common umask
	// does that): keep it.
	fix := "chmod 600"
	if groupWrite {
		fix = "chmod o-rw"
	}
	for i, p := range exposed {
		exposed[i] = shellQuote(p)
	}
	return group, &exposedError{fmt.Sprintf("%s; fix with: %s %s", strings.Join(what, ", "), fix, strings.Join(exposed, " "))}
}

// access describes the read and write bits of o, an "other" triple.
func access(o fs.FileMode) string {
	switch o & 0o6 {
	case 0o6:
		return "readable and writable"
	case 0o4:
		return "readable"
	}
	return "writable"
}

// shellQuote quotes p for a POSIX shell when it holds anything but
// characters that are safe unquoted.
func shellQuote(p string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%=", r)
	}
	if p != "" && strings.IndexFunc(p, func(r rune) bool { return !safe(r) }) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// createPrivate creates the database file, empty and with mode 0600, if it
// does not exist yet. SQLite gives the WAL and shared-memory files it
// creates the mode of the database file, so they are 0600 too, whatever
// the umask; left to SQLite the database would be 0644 less the umask.
func createPrivate(abs string) error {
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// narrowSidecars gives the WAL and shared-memory files no permission the
// database file lacks, should SQLite not have copied its mode.
func narrowSidecars(abs string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	db, err := os.Stat(abs)
	if err != nil {
		return err
	}
	want := db.Mode().Perm()
	for _, p := range files(abs)[1:] {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if m := fi.Mode().Perm(); m&^want != 0 {
			if err := os.Chmod(p, m&want); err != nil {
				return err
			}
		}
	}
	return nil
}

// GroupAccess describes the database files that their group may read or
// write, as Open found them: allowed, but worth a warning where a shared
// group is not intended.
func (d *DB) GroupAccess() []string { return d.group }
