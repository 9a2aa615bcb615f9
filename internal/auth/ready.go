package auth

import (
	"context"
	"sync"
	"time"
)

// WriteChecker is implemented by stores that can tell whether they accept
// writes. Answering a read (Ping) is not enough: a full disk or a read-only
// database still answers reads while every login and logout fails.
type WriteChecker interface {
	// PingWrite commits a write that leaves no trace, and reports
	// ErrUnavailable when it cannot.
	PingWrite(ctx context.Context) error
}

// readyEvery is how long a successful write probe is trusted, so that a
// flood of readiness checks (the endpoint is public) costs at most one
// write a second; a failed probe is never reused.
const readyEvery = time.Second

// writeProbe runs a WriteChecker's probe one at a time, reusing a recent
// success.
type writeProbe struct {
	sem    chan struct{} // one probe at a time
	okOnce sync.Once
	mu     sync.Mutex
	okAt   time.Time
}

func (p *writeProbe) check(ctx context.Context, wc WriteChecker) error {
	p.okOnce.Do(func() { p.sem = make(chan struct{}, 1) })
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.sem }()
	p.mu.Lock()
	fresh := !p.okAt.IsZero() && time.Since(p.okAt) < readyEvery
	p.mu.Unlock()
	if fresh {
		return nil
	}
	if err := wc.PingWrite(ctx); err != nil {
		p.mu.Lock()
		p.okAt = time.Time{}
		p.mu.Unlock()
		return err
	}
	p.mu.Lock()
	p.okAt = time.Now()
	p.mu.Unlock()
	return nil
}
