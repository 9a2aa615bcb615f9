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

	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/migrations"
)

// DB is an auth.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	db     *sql.DB
	path   string      // as given to Open
	abs    string      // absolute path, for Ping's file check
	file   os.FileInfo // the database file as Open found it
	group  []string    // files the group may read or write (GroupAccess)
	closed atomic.Bool
}

var _ auth.Store = (*DB)(nil)

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
	if err := d.rekeyNames(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if d.file, err = os.Stat(abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w: %w", path, auth.ErrUnavailable, err)
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

// migrate applies, in order, the embedded migrations the database has not
// recorded in schema_migrations, each in its own transaction. op is the
// operation its errors name.
func (d *DB) migrate(ctx context.Context, op string) error {
	ms, err := migrations.List("sqlite")
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    PRIMARY KEY,
		applied_at INTEGER NOT NULL -- Unix milliseconds
	)`); err != nil {
		return d.wrap(op, err)
	}
	if err := d.checkSchema(ctx, op); err != nil {
		return err
	}
	for _, m := range ms {
		if err := d.apply(ctx, m); err != nil {
			return d.wrap(op+": migration "+m.Version, err)
		}
	}
	return nil
}

// apply runs one migration in its own transaction unless it already ran.
// The transaction takes the write lock at BEGIN (_txlock=immediate), so
// the check and the migration happen under one lock and two processes
// opening the database together cannot both apply it. A migration that
// fails leaves no trace.
//
// Foreign keys are off while a migration runs, as SQLite's procedure for
// rebuilding a table requires (https://sqlite.org/lang_altertable.html,
// "other kinds of table schema changes"): with them on, dropping the old
// table would delete, by ON DELETE CASCADE, every row that refers to it.
// PRAGMA foreign_key_check must then find no dangling reference before
// the migration commits.
func (d *DB) apply(ctx context.Context, m migrations.Migration) error {
	conn, err := d.db.Conn(ctx) // the pragma holds for one connection
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	defer func() {
		// The connection goes back to the pool with foreign keys on, or
		// is discarded.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if err := foreignKeyCheck(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// foreignKeyCheck fails if a row refers to a row that does not exist.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
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
	var one int
	if err := d.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return d.wrap("ping", err)
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

// Times are stored as Unix milliseconds and returned in UTC.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

const userCols = `id, name, role, password_hash, disabled, created_at, updated_at, version`

type scanner interface{ Scan(...any) error }

func scanUser(s scanner) (*auth.User, error) {
	var u auth.User
	var role string
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.Disabled, &created, &updated, &u.Version); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt, u.UpdatedAt = auth.Role(role), fromMS(created), fromMS(updated)
	return &u, nil
}

// CreateUser inserts u and sets its ID, CreatedAt, UpdatedAt and Version.
// A name equal to an existing one ignoring case is auth.ErrConflict. IDs
// are never reused (AUTOINCREMENT).
func (d *DB) CreateUser(ctx context.Context, u *auth.User) error {
	now := fromMS(ms(time.Now()))
	var id, version int64
	err := d.db.QueryRowContext(ctx,
		`INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, version`,
		u.Name, nameKey(u.Name), string(u.Role), u.PasswordHash, u.Disabled, ms(now), ms(now)).Scan(&id, &version)
	if err != nil {
		return d.wrap("create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Version = id, now, now, version
	return nil
}

// UserByName looks a user up by name, ignoring case.
func (d *DB) UserByName(ctx context.Context, name string) (*auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name_key = ?`, nameKey(name)))
	return u, d.wrap("user by name", err)
}

// UserByID looks a user up by id.
func (d *DB) UserByID(ctx context.Context, id int64) (*auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, d.wrap("user by id", err)
}

