package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/buildinfo"
	"github.com/jwtgate/jwtgate/internal/metrics"
)

// newMetrics makes the server's metrics, and has keys report each key set
// it loads (for the signing key's age).
func newMetrics(svc *auth.Service, db store, cur *auth.KeySet, keys *keyring, bi buildinfo.Info, c *serveConfig) *metrics.Metrics {
	cfg := metrics.Config{Service: svc, Build: bi, Now: c.timeNow}
	if p, ok := db.(metrics.PoolStater); ok {
		cfg.Pool = p
	}
	m := metrics.New(cfg)
	m.KeysLoaded(cur)
	load := keys.load
	keys.load = func(ctx context.Context, now time.Time) (*auth.KeySet, error) {
		ks, err := load(ctx, now)
		if err == nil {
			m.KeysLoaded(ks)
		}
		return ks, err
	}
	return m
}

// serveMetrics serves GET /metrics on a listener of its own at addr, so
// that the public address never exposes it. stop closes it.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		// A scrape in progress is cut: it is cheap to repeat.
		srv.Close()
		<-done
	}, nil
}
