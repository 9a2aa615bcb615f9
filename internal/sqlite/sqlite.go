package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlstore"
)

// DB is an auth.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	db     *sql.DB
	path   string      // as given to Open
	abs    string      // absolute path, for Ping's file check
	file   os.FileInfo // the database file as Open found it
	group  []string    // files the group may read or write (GroupAccess)
	closed atomic.Bool
}

var (
	_ auth.Store              = (*DB)(nil)
	_ auth.TokenLifetimeStore = (*DB)(nil)
	_ auth.WriteChecker       = (*DB)(nil)
)

// replacer turns the shared queries' PostgreSQL syntax into SQLite's: a
// single writer needs no row locks, and name_key's byte order is BINARY,
// SQLite's default collation.
var replacer = strings.NewReplacer(
	"GREATEST(", "max(",
	" FOR SHARE", "",
	" FOR UPDATE", "",
	` COLLATE "C"`, "",
)

// dialect is SQLite's for d: times are INTEGER Unix milliseconds, and
// transactions take the write lock at BEGIN (_txlock=immediate), which
// serialises the writers that PostgreSQL orders with locks.
func (d *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:           "sqlite",
		Replace:        replacer,
		Precision:      time.Millisecond,
		Time:           func(t time.Time) any { return t.UnixMilli() },
		TimeType:       "INTEGER", // Unix milliseconds
		Wrap:           d.wrap,
		CheckMigration: foreignKeyCheck,
	}
}

// maxConns bounds the pool. In WAL mode readers run concurrently with each
// other and with the one writer; writers queue on busy_timeout.
const maxConns = 8

// Open opens the database file at path, creating it if needed, and applies
// any migrations it has not had yet. Every connection of the pool is set up
// by the DSN with:
//
//   - journal_mode=WAL: readers never wait for the writer nor it for them.
//   - busy_timeout=5000: a writer waits up to 5 s for the write lock
//     instead of failing at once with SQLITE_BUSY.
//   - foreign_keys=ON: posts must have an author; deleting a user deletes
//     their posts (ON DELETE CASCADE). SQLite's default is OFF, per
//     connection.
//   - synchronous=NORMAL: in WAL mode a committed transaction is in the WAL
//     file when the commit returns, so it survives a crash of the process;
//     only a power loss or OS crash can lose the last few commits (never
//     corrupt the database). FULL would also fsync every commit.
//   - _txlock=immediate: transactions (migrations) take the write lock at
//     BEGIN, so they wait on busy_timeout there instead of failing midway
//     when they first write.
//
// A new database file is created with mode 0600, whatever the umask, and
// so are its WAL and shared-memory files: they hold every signing key and
// password hash. Open refuses files that others may read or write, with
// an error wrapping ErrExposed that names the chmod fixing them; files the
// group may access are allowed and listed by GroupAccess.
//
// Open refuses an existing zero-length file (ErrEmptyFile) and a database
// migrated by a newer jwtgate (migrations.ErrSchemaTooNew). Other errors
// wrap auth.ErrUnavailable when the file cannot be opened, read or
// written, and auth.ErrInvalid for an empty path, ":memory:" (each pooled
// connection would get its own empty in-memory database) or a "file:" URI
// (path is a file name; Open builds the URI).
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: %w: need the path of a database file", path, auth.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, auth.ErrUnavailable, err)
	}
	if err := checkNotEmpty(path, abs); err != nil {
		return nil, err
	}
	group, err := CheckPrivate(files(abs)...)
	if errors.Is(err, ErrExposed) {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err == nil {
		err = createPrivate(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, auth.ErrUnavailable, err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns) // each new connection re-runs the pragmas
	d := &DB{db: db, path: path, abs: abs, group: group}
	if err := d.migrate(ctx, "open "+path); err != nil {
		db.Close()
		return nil, err
	}
	if err := narrowSidecars(abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, auth.ErrUnavailable, err)
	}
	if d.file, err = os.Stat(abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, auth.ErrUnavailable, err)
	}
	if d.Store, err = sqlstore.New(ctx, sqlstore.NewSQLDB(db), d.dialect()); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// dsn builds modernc.org/sqlite's data source name for the file at abs: an
