// Package lograte is a slog.Handler that keeps a failure that repeats
// from flooding the log: while the database is down every request fails
// the same way, and a line per request once wrote tens of thousands of
// identical warnings in 30 seconds, burying everything else.
//
// Records at or above a level (Warn by default) are grouped by level,
// message and "err" attribute. The first record of a group is written at
// once; the others within the interval are counted, and when the interval
// ends the last of them is written with a "suppressed" attribute giving
// how many were held back (that line stands for them). A group quiet for a
// whole interval is forgotten, so its next record is written at once
// again. Records below the level (the access log) always pass.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Options configure a Handler.
type Options struct {
	// Every is the interval: at most one line per group at its start and
	// one at its end. Default 10 s.
	Every time.Duration
	// Level is the lowest level that is rate limited. Default slog.LevelWarn.
	Level slog.Leveler
	// MaxGroups bounds the groups held at once; records of further groups
	// pass unlimited (one line each). Default 1000.
	MaxGroups int
}

// Handler rate-limits repeated records; see the package doc.
type Handler struct {
	inner slog.Handler
	st    *state
}

// state is shared by a Handler and the handlers derived from it with
// WithAttrs and WithGroup, so that a failure counts as one group whichever
// logger wrote it.
type state struct {
	every     time.Duration
	level     slog.Leveler
	maxGroups int

	mu     sync.Mutex
	groups map[key]*group
}

type key struct {
	level slog.Level
	msg   string
	err   string
}

type group struct {
	suppressed int
	last       slog.Record  // the newest suppressed record
	lastH      slog.Handler // the inner handler that would have written it
}

// New returns a Handler writing to inner.
func New(inner slog.Handler, o Options) *Handler {
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.Level == nil {
		o.Level = slog.LevelWarn
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 1000
	}
	return &Handler{inner: inner, st: &state{every: o.Every, level: o.Level, maxGroups: o.MaxGroups, groups: map[key]*group{}}}
}

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{inner: h.inner.WithAttrs(as), st: h.st}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), st: h.st}
}

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	st := h.st
	if r.Level < st.level.Level() {
		return h.inner.Handle(ctx, r)
	}
	k := key{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			k.err = a.Value.String()
			return false
		}
		return true
	})
	st.mu.Lock()
	if g, ok := st.groups[k]; ok {
		g.suppressed++
		g.last, g.lastH = r.Clone(), h.inner
		st.mu.Unlock()
		return nil
	}
	if len(st.groups) < st.maxGroups {
		st.groups[k] = &group{}
		time.AfterFunc(st.every, func() { st.flush(k) })
	}
	st.mu.Unlock()
	return h.inner.Handle(ctx, r)
}

// flush ends k's interval: it writes the last suppressed record with the
// count and starts another interval, or forgets a group that was quiet.
func (st *state) flush(k key) {
	st.mu.Lock()
	g := st.groups[k]
	if g.suppressed == 0 {
		delete(st.groups, k)
		st.mu.Unlock()
		return
	}
	r, h, n := g.last, g.lastH, g.suppressed
	st.groups[k] = &group{}
	time.AfterFunc(st.every, func() { st.flush(k) })
	st.mu.Unlock()
	r.AddAttrs(slog.Int("suppressed", n), slog.Duration("interval", st.every))
	h.Handle(context.Background(), r)
}

// Flush writes the pending count of every group, as if its interval had
// ended; call it before exiting so that no count is lost.
func (h *Handler) Flush() {
	st := h.st
	st.mu.Lock()
	type pending struct {
		r slog.Record
		h slog.Handler
		n int
	}
	var out []pending
	for _, g := range st.groups {
		if g.suppressed > 0 {
			out = append(out, pending{g.last, g.lastH, g.suppressed})
			g.suppressed = 0
		}
	}
	st.mu.Unlock()
	for _, p := range out {
		p.r.AddAttrs(slog.Int("suppressed", p.n), slog.Duration("interval", st.every))
		p.h.Handle(context.Background(), p.r)
	}
}
