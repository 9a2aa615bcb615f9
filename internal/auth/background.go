package auth

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Clock is the time that background work reads and waits on. A test clock
// whose timers fire as the test moves it (testutil.Clock) drives that work
// without sleeping.
type Clock interface {
	Now() time.Time
	// Timer is time.NewTimer on this clock: the channel receives once d
	// has passed; the func stops the timer.
	Timer(d time.Duration) (<-chan time.Time, func() bool)
}

// wallTimers is a Clock that reads now and waits on the wall clock.
type wallTimers struct{ now func() time.Time }

func (w wallTimers) Now() time.Time { return w.now() }

func (wallTimers) Timer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

const (
	// lifetimeRenewal is how often the token lifetime record is offered
	// for renewal; RenewTokenLifetime writes only when half its lease is
	// gone, so a record never lapses while the server runs.
	lifetimeRenewal = time.Minute
	// purgeInterval is how often expired rows are deleted.
	purgeInterval = time.Hour
	// unknownKidEvery bounds how often tokens naming a kid this server
	// does not hold reload the keys.
	unknownKidEvery = time.Second
	// unknownKidWait bounds how long such a token's request waits for the
	// reload it triggered.
	unknownKidWait = 2 * time.Second
)

// Background is the work of a server besides answering requests. Run
// loads the revocations made elsewhere every RevocationPoll (so a logout
// on another instance is enforced here within about that long); reloads
// the keys every KeyReload, on each receive from Reload, when a retired
// key's grace period ends (KeySet.NextChange) and when a token names a
// kid the Service's Tokens do not hold (at most once a second, while that
// request waits up to 2 s, so that a token signed by an instance that
// rotated first is accepted); renews the Service's token lifetime record
// every minute; and purges expired rows, and audit events older than
// AuditRetention, hourly.
type Background struct {
	// Service is whose revocations, keys and lifetime record are kept, on
	// its Store.
	Service *Service
	// Keys is the key set the Service's Tokens hold when Run starts.
	Keys *KeySet
	// LoadKeys returns the key set in force at now, for example
	// BuildKeySet of a KeyStore's keys; the Service's Tokens get it when
	// it changes. nil: the keys never change.
	LoadKeys       func(ctx context.Context, now time.Time) (*KeySet, error)
	RevocationPoll time.Duration // 0: revocations are not polled
	KeyReload      time.Duration // 0: keys are not reloaded periodically
	// Reload asks for a key reload at once (a server feeds it from
	// SIGHUP); nil: never.
	Reload <-chan struct{}
	// Sync asks for the revocations at once (a server on PostgreSQL feeds
	// it from the notifications of other instances' revocations); the
	// poll goes on as the safety net. nil: only the poll.
	Sync <-chan struct{}
	// Clock is the time of the work and of its waits; it should read the
	// Service's Now. nil: the Service's Now, waiting on the wall clock.
	Clock Clock
	Log   *slog.Logger // nil: the Service's Log
	// AuditRetention is how long audit events are kept (see
	// DefaultAuditRetention); 0 keeps them forever.
	AuditRetention time.Duration
}

// job is one kind of periodic work of Background.Run.
type job struct {
	every time.Duration // 0: runs once when due
	due   time.Time     // zero: not scheduled
	run   func()
}

