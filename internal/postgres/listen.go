package postgres

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// revocationChannel is the channel on which the store's transactions that
// record revocations notify, with the schema as payload, on commit.
const revocationChannel = "jwtgate_revocations"

const (
	// listenIdle is how long the listening connection waits for a
	// notification before it checks that the server still answers: a
	// connection cut without a reset would otherwise wait for ever.
	listenIdle = 30 * time.Second
	// listenRetryMin and listenRetryMax bound the wait before
	// reconnecting, doubled after each failure.
	listenRetryMin = 500 * time.Millisecond
	listenRetryMax = 30 * time.Second
)

// ListenRevocations calls notify each time a process using the same
// schema commits revocations (a logout, a refresh token's reuse, a user
// change), until ctx ends. It holds a connection of its own, outside the
// pool. When that connection fails it reconnects, waiting 0.5 s, then
// twice as long after each failure up to 30 s, and calls notify once
// listening again: notifications sent meanwhile are lost. notify must not
// block for long; bursts are for the caller to coalesce. log gets a line
// when listening starts, when it fails, and when it works again.
func (d *DB) ListenRevocations(ctx context.Context, notify func(), log *slog.Logger) {
	retry := listenRetryMin
	first, failing := true, false
	for ctx.Err() == nil {
		err := d.listen(ctx, func() {
			if failing {
				log.Info("listening for revocations works again")
				failing = false
				notify()
			} else if first {
				log.Info("listening for revocations")
			}
			first, retry = false, listenRetryMin
		}, notify)
		if ctx.Err() != nil {
			return
		}
		if !failing {
			log.Warn("listening for revocations failed; the poll goes on, reconnecting", "err", err)
			failing = true
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		retry = min(2*retry, listenRetryMax)
	}
}

// listen connects, listens, calls listening once that works, then notify
// for each notification on the schema, until the connection fails or ctx
// ends.
func (d *DB) listen(ctx context.Context, listening, notify func()) error {
	cfg := d.pool.Config().ConnConfig.Copy()
	// Named apart from the pool's connections in pg_stat_activity.
	name := cfg.RuntimeParams["application_name"]
	if name == "" {
		name = "jwtgate"
	}
	cfg.RuntimeParams["application_name"] = name + " (revocations)"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return d.wrap("listen", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	var schema string
	err = func() error {
		ctx, done := d.bound(ctx)
		defer done()
		if _, err := conn.Exec(ctx, `LISTEN `+revocationChannel); err != nil {
			return err
		}
		return conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema)
	}()
	if err != nil {
		return d.wrap("listen", err)
	}
	listening()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n.Payload == schema {
				notify()
			}
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return d.wrap("listen", err)
		}
		// Nothing for a while: does the server still answer?
		pctx, done := d.bound(ctx)
		_, err = conn.Exec(pctx, `SELECT 1`)
		done()
		if err != nil {
			return d.wrap("listen", err)
		}
	}
}