// SQLite URI ("file:" + path, in which %, ? and # must be escaped) whose
// query carries the driver's _pragma and _txlock parameters; the driver
// runs the pragmas on every new connection, busy_timeout first.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:/C:/dir/x.db
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	q := url.Values{}
	for _, pragma := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", pragma)
	}
	q.Set("_txlock", "immediate")
	return "file:" + p + "?" + q.Encode()
}

// Path returns the database file's path as given to Open.
func (d *DB) Path() string { return d.path }

// Close closes the database, waiting for queries in progress. Later calls
// of every method fail with auth.ErrUnavailable; Close again returns nil.
func (d *DB) Close() error {
	d.closed.Store(true)
	return d.db.Close()
}

// migrate applies the migrations the database has not had
// (sqlstore.Migrate) on one connection of the pool. Each transaction
// takes the write lock at BEGIN (_txlock=immediate), so the check and the
// migration happen under one lock and two processes opening the database
// together cannot both apply one.
//
// Foreign keys are off while migrations run, as SQLite's procedure for
// rebuilding a table requires (https://sqlite.org/lang_altertable.html,
// "other kinds of table schema changes"): with them on, dropping the old
// table would delete, by ON DELETE CASCADE, every row that refers to it.
// PRAGMA foreign_key_check must then find no dangling reference before
// each migration commits.
func (d *DB) migrate(ctx context.Context, op string) error {
	conn, err := d.db.Conn(ctx) // the pragma holds for one connection
	if err != nil {
		return d.wrap(op, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return d.wrap(op, err)
	}
	defer func() {
		// The connection goes back to the pool with foreign keys on, or
		// is discarded.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return sqlstore.Migrate(ctx, sqlstore.NewSQLDB(conn), d.dialect(), op)
}

// foreignKeyCheck fails if a row refers to a row that does not exist.
func foreignKeyCheck(ctx context.Context, q sqlstore.Querier) error {
	rows, err := q.Query(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: row %d of %s refers to a missing row of %s", rowid.Int64, table, parent)
	}
	return rows.Err()
}

// wrap maps an error of the driver to the domain's sentinels:
//
//   - sql.ErrNoRows → auth.ErrNotFound
//   - UNIQUE or PRIMARY KEY constraint → auth.ErrConflict
//   - FOREIGN KEY constraint → auth.ErrInvalid (unknown author; only posts
//     refer to users)
//   - other constraints (CHECK, NOT NULL) → auth.ErrInvalid
//   - the context's cancellation or deadline → that context error
//   - a closed store, and SQLite errors that mean the database cannot be
//     used now (busy past busy_timeout, locked, I/O, cannot open, disk full,
//     read-only, corrupt, not a database, permission) → auth.ErrUnavailable
//   - anything else (a bug: bad SQL, misuse) is wrapped as it is.
//
// ErrInvalid texts reach API clients verbatim, so they carry no driver
// details; the other errors keep the driver's error too (a second %w).
func (d *DB) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	code := 0
	if errors.As(err, &se) {
		code = se.Code()
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, auth.ErrNotFound)
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("sqlite: %s: %w (%w)", op, auth.ErrConflict, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: unknown author", auth.ErrInvalid)
	case code&0xff == sqlite3.SQLITE_CONSTRAINT:
		return fmt.Errorf("%w: a value is out of range", auth.ErrInvalid)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case d.closed.Load():
		return fmt.Errorf("sqlite: %s: %w: store closed", op, auth.ErrUnavailable)
	}
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB,
		sqlite3.SQLITE_PERM, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_NOLFS:
		return fmt.Errorf("sqlite: %s: %w (%w)", op, auth.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// Ping checks that the database answers a query and that its file is still
// the one Open opened: a deleted or replaced file goes unnoticed by open
// connections, which would go on writing to an unlinked file.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return d.wrap("ping", err)
	}
	if err := d.Store.Ping(ctx); err != nil {
		return err
	}
	fi, err := os.Stat(d.abs)
	if err != nil {
		return fmt.Errorf("sqlite: ping: %w: %w", auth.ErrUnavailable, err)
	}
	if !os.SameFile(fi, d.file) {
		return fmt.Errorf("sqlite: ping: %w: %s was replaced since it was opened", auth.ErrUnavailable, d.abs)
	}
	return nil
}