// ListUsers returns every user ordered by name ignoring case (by name_key).
func (d *DB) ListUsers(ctx context.Context) ([]*auth.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name_key`)
	if err != nil {
		return nil, d.wrap("list users", err)
	}
	defer rows.Close()
	out := []*auth.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, d.wrap("list users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("list users", err)
	}
	return out, nil
}

// CountUsers returns the number of users.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, d.wrap("count users", err)
}

// UpdateUser changes the given fields and updated_at in one statement and
// returns the user as stored. updated_at never goes back, even if the clock
// does. An update that gives no field changes nothing and returns the user.
// With EndSessions the version advances too. Transactions take the write
// lock at BEGIN, so the last-admin check sees every earlier change.
func (d *DB) UpdateUser(ctx context.Context, name string, upd auth.UserUpdate) (*auth.User, error) {
	var sets []string
	var args []any
	if upd.Role != nil {
		sets, args = append(sets, "role = ?"), append(args, string(*upd.Role))
	}
	if upd.Disabled != nil {
		sets, args = append(sets, "disabled = ?"), append(args, *upd.Disabled)
	}
	if upd.PasswordHash != nil {
		sets, args = append(sets, "password_hash = ?"), append(args, *upd.PasswordHash)
	}
	if len(sets) == 0 {
		return d.UserByName(ctx, name)
	}
	if upd.EndSessions != nil {
		sets = append(sets, "version = version + 1")
	}
	sets, args = append(sets, "updated_at = max(updated_at, ?)"), append(args, ms(time.Now()))
	key := nameKey(name)
	args = append(args, key)
	var u *auth.User
	err := d.tx(ctx, "update user", func(tx *sql.Tx) error {
		var wasAdmin bool
		if err := tx.QueryRowContext(ctx, `SELECT `+enabledAdmin+` FROM users WHERE name_key = ?`, key).Scan(&wasAdmin); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx,
			`UPDATE users SET `+strings.Join(sets, ", ")+` WHERE name_key = ? RETURNING `+userCols, args...))
		if err != nil {
			return err
		}
		if wasAdmin && (u.Role != auth.RoleAdmin || u.Disabled) {
			if err := otherAdmin(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if upd.EndSessions == nil {
			return nil
		}
		r := *upd.EndSessions
		r.UserID = u.ID
		return revoke(ctx, tx, r)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser removes the user and, by ON DELETE CASCADE, their posts and
// sessions; end, if given, is recorded for the sessions first, in the
// same transaction.
func (d *DB) DeleteUser(ctx context.Context, name string, end *auth.Revoke) error {
	return d.tx(ctx, "delete user", func(tx *sql.Tx) error {
		var id int64
		var admin bool
		if err := tx.QueryRowContext(ctx, `SELECT id, `+enabledAdmin+` FROM users WHERE name_key = ?`, nameKey(name)).Scan(&id, &admin); err != nil {
			return err
		}
		if admin {
			if err := otherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if end != nil {
			r := *end
			r.UserID = id
			if err := revoke(ctx, tx, r); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
}

// enabledAdmin is true for the rows of enabled admins.
const enabledAdmin = `(role = 'admin' AND NOT disabled)`

// otherAdmin fails with auth.ErrLastAdmin unless an enabled admin other
// than the user id exists.
func otherAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+enabledAdmin+` AND id <> ?)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return auth.ErrLastAdmin
	}
	return nil
}

func (d *DB) affected(op string, res sql.Result, err error) error {
	if err != nil {
		return d.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return d.wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, auth.ErrNotFound)
	}
	return nil
}

const postCols = `p.id, p.author_id, u.name, p.title, p.body, p.created_at`

func scanPost(s scanner) (*auth.Post, error) {
	var p auth.Post
	var created int64
	if err := s.Scan(&p.ID, &p.AuthorID, &p.Author, &p.Title, &p.Body, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMS(created)
	return &p, nil
}

// CreatePost inserts p and sets its ID, Author and CreatedAt; the author's
// name is read by the same statement. An AuthorID that is no user's is
// auth.ErrInvalid.
func (d *DB) CreatePost(ctx context.Context, p *auth.Post) error {
	now := fromMS(ms(time.Now()))
	var id int64
	var author string
	err := d.db.QueryRowContext(ctx,
		`INSERT INTO posts (author_id, title, body, created_at) VALUES (?, ?, ?, ?)
		 RETURNING id, (SELECT name FROM users WHERE users.id = author_id)`,
		p.AuthorID, p.Title, p.Body, ms(now)).Scan(&id, &author)
	if err != nil {
		return d.wrap("create post", err)
	}
	p.ID, p.Author, p.CreatedAt = id, author, now
	return nil
}

// Post returns one post with its author's name.
func (d *DB) Post(ctx context.Context, id int64) (*auth.Post, error) {
	p, err := scanPost(d.db.QueryRowContext(ctx,
		`SELECT `+postCols+` FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = ?`, id))
	return p, d.wrap("post", err)
}

// ListPosts returns up to limit posts with ids below before (0: from the
// newest), newest (highest id) first. Ids are never reused (AUTOINCREMENT),
// so the last id of a page is a stable cursor for the next.
func (d *DB) ListPosts(ctx context.Context, limit int, before int64) ([]*auth.Post, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive", auth.ErrInvalid)
	}
	if before < 0 {
		return nil, fmt.Errorf("%w: cursor must be a post id", auth.ErrInvalid)
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+postCols+` FROM posts p JOIN users u ON u.id = p.author_id
		WHERE p.id < ? ORDER BY p.id DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, d.wrap("list posts", err)
	}
	defer rows.Close()
	out := []*auth.Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, d.wrap("list posts", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("list posts", err)
	}
	return out, nil
}

// DeletePost removes a post.
func (d *DB) DeletePost(ctx context.Context, id int64) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM posts WHERE id = ?`, id)
	return d.affected("delete post", res, err)
}

// CountRows returns the number of rows of one of jwtgate's tables, for
// tests and diagnostics.
func (d *DB) CountRows(ctx context.Context, table string) (int, error) {
	switch table {
	case "users", "posts", "sessions", "refresh_tokens", "revocations", "signing_keys", "token_lifetimes":
	default:
		return 0, fmt.Errorf("%w: unknown table %q", auth.ErrInvalid, table)
	}
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, d.wrap("count "+table, err)
}

// AppliedMigrations returns the versions recorded in schema_migrations, in
// the order they were applied.
func (d *DB) AppliedMigrations(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY applied_at, rowid`)
	if err != nil {
		return nil, d.wrap("applied migrations", err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, d.wrap("applied migrations", err)
		}
		vs = append(vs, v)
	}
	return vs, d.wrap("applied migrations", rows.Err())
}
