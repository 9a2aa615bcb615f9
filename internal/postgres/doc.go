// Package postgres is the PostgreSQL implementation of auth.Store, for
// several jwtgate instances sharing one database. The queries and method
// bodies are internal/sqlstore's; this package opens the database, runs
// the migrations and gives sqlstore PostgreSQL's dialect. Statements run
// on jackc/pgx/v5's connection pool directly (no database/sql layer), and
// pgx prepares each once per connection (its statement cache).
//
// Open applies the embedded migrations (package migrations, the same
// numbered set as SQLite's) under a PostgreSQL advisory lock, so instances
// starting together do not race: the first applies them, the others wait
// and find them done. Each migration runs in its own transaction.
//
// Errors map to the domain's sentinels: no row → auth.ErrNotFound; a unique
// violation → auth.ErrConflict; a foreign-key, check or not-null violation →
// auth.ErrInvalid; anything that is not an error reported by the server for
// the statement (refused or broken connections, a server shutting down, a
// closed pool) → auth.ErrUnavailable; a cancelled context →
// context.Canceled. Every method but Close bounds its database work (waiting
// for a connection, connecting, the queries, a whole transaction) to 5
// seconds, or the caller's deadline if sooner, so a server or network that
// stops answering without closing the connections cannot hang a request: a
// passed deadline, the store's or the caller's, → auth.ErrUnavailable, still
// matching context.DeadlineExceeded. Open's migrations are the exception
// (see Open). The pool reconnects by itself once the server is back.
//
// Times are TIMESTAMPTZ (microseconds); the tables live in the schema the
// connection's search_path names, so one database can host several
// independent jwtgate data sets (the tests use a schema per test).
package postgres
