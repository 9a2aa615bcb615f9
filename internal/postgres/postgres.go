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
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlstore"
)

// DB is an auth.Store on a PostgreSQL database. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	pool   *pgxpool.Pool
	closed atomic.Bool
	// timeout bounds each method's database work (see bound); tests set
	// it shorter right after Open.
	timeout time.Duration
	salt    saltCache // of LoginLimit's keys
}

var (
	_ auth.Store              = (*DB)(nil)
	_ auth.TokenLifetimeStore = (*DB)(nil)
	_ auth.WriteChecker       = (*DB)(nil)
)

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
	// pgx prepares each statement once per connection by itself (its
	// statement cache), so New has nothing to prepare and cannot fail.
	d.Store, _ = sqlstore.New(ctx, querier{pool}, d.dialect())
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// migrationLock names the advisory lock, per schema, that serialises
// migrations between instances.
const migrationLock = `hashtextextended('jwtgate migrations ' || current_schema(), 0)`

// migrate applies the migrations the database has not had
// (sqlstore.Migrate) on one connection, under a session advisory lock.
//
// Unlike the store's methods, migrate is not bounded by d.timeout: taking
// the lock waits, by design, for another instance's migrations, and a
// migration (an index on a big table) may take minutes. It runs once, at
// start, under the caller's ctx (jwtgate's is cancelled by a signal), and
// connecting is bounded by the connect timeout. Only the final unlock,
// which runs after ctx may have ended, gets d.timeout.
func (d *DB) migrate(ctx context.Context) error {
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
	return sqlstore.Migrate(ctx, querier{conn}, d.dialect(), "migrate")
}

// Close closes the pool. Later calls of every method fail with
// auth.ErrUnavailable; Close again returns nil.
func (d *DB) Close() error {
	if d.closed.CompareAndSwap(false, true) {
		d.pool.Close()
	}
	return nil
}

// PoolStats returns the state of the connection pool (connections in
// use and idle, waits for one), for metrics.
func (d *DB) PoolStats() *pgxpool.Stat { return d.pool.Stat() }

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

// rotateSQL rotates a batch of refresh tokens in one statement, one
// round trip (sqlstore.Dialect.RotateSQL says what it takes and returns).
// All its parts see one snapshot and commit together. The sessions' rows
// are locked, in id order so that concurrent batches cannot deadlock,
// only for the tokens that may be rotated, and each lock re-reads its
// row: a revocation commits either before (the locked row is the revoked
// one, nothing is rotated in that session) or after the rotation. The
// lock is FOR NO KEY UPDATE, since the row is updated (last_refreshed_at):
// share locks would deadlock two rotations of one session that both want
// to upgrade theirs. A concurrent rotation of the same token waits for the
// session's row and then finds used_at set, so exactly one wins.
const rotateSQL = `WITH req AS (SELECT * FROM unnest($1::bytea[], $2::text[], $3::timestamptz[], $4::bytea[], $5::timestamptz[])
		WITH ORDINALITY AS q(old_hash, client_id, at, new_hash, new_expires, n)),
	t AS (SELECT q.n, r.hash, r.session_id, r.expires_at AS token_expires, r.used_at, s.created_at AS session_created, s.expires_at, s.revoked_at,
		s.client_id, s.scope, s.auth_time, s.amr, u.id, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at, u.version, u.must_change_password,
		r.used_at IS NULL AND r.expires_at > q.at AND s.revoked_at IS NULL AND s.expires_at > q.at AND NOT u.disabled
			AND s.client_id IS NOT DISTINCT FROM NULLIF(q.client_id, '') AS ok
		FROM req q JOIN refresh_tokens r ON r.hash = q.old_hash JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id),
	lk AS (SELECT id, expires_at FROM sessions WHERE revoked_at IS NULL AND id IN (SELECT session_id FROM t WHERE ok) ORDER BY id FOR NO KEY UPDATE),
	used AS (UPDATE refresh_tokens r SET used_at = q.at FROM t JOIN req q ON q.n = t.n
		WHERE r.hash = t.hash AND t.ok AND r.used_at IS NULL AND t.session_id IN (SELECT id FROM lk) RETURNING t.n, r.session_id),
	ins AS (INSERT INTO refresh_tokens (hash, session_id, expires_at)
		SELECT q.new_hash, u.session_id, LEAST(q.new_expires, lk.expires_at) FROM used u JOIN req q ON q.n = u.n JOIN lk ON lk.id = u.session_id),
	touch AS (UPDATE sessions s SET last_refreshed_at = q.at FROM used u JOIN req q ON q.n = u.n WHERE s.id = u.session_id)
	SELECT t.n, t.session_id IN (SELECT id FROM lk), t.n IN (SELECT n FROM used), t.hash, t.session_id, t.token_expires, t.used_at,
		t.session_created, t.expires_at, t.revoked_at, t.client_id, t.scope, t.auth_time, t.amr,
		t.id, t.name, t.role, t.password_hash, t.disabled, t.created_at, t.updated_at, t.version, t.must_change_password FROM t`

// dialect is PostgreSQL's for d. Times are TIMESTAMPTZ (microseconds).
// Every call gets d's deadline (bound). Under READ COMMITTED, the
// transactions that may remove an admin are serialised by an advisory
// lock per schema, and AddSigningKey locks its table.
func (d *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:      "postgres",
		Dollar:    true,
		Precision: time.Microsecond,
		Time:      func(t time.Time) any { return t },
		TimeType:  "TIMESTAMPTZ",
		ScanTime:  func(t *time.Time) any { return pgTime{t} },
		Wrap:      d.wrap,
		Bound:     d.bound,
		// PostgreSQL text cannot hold NUL or invalid UTF-8, so asking the
		// server about such a name would be an error, not "not found".
		ValidText: func(s string) bool { return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) },
		AdminLock: `SELECT pg_advisory_xact_lock(hashtextextended('jwtgate admins ' || current_schema(), 0))`,
		KeyLock:   `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`,
		RotateSQL: rotateSQL,
		Retry: func(err error) bool {
			var pe *pgconn.PgError
			return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") // deadlock, serialization failure
		},
		// The payload names the schema: instances on other schemas of the
		// database hear the channel too, and ignore it.
		NotifyRevoked: `SELECT pg_notify('` + revocationChannel + `', current_schema())`,
	}
}

// pgxQuerier is what a pgx pool and a pgx transaction have in common.
type pgxQuerier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// querier runs the store's statements on pgx directly.
type querier struct{ q pgxQuerier }

func (q querier) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (q querier) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return q.q.QueryRow(ctx, sql, args...)
}

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (q querier) Tx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return pgx.BeginFunc(ctx, q.q, func(tx pgx.Tx) error { return fn(querier{tx}) })
}

// pgTime scans a TIMESTAMPTZ, or NULL as the zero time, into *t in UTC,
// on pgx's binary path (a sql.Scanner would get a boxed copy).
type pgTime struct{ t *time.Time }

func (p pgTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	*p.t = time.Time{}
	if v.Valid {
		*p.t = v.Time.UTC()
	}
	return nil
}
