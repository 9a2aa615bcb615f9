package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// inflight counts the requests whose handlers are running, so that a
// shutdown that had to close connections can wait for those handlers to
// return before the database is closed under them.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil when nobody waits
}

func (f *inflight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		f.mu.Unlock()
		defer f.done()
		h.ServeHTTP(w, r)
	})
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

func (f *inflight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// wait returns when no handler runs, or with ctx's error.
func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdown stops srv within timeout. It stops accepting, then lets
// in-flight requests finish for nine tenths of the timeout; connections
// still busy then (a client trickling its body, which the 30 s read
// timeout alone would let run past any shutdown timeout) are closed, and
// the last tenth goes to their handlers unwinding. Cutting stragglers is
// the expected end of a timeout, not a failure: it is logged, and only a
// failure to stop listening is returned.
func shutdown(srv *http.Server, f *inflight, timeout time.Duration, log *slog.Logger) error {
	grace := timeout - timeout/10
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	busy := f.count()
	srv.Close() // closes every connection; their handlers' reads and writes fail
	ctx, cancel = context.WithTimeout(context.Background(), timeout-grace)
	defer cancel()
	if err := f.wait(ctx); err != nil {
		log.Warn("shutdown timeout: handlers still running; closing the database anyway",
			"timeout", timeout, "handlers", f.count())
		return nil
	}
	log.Warn("shutdown timeout: closed the connections of unfinished requests",
		"timeout", timeout, "requests", busy)
	return nil
}
