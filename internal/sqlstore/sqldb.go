package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// SQLDB is a DB on database/sql. On a pool (*sql.DB) it runs each query
// as a prepared statement, prepared once per query and connection: New
// prepares the store's fixed queries, others are prepared on first use
// outside a transaction. Inside a transaction a prepared statement is
// reused on the transaction's connection; a query not prepared yet runs
// unprepared, as preparing it on the pool would need a second connection.
// On one connection (*sql.Conn: the migrations) nothing is prepared:
// statements left prepared on it would outlive their one use.
type SQLDB struct {
	db    sqlConn
	pool  bool
	stmts sync.Map // query → *sql.Stmt
}

// sqlConn is what a *sql.DB and a *sql.Conn have in common.
type sqlConn interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// NewSQLDB returns db, a *sql.DB or a *sql.Conn, as a DB.
func NewSQLDB(db sqlConn) *SQLDB {
	_, pool := db.(*sql.DB)
	return &SQLDB{db: db, pool: pool}
}

// Prepare prepares query for later calls.
func (d *SQLDB) Prepare(ctx context.Context, query string) error {
	_, err := d.stmt(ctx, query)
	return err
}

func (d *SQLDB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := d.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if old, loaded := d.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

func rowsOf(r *sql.Rows, err error) (Rows, error) {
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *SQLDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	if !d.pool {
		return rowsOf(d.db.QueryContext(ctx, query, args...))
	}
	st, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return rowsOf(st.QueryContext(ctx, args...))
}

func (d *SQLDB) QueryRow(ctx context.Context, query string, args ...any) Row {
	if !d.pool {
		return d.db.QueryRowContext(ctx, query, args...)
	}
	st, err := d.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (d *SQLDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if !d.pool {
		return affected(d.db.ExecContext(ctx, query, args...))
	}
	st, err := d.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	return affected(st.ExecContext(ctx, args...))
}

// Tx runs fn in a transaction of the database's default kind (SQLite:
// as the DSN's _txlock says).
func (d *SQLDB) Tx(ctx context.Context, fn func(Querier) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(sqlTx{tx, d}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type sqlTx struct {
	tx *sql.Tx
	d  *SQLDB
}

// stmt returns the prepared statement for query on the transaction's
// connection, or nil.
func (t sqlTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.d.stmts.Load(query); ok {
		return t.tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	return nil
}

func (t sqlTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return rowsOf(st.QueryContext(ctx, args...))
	}
	return rowsOf(t.tx.QueryContext(ctx, query, args...))
}

func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if st := t.stmt(ctx, query); st != nil {
		return affected(st.ExecContext(ctx, args...))
	}
	return affected(t.tx.ExecContext(ctx, query, args...))
}
