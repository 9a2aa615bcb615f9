package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jwtgate/jwtgate/auth"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an auth.Store on one SQLite file.
type DB struct {
	db   *sql.DB
	path string
}

var _ auth.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and migrates it.
// synchronous=NORMAL in WAL mode survives a crash of the process (every
// committed transaction is in the WAL file); only a power loss can lose the
// last transactions, never corrupt the database.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(5000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // writers queue on busy_timeout instead of failing mid-transaction
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	d := &DB{db: db, path: path}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Path returns the database file's path.
func (d *DB) Path() string { return d.path }

// Close closes the database; later calls fail with auth.ErrUnavailable.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return wrap("migrate", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := d.apply(ctx, version, string(body)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
	}
	return nil
}

// apply runs one migration in its own transaction, unless it already ran:
// the check and the insert happen under the same write lock, so two
// processes starting together cannot both apply it.
func (d *DB) apply(ctx context.Context, version, body string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// wrap maps driver errors to the domain's sentinels.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, auth.ErrNotFound)
	case errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("sqlite: %s: %w", op, auth.ErrConflict)
	case errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("sqlite: %s: %w: unknown user", op, auth.ErrInvalid)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case errors.As(err, &se):
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			return fmt.Errorf("sqlite: %s: %w: %v", op, auth.ErrInvalid, err)
		}
	}
	// Closed database, I/O errors, a busy database past its timeout,
	// a missing file: the store cannot serve.
	return fmt.Errorf("sqlite: %s: %w: %v", op, auth.ErrUnavailable, err)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return wrap("ping", err)
	}
	return nil
}

const userCols = `id, name, role, password_hash, disabled, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanUser(s scanner) (*auth.User, error) {
	var u auth.User
	var role string
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt, u.UpdatedAt = auth.Role(role), fromMS(created), fromMS(updated)
	return &u, nil
}

// CreateUser inserts u; a name differing only in case is a conflict.
func (d *DB) CreateUser(ctx context.Context, u *auth.User) error {
	now := time.Now()
	err := d.db.QueryRowContext(ctx,
		`INSERT INTO users (name, role, password_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Name, string(u.Role), u.PasswordHash, u.Disabled, ms(now), ms(now)).Scan(&u.ID)
	if err != nil {
		return wrap("create user", err)
	}
	u.CreatedAt, u.UpdatedAt = fromMS(ms(now)), fromMS(ms(now))
	return nil
}

// UserByName looks a user up, ignoring case.
func (d *DB) UserByName(ctx context.Context, name string) (*auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name))
	return u, wrap("user by name", err)
}

// UserByID looks a user up by id.
func (d *DB) UserByID(ctx context.Context, id int64) (*auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, wrap("user by id", err)
}

// ListUsers returns every user ordered by name.
func (d *DB) ListUsers(ctx context.Context) ([]*auth.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var out []*auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, wrap("list users", rows.Err())
}

// CountUsers returns the number of users.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

// UpdateUser changes the given fields in one statement.
func (d *DB) UpdateUser(ctx context.Context, name string, upd auth.UserUpdate) (*auth.User, error) {
	sets := []string{"updated_at = ?"}
	args := []any{ms(time.Now())}
	if upd.Role != nil {
		sets, args = append(sets, "role = ?"), append(args, string(*upd.Role))
	}
	if upd.Disabled != nil {
		sets, args = append(sets, "disabled = ?"), append(args, *upd.Disabled)
	}
	if upd.PasswordHash != nil {
		sets, args = append(sets, "password_hash = ?"), append(args, *upd.PasswordHash)
	}
	args = append(args, name)
	u, err := scanUser(d.db.QueryRowContext(ctx,
		`UPDATE users SET `+strings.Join(sets, ", ")+` WHERE name = ? RETURNING `+userCols, args...))
	return u, wrap("update user", err)
}

// DeleteUser removes the user; their posts go with them (ON DELETE CASCADE).
func (d *DB) DeleteUser(ctx context.Context, name string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	return affected("delete user", res, err)
}

func affected(op string, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
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

// CreatePost inserts p; an unknown author is ErrInvalid.
func (d *DB) CreatePost(ctx context.Context, p *auth.Post) error {
	now := time.Now()
	err := d.db.QueryRowContext(ctx,
		`INSERT INTO posts (author_id, title, body, created_at) VALUES (?, ?, ?, ?)
		 RETURNING id, (SELECT name FROM users WHERE id = author_id)`,
		p.AuthorID, p.Title, p.Body, ms(now)).Scan(&p.ID, &p.Author)
	if err != nil {
		return wrap("create post", err)
	}
	p.CreatedAt = fromMS(ms(now))
	return nil
}

// Post returns one post with its author's name.
func (d *DB) Post(ctx context.Context, id int64) (*auth.Post, error) {
	p, err := scanPost(d.db.QueryRowContext(ctx, `SELECT `+postCols+` FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = ?`, id))
	return p, wrap("post", err)
}

// ListPosts pages through posts, newest (highest id) first.
func (d *DB) ListPosts(ctx context.Context, limit int, before int64) ([]*auth.Post, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+postCols+` FROM posts p JOIN users u ON u.id = p.author_id
		WHERE p.id < ? ORDER BY p.id DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, wrap("list posts", err)
	}
	defer rows.Close()
	out := []*auth.Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, wrap("list posts", err)
		}
		out = append(out, p)
	}
	return out, wrap("list posts", rows.Err())
}

// DeletePost removes a post.
func (d *DB) DeletePost(ctx context.Context, id int64) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM posts WHERE id = ?`, id)
	return affected("delete post", res, err)
}
