package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/migrations"
)

// DB is an auth.Store on a PostgreSQL database. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	// timeout bounds each method's database work (see bound); tests set
	// it shorter right after Open.
	timeout time.Duration
}

var _ auth.Store = (*DB)(nil)

// DefaultMaxConns is the pool size when Open is given 0.
const DefaultMaxConns = 10

// defaultTimeout bounds every method's database work (waiting for a pooled
// connection, connecting, each query, the whole of a transaction), so a
// server or network that stops answering without closing the connections
// costs a request this long at most, not a hang.
const defaultTimeout = 5 * time.Second

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user:pass@host/db?...;
// a search_path parameter picks the schema), with at most maxConns
// connections (0: DefaultMaxConns), and applies the migrations it has not
// had; it refuses a database migrated by a newer jwtgate
// (migrations.ErrSchemaTooNew). Errors wrap auth.ErrInvalid for a
// malformed URL and auth.ErrUnavailable when the server cannot be reached.
// Error texts never contain the URL's password.
//
// Every method but Close gives up when the server has not answered within
// 5 seconds (or by the ctx's own deadline, if earlier), with an error
// wrapping both auth.ErrUnavailable and context.DeadlineExceeded. Open's
// migrations are not so bounded: they wait for other instances' migrations
// under the advisory lock and may legitimately run long, so only ctx and
// the connect timeout bound them.
func Open(ctx context.Context, url string, maxConns int) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL; say only what is wrong.
		return nil, fmt.Errorf("postgres: %w: the database URL cannot be parsed", auth.ErrInvalid)
	}
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	cfg.MaxConns = int32(maxConns)
	// Fail fast when the server is gone, so requests get 503 quickly
	// instead of hanging on a dial.
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", auth.ErrInvalid)
	}
	d := &DB{pool: pool, timeout: defaultTimeout}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// migrationLock names the advisory lock, per schema, that serialises
// migrations between instances.
const migrationLock = `hashtextextended('jwtgate migrations ' || current_schema(), 0)`

