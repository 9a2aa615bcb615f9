// Package sqlstore is jwtgate's one implementation of auth.Store over SQL,
// shared by the sqlite and postgres packages. Each query and method body
// is written once, in PostgreSQL's syntax with ? placeholders; a Dialect
// says what differs: placeholders, the encoding of times, the mapping of
// driver errors to auth's sentinels, the per-call deadline, and the locks
// PostgreSQL needs where SQLite's single writer serialises by itself.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Row is one result row.
type Row interface{ Scan(dest ...any) error }

// Rows iterates over a query's result; the caller closes it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Querier runs statements, on a pool or inside a transaction.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Exec returns the number of rows affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
}

// DB is a connection pool: a Querier that also runs transactions.
type DB interface {
	Querier
	// Tx runs fn in a transaction and commits it, or rolls it back when
	// fn or the commit fails.
	Tx(ctx context.Context, fn func(Querier) error) error
}

// Dialect is what one database does differently.
type Dialect struct {
	// Name prefixes error texts ("sqlite", "postgres").
	Name string
	// Dollar numbers the placeholders $1, $2, ... instead of ?.
	Dollar bool
	// Replace rewrites PostgreSQL-only syntax (GREATEST, row locks,
	// COLLATE "C") for the database, or is nil.
	Replace *strings.Replacer
	// Precision is that of stored times: new rows' times are truncated
	// to it, and an expiry rounded up.
	Precision time.Duration
	// Time encodes a time as stored, in a column of type TimeType.
	Time     func(time.Time) any
	TimeType string
	// ScanTime, if not nil, returns the Scan destination that reads a
	// stored time, or NULL as the zero time, into *t, in UTC. Without it
	// times are scanned by timeCol.
	ScanTime func(t *time.Time) any
	// Wrap maps a driver error to auth's sentinels; op names the
	// operation. It is never given nil nor an error that already wraps a
	// sentinel.
	Wrap func(op string, err error) error
	// Bound, if not nil, gives each call's database work its deadline;
	// done is called when that work is over.
	Bound func(context.Context) (_ context.Context, done context.CancelFunc)
	// ValidText, if not nil, reports whether a name can be stored at all:
	// lookups of other names are auth.ErrNotFound without a query.
	ValidText func(string) bool
	// AdminLock, if not empty, is run first by each transaction that may
	// demote, disable or delete an admin, to serialise them.
	AdminLock string
	// KeyLock, if not empty, is run first by AddSigningKey, so that
	// onlyIfNone holds across writers.
	KeyLock string
	// CheckMigration, if not nil, runs in each migration's transaction
	// after its SQL; an error rolls the migration back.
	CheckMigration func(context.Context, Querier) error
	// RotateSQL, if not empty, rotates a batch of refresh tokens in one
	// statement (see RotateRefreshToken). It is given five arrays, one
	// element per rotation: the old hashes, the client ids ("" for
	// jwtgate's own sessions), the times now, the new hashes and their
	// expiries; the old hashes are distinct. For each old token found it
	// returns a row: the rotation's 1-based position, whether the
	// token's session was locked for it, whether the token was rotated,
	// and the columns of qRefreshToken as read.
	RotateSQL string
	// Retry, if not nil, reports whether a failed statement was rolled
	// back for a reason that running it again may not meet (a deadlock);
	// RotateSQL's batches are run up to three times.
	Retry func(error) bool
	// NotifyRevoked, if not empty, is run by each transaction that
	// records revocations, after them: PostgreSQL's pg_notify, which other
	// instances hear when, and only if, the transaction commits.
	NotifyRevoked string
}

// Store implements auth.Store (with auth.TokenLifetimeStore and
// auth.WriteChecker) on db.
type Store struct {
	db   DB
	d    Dialect
	sql  sync.Map // query as written → query for the database
	rots rotations
}

// New returns a Store on db. If db can prepare statements
// (Prepare(ctx, query) error), New prepares every fixed query the store
// runs, so that none is compiled per call.
func New(ctx context.Context, db DB, d Dialect) (*Store, error) {
	s := &Store{db: db, d: d}
	if p, ok := db.(interface {
		Prepare(context.Context, string) error
	}); ok {
		for _, q := range queries {
			if err := p.Prepare(ctx, s.rebind(q)); err != nil {
				return nil, s.wrap("prepare", err)
			}
		}
	}
	return s, nil
}

// rebind returns q as the database reads it, computed once per query.
func (s *Store) rebind(q string) string {
	if v, ok := s.sql.Load(q); ok {
		return v.(string)
	}
	out := q
	if s.d.Replace != nil {
		out = s.d.Replace.Replace(out)
	}
	if s.d.Dollar {
		var b strings.Builder
		n := 0
		for i := 0; i < len(out); i++ {
			if out[i] == '?' {
				n++
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
				continue
			}
			b.WriteByte(out[i])
		}
		out = b.String()
	}
	s.sql.Store(q, out)
	return out
}

func (s *Store) query(ctx context.Context, q Querier, query string, args ...any) (Rows, error) {
	return q.Query(ctx, s.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q Querier, query string, args ...any) Row {
	return q.QueryRow(ctx, s.rebind(query), args...)
}

func (s *Store) exec(ctx context.Context, q Querier, query string, args ...any) (int64, error) {
	return q.Exec(ctx, s.rebind(query), args...)
}

func noop() {}

// bound gives ctx the dialect's per-call deadline.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.d.Bound == nil {
		return ctx, noop
	}
	return s.d.Bound(ctx)
}

// tx runs fn in a transaction within one bound; fn must use the ctx it is
// given.
func (s *Store) tx(ctx context.Context, op string, fn func(context.Context, Querier) error) error {
	ctx, done := s.bound(ctx)
	defer done()
	return s.wrap(op, s.db.Tx(ctx, func(q Querier) error { return fn(ctx, q) }))
}

// wrap maps err to auth's sentinels through the dialect; errors that
// already wrap one pass unchanged.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{auth.ErrNotFound, auth.ErrConflict, auth.ErrInvalid, auth.ErrUnavailable, auth.ErrStale, auth.ErrForbidden} {
		if errors.Is(err, e) {
			return err
		}
	}
	return s.d.Wrap(op, err)
}

func (s *Store) errorf(op, format string, args ...any) error {
	return fmt.Errorf(s.d.Name+": "+op+": "+format, args...)
}

// now is the time stored for new rows, at the database's precision.
func (s *Store) now() time.Time { return time.Now().UTC().Truncate(s.d.Precision) }

// t encodes a time as stored.
func (s *Store) t(t time.Time) any { return s.d.Time(t) }

// tc returns the Scan destination of a time column.
func (s *Store) tc(t *time.Time) any {
	if s.d.ScanTime != nil {
		return s.d.ScanTime(t)
	}
	return timeCol{t}
}

// timeCol scans a stored time into *t, in UTC: SQLite's Unix milliseconds
// or PostgreSQL's TIMESTAMPTZ; NULL is the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMilli(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("a time column holds a %T", v)
	}
	return nil
}

// collect reads every row of rows with scan, wrapping errors as op.
func collect[T any](s *Store, op string, rows Rows, err error, scan func(Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}