// Run does the work until ctx ends.
func (b *Background) Run(ctx context.Context) {
	svc := b.Service
	clk := b.Clock
	if clk == nil {
		clk = wallTimers{svc.now}
	}
	log := b.Log
	if log == nil {
		log = svc.log()
	}
	now := clk.Now()
	at := func(every time.Duration) time.Time {
		if every <= 0 {
			return time.Time{}
		}
		return now.Add(every)
	}

	cur := b.Keys
	retire := &job{}
	if cur != nil {
		retire.due = cur.NextChange
	}
	reload := func(why string) {
		if b.LoadKeys == nil || svc.Tokens == nil {
			return
		}
		next, err := b.LoadKeys(ctx, clk.Now())
		if err != nil {
			log.Warn("key reload failed; keeping the current keys", "why", why, "err", err)
			return
		}
		changed := cur == nil || !sameKeys(cur, next)
		if changed {
			// Refused keys are not taken as current: the next reload
			// tries them again.
			if err := svc.Tokens.SetKeys(next.Signing, next.Verify); err != nil {
				log.Error("new keys refused; keeping the current keys", "err", err)
				return
			}
		}
		cur = next
		// A NextChange already past would reload at once, and again: the
		// periodic reload drops that key instead.
		retire.due = time.Time{}
		if next.NextChange.After(now) {
			retire.due = next.NextChange
		}
		if !changed {
			return
		}
		var kids []string
		for _, k := range next.Verify {
			kids = append(kids, k.KeyID())
		}
		log.Info("keys reloaded", "why", why, "signing_kid", next.Signing.KeyID(), "alg", next.Signing.Algorithm(), "verify_kids", strings.Join(kids, ","))
	}
	retire.run = func() { reload("grace period over") }

	// A token with a kid we do not hold may come from an instance that
	// already rotated: reload at once, while the request waits so that it
	// can be accepted. Requests that meet the limit, or a full queue, are
	// answered with the keys as they are.
	kick := make(chan chan struct{}, 64)
	if b.LoadKeys != nil && svc.Tokens != nil {
		svc.Tokens.OnUnknownKey(func() {
			done := make(chan struct{})
			select {
			case kick <- done:
			default:
				return
			}
			wait, stop := clk.Timer(unknownKidWait)
			defer stop()
			select {
			case <-done:
			case <-wait:
			case <-ctx.Done():
			}
		})
	}
	var lastKick time.Time

	revFailing := false
	jobs := []*job{
		{every: b.RevocationPoll, due: at(b.RevocationPoll), run: func() {
			err := svc.SyncRevocations(ctx)
			if err != nil && !revFailing && ctx.Err() == nil {
				log.Warn("loading revocations failed; retrying", "err", err)
			} else if err == nil && revFailing {
				log.Info("loading revocations works again")
			}
			revFailing = err != nil
		}},
		{every: b.KeyReload, due: at(b.KeyReload), run: func() { reload("periodic") }},
		retire,
		{every: lifetimeRenewal, due: at(lifetimeRenewal), run: func() {
			if err := svc.RenewTokenLifetime(ctx); err != nil && ctx.Err() == nil {
				log.Warn("renewing the token lifetime record failed; retrying", "err", err)
			}
		}},
		{every: purgeInterval, due: at(purgeInterval), run: func() {
			if err := svc.Store.PurgeExpired(ctx, clk.Now()); err != nil && ctx.Err() == nil {
				log.Warn("purging expired sessions failed", "err", err)
			}
			if as, ok := svc.Store.(AuditStore); ok && b.AuditRetention > 0 {
				n, err := as.PurgeAudit(ctx, clk.Now().Add(-b.AuditRetention))
				if err != nil && ctx.Err() == nil {
					log.Warn("purging old audit events failed", "err", err)
				} else if n > 0 {
					log.Info("old audit events purged", "count", n, "retention", b.AuditRetention)
				}
			}
		}},
	}

	revocations := jobs[0] // the poll's work, also done on Sync

	for {
		now = later(clk.Now(), now)
		var next time.Time
		for _, j := range jobs {
			if !j.due.IsZero() && (next.IsZero() || j.due.Before(next)) {
				next = j.due
			}
		}
		var wake <-chan time.Time
		stop := func() bool { return false }
		if !next.IsZero() {
			wake, stop = clk.Timer(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			stop()
			return
		case <-wake:
			// The work's time is at least the deadline it waited for,
			// even on a clock whose Now does not follow its timers (a test
			// that sets Now by hand while waits are real).
			now = later(clk.Now(), next)
		case <-b.Reload:
			stop()
			now = later(clk.Now(), now)
			reload("requested")
		case <-b.Sync:
			stop()
			now = later(clk.Now(), now)
			revocations.run()
		case done := <-kick:
			stop()
			now = later(clk.Now(), now)
			if lastKick.IsZero() || now.Sub(lastKick) >= unknownKidEvery {
				lastKick = now
				reload("unknown kid")
			}
			close(done)
			for len(kick) > 0 { // those who waited meanwhile see the same reload
				close(<-kick)
			}
		}
		for _, j := range jobs {
			if j.due.IsZero() || j.due.After(now) {
				continue
			}
			j.due = at(j.every)
			j.run()
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sameKeys compares key sets by signing kid and verify kids.
func sameKeys(a, b *KeySet) bool {
	ids := func(s *KeySet) []string {
		out := []string{s.Signing.KeyID()}
		for _, k := range s.Verify {
			out = append(out, k.KeyID())
		}
		return out
	}
	return slices.Equal(ids(a), ids(b))
}