// migrate applies the embedded migrations that schema_migrations does not
// record, in order, each in its own transaction, all under a session
// advisory lock held on one connection.
//
// Unlike the store's methods, migrate is not bounded by d.timeout: taking
// the lock waits, by design, for another instance's migrations, and a
// migration (an index on a big table) may take minutes. It runs once, at
// start, under the caller's ctx (jwtgate's is cancelled by a signal), and
// connecting is bounded by the connect timeout. Only the final unlock,
// which runs after ctx may have ended, gets d.timeout.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := migrations.List("postgres")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return d.wrap("migrate", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+migrationLock+`)`); err != nil {
		return d.wrap("migrate: lock", err)
	}
	defer func() {
		// A frozen server must not hang Open here either. If the unlock
		// times out, pgx closes the connection and the pool drops it; the
		// server releases the lock when it sees the session gone.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
		defer cancel()
		conn.Exec(ctx, `SELECT pg_advisory_unlock(`+migrationLock+`)`)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT        PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL
	)`); err != nil {
		return d.wrap("migrate", err)
	}
	if err := d.checkSchema(ctx, conn); err != nil {
		return err
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { // not d.tx: no d.timeout
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, m.Version)
			return err
		})
		if err != nil {
			return d.wrap("migration "+m.Version, err)
		}
	}
	return d.wrap("migrate: rekey names", rekeyNames(ctx, conn))
}

// AppliedMigrations returns the versions recorded in schema_migrations, in
// the order they were applied.
func (d *DB) AppliedMigrations(ctx context.Context) ([]string, error) {
	ctx, done := d.bound(ctx)
	defer done()
	rows, err := d.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY applied_at, version`)
	if err != nil {
		return nil, d.wrap("applied migrations", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return vs, d.wrap("applied migrations", err)
}

// Close closes the pool. Later calls of every method fail with
// auth.ErrUnavailable; Close again returns nil.
func (d *DB) Close() error {
	if d.closed.CompareAndSwap(false, true) {
		d.pool.Close()
	}
	return nil
}

// noop is bound's CancelFunc when it adds no deadline.
func noop() {}

// bound returns ctx with the store's per-call deadline, d.timeout from
// now, unless ctx already ends sooner; done must be called when the call's
// database work (including reading its rows) is over. Every method that
// touches the pool uses it, or d.tx, which does: without it a query on a
// pooled connection to a server that stopped answering, without closing
// the connection, waits for as long as the kernel keeps the socket.
// On the deadline pgx sets the socket's deadline, so the blocked read
// ends and pgx closes that connection (the pool replaces it), and wrap
// turns the error into auth.ErrUnavailable.
//
// When ctx's own deadline is sooner (/readyz gives 2 s) nothing is
// allocated; otherwise context.WithTimeout and pgx watching the new
// context cost 7 small allocations (about 640 B) a call, beside the
// network round trip and the ~19 of a one-row pgx query.
func (d *DB) bound(ctx context.Context) (_ context.Context, done context.CancelFunc) {
	if d.timeout <= 0 {
		return ctx, noop
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d.timeout {
		return ctx, noop
	}
	return context.WithTimeout(ctx, d.timeout)
}

// wrap maps pgx errors to the domain's sentinels (see the package doc).
// ErrInvalid texts reach API clients, so they carry no server details.
func (d *DB) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, auth.ErrNotFound) || errors.Is(err, auth.ErrConflict) || errors.Is(err, auth.ErrInvalid) || errors.Is(err, auth.ErrUnavailable) ||
		errors.Is(err, auth.ErrStale) || errors.Is(err, auth.ErrForbidden) {
		return err
	}
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, auth.ErrNotFound)
	case errors.Is(err, context.Canceled): // the caller gave up: not the database's fault
		return fmt.Errorf("postgres: %s: %w", op, err)
	case errors.Is(err, context.DeadlineExceeded):
		// No answer in time, by bound's deadline or the caller's: the
		// server or the network to it is down or overwhelmed. Both
		// sentinels stay visible to errors.Is.
		return fmt.Errorf("postgres: %s: %w: no answer in time (%w)", op, auth.ErrUnavailable, err)
	case d.closed.Load():
		return fmt.Errorf("postgres: %s: %w: store closed", op, auth.ErrUnavailable)
	case errors.As(err, &ce):
		// No connection could be made, whatever the server said while
		// refusing it (a FATAL such as 55000 "database is not accepting
		// connections", 3D000 no such database, 28xxx authentication):
		// the database is out of reach, which is not a bug here.
		return fmt.Errorf("postgres: %s: %w (%w)", op, auth.ErrUnavailable, err)
	case errors.As(err, &pe):
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w (%w)", op, auth.ErrConflict, err)
		case pe.Code == "23503": // foreign_key_violation: only posts refer to users
			return fmt.Errorf("%w: unknown author", auth.ErrInvalid)
		case strings.HasPrefix(pe.Code, "23"): // check, not null
			return fmt.Errorf("%w: a value is out of range", auth.ErrInvalid)
		case strings.HasPrefix(pe.Code, "22"): // data exception: NUL in text, ...
			return fmt.Errorf("%w: a value cannot be stored", auth.ErrInvalid)
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources
			strings.HasPrefix(pe.Code, "57"),       // operator intervention: shutdown, cannot connect now
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock: retry later
			pe.Code == "25006": // read-only transaction (a standby)
			return fmt.Errorf("postgres: %s: %w (%w)", op, auth.ErrUnavailable, err)
		}
		return fmt.Errorf("postgres: %s: %w", op, err) // a bug: bad SQL
	}
	// Not reported by the server: the connection could not be made or
	// broke (refused, reset, EOF, timeout).
	return fmt.Errorf("postgres: %s: %w (%w)", op, auth.ErrUnavailable, err)
}

// Ping checks that the server answers.
func (d *DB) Ping(ctx context.Context) error {
	ctx, done := d.bound(ctx)
	defer done()
	var one int
	return d.wrap("ping", d.pool.QueryRow(ctx, `SELECT 1`).Scan(&one))
}

// now is the time stored for new rows, at the database's precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

const userCols = `id, name, role, password_hash, disabled, created_at, updated_at, version`

func scanUser(row pgx.Row) (*auth.User, error) {
	var u auth.User
	var role string
	if err := row.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.UpdatedAt, &u.Version); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt, u.UpdatedAt = auth.Role(role), u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// CreateUser inserts u and sets its ID, CreatedAt, UpdatedAt and Version.
// A name equal to an existing one ignoring case is auth.ErrConflict. IDs
// come from an identity column and are never reused.
func (d *DB) CreateUser(ctx context.Context, u *auth.User) error {
	ctx, done := d.bound(ctx)
	defer done()
	t := now()
	var id, version int64
	err := d.pool.QueryRow(ctx,
		`INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, version`,
		u.Name, auth.NameKey(u.Name), string(u.Role), u.PasswordHash, u.Disabled, t).Scan(&id, &version)
	if err != nil {
		return d.wrap("create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Version = id, t, t, version
	return nil
}

// noSuchName reports a name no user can have: PostgreSQL text cannot hold
// NUL or invalid UTF-8, so asking the server would be an error rather than
// "not found".
func noSuchName(op, name string) error {
	if strings.IndexByte(name, 0) >= 0 || !utf8.ValidString(name) {
		return fmt.Errorf("postgres: %s: %w", op, auth.ErrNotFound)
	}
	return nil
}

// UserByName looks a user up by name, ignoring case.
func (d *DB) UserByName(ctx context.Context, name string) (*auth.User, error) {
	if err := noSuchName("user by name", name); err != nil {
		return nil, err
	}
	ctx, done := d.bound(ctx)
	defer done()
	u, err := scanUser(d.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE name_key = $1`, auth.NameKey(name)))
	return u, d.wrap("user by name", err)
}

// UserByID looks a user up by id.
func (d *DB) UserByID(ctx context.Context, id int64) (*auth.User, error) {
	ctx, done := d.bound(ctx)
	defer done()
	u, err := scanUser(d.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, d.wrap("user by id", err)
}

// ListUsers returns every user ordered by name ignoring case, in byte
// order of the folded name (COLLATE "C"), as SQLite orders it.
func (d *DB) ListUsers(ctx context.Context) ([]*auth.User, error) {
	ctx, done := d.bound(ctx)
	defer done()
	rows, err := d.pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY name_key COLLATE "C"`)
	if err != nil {
		return nil, d.wrap("list users", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*auth.User, error) { return scanUser(r) })
	if err != nil {
		return nil, d.wrap("list users", err)
	}
	if out == nil {
		out = []*auth.User{}
	}
	return out, nil
}

// CountUsers returns the number of users.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	ctx, done := d.bound(ctx)
	defer done()
	var n int
	err := d.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, d.wrap("count users", err)
}

// UpdateUser changes the given fields and updated_at (which never goes
// back) and, with EndSessions, advances the version and revokes the
// user's sessions in the same transaction.
func (d *DB) UpdateUser(ctx context.Context, name string, upd auth.UserUpdate) (*auth.User, error) {
	var sets []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if upd.Role != nil {
		sets = append(sets, "role = "+arg(string(*upd.Role)))
	}
	if upd.Disabled != nil {
		sets = append(sets, "disabled = "+arg(*upd.Disabled))
	}
	if upd.PasswordHash != nil {
		sets = append(sets, "password_hash = "+arg(*upd.PasswordHash))
	}
	if len(sets) == 0 {
		return d.UserByName(ctx, name)
	}
	if err := noSuchName("update user", name); err != nil {
		return nil, err
	}
	if upd.EndSessions != nil {
		sets = append(sets, "version = version + 1")
	}
	sets = append(sets, "updated_at = GREATEST(updated_at, "+arg(now())+")")
	key := auth.NameKey(name)
	where := arg(key)
	var u *auth.User
	err := d.tx(ctx, "update user", func(ctx context.Context, tx pgx.Tx) error {
		if upd.Role != nil || upd.Disabled != nil {
			if err := lockAdmins(ctx, tx); err != nil {
				return err
			}
		}
		var wasAdmin bool
		if err := tx.QueryRow(ctx, `SELECT `+enabledAdmin+` FROM users WHERE name_key = $1 FOR UPDATE`, key).Scan(&wasAdmin); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE name_key = `+where+` RETURNING `+userCols, args...))
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
// sessions; end, if given, is recorded for the sessions first, in the same
// transaction.
func (d *DB) DeleteUser(ctx context.Context, name string, end *auth.Revoke) error {
	if err := noSuchName("delete user", name); err != nil {
		return err
	}
	return d.tx(ctx, "delete user", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockAdmins(ctx, tx); err != nil {
			return err
		}
		var id int64
		var admin bool
		if err := tx.QueryRow(ctx, `SELECT id, `+enabledAdmin+` FROM users WHERE name_key = $1 FOR UPDATE`, auth.NameKey(name)).Scan(&id, &admin); err != nil {
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
		_, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		return err
	})
}

// enabledAdmin is true for the rows of enabled admins.
const enabledAdmin = `(role = 'admin' AND NOT disabled)`

// lockAdmins serialises, per schema, the transactions that may demote,
// disable or delete an admin, until the transaction ends. Each checks
// after taking it, and under READ COMMITTED each statement sees what was
// committed before it started, so of two admins removing each other the
// second sees the first gone. Row locks alone would not do: each
// transaction would lock only its own target.
func lockAdmins(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('jwtgate admins ' || current_schema(), 0))`)
	return err
}

// otherAdmin fails with auth.ErrLastAdmin unless an enabled admin other
// than the user id exists. The caller holds lockAdmins.
func otherAdmin(ctx context.Context, tx pgx.Tx, id int64) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+enabledAdmin+` AND id <> $1)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return auth.ErrLastAdmin
	}
	return nil
}

const postCols = `p.id, p.author_id, u.name, p.title, p.body, p.created_at`

func scanPost(row pgx.Row) (*auth.Post, error) {
	var p auth.Post
	if err := row.Scan(&p.ID, &p.AuthorID, &p.Author, &p.Title, &p.Body, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return &p, nil
}

// CreatePost inserts p and sets its ID, Author and CreatedAt. An AuthorID
// that is no user's is auth.ErrInvalid.
func (d *DB) CreatePost(ctx context.Context, p *auth.Post) error {
	ctx, done := d.bound(ctx)
	defer done()
	t := now()
	var id int64
	var author string
	err := d.pool.QueryRow(ctx,
		`WITH ins AS (INSERT INTO posts (author_id, title, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id, author_id)
		 SELECT ins.id, u.name FROM ins JOIN users u ON u.id = ins.author_id`,
		p.AuthorID, p.Title, p.Body, t).Scan(&id, &author)
	if err != nil {
		return d.wrap("create post", err)
	}
	p.ID, p.Author, p.CreatedAt = id, author, t
	return nil
}

// Post returns one post with its author's name.
func (d *DB) Post(ctx context.Context, id int64) (*auth.Post, error) {
	ctx, done := d.bound(ctx)
	defer done()
	p, err := scanPost(d.pool.QueryRow(ctx,
		`SELECT `+postCols+` FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1`, id))
	return p, d.wrap("post", err)
}

// ListPosts returns up to limit posts with ids below before (0: from the
// newest), newest first. Identity ids are never reused, so the last id of
// a page is a stable cursor.
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
	ctx, done := d.bound(ctx)
	defer done()
	rows, err := d.pool.Query(ctx, `SELECT `+postCols+` FROM posts p JOIN users u ON u.id = p.author_id
		WHERE p.id < $1 ORDER BY p.id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, d.wrap("list posts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*auth.Post, error) { return scanPost(r) })
	if err != nil {
		return nil, d.wrap("list posts", err)
	}
	if out == nil {
		out = []*auth.Post{}
	}
	return out, nil
}

// DeletePost removes a post.
func (d *DB) DeletePost(ctx context.Context, id int64) error {
	ctx, done := d.bound(ctx)
	defer done()
	tag, err := d.pool.Exec(ctx, `DELETE FROM posts WHERE id = $1`, id)
	if err != nil {
		return d.wrap("delete post", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete post: %w", auth.ErrNotFound)
	}
	return nil
}

// tx runs fn in a transaction and commits it, or rolls it back on error,
// all within one bound (d.timeout). fn must use the ctx it is given, which
// carries that deadline, for its queries.
func (d *DB) tx(ctx context.Context, op string, fn func(context.Context, pgx.Tx) error) error {
	ctx, done := d.bound(ctx)
	defer done()
	return d.wrap(op, pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error { return fn(ctx, tx) }))
}
