package auth_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// bgStore is a real SQLite store (through downStore, whose token lifetime
// writes can fail) whose revocation reads can fail too, and which counts
// lifetime writes and records the time of each purge.
type bgStore struct {
	*downStore
	revDown atomic.Bool
	records atomic.Int32 // RecordTokenLifetime calls, failed ones too

	mu     sync.Mutex
	purged []time.Time
}

func (s *bgStore) RevocationsSince(ctx context.Context, since, now time.Time) ([]auth.Revocation, error) {
	if s.revDown.Load() {
		return nil, fmt.Errorf("test: %w", auth.ErrUnavailable)
	}
	return s.downStore.RevocationsSince(ctx, since, now)
}

func (s *bgStore) RecordTokenLifetime(ctx context.Context, r auth.TokenLifetime) error {
	s.records.Add(1)
	return s.downStore.RecordTokenLifetime(ctx, r)
}

func (s *bgStore) PurgeExpired(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	s.purged = append(s.purged, now)
	s.mu.Unlock()
	return s.downStore.PurgeExpired(ctx, now)
}

func (s *bgStore) purges() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.purged...)
}

// bgRig is a Service with its keys in the store, as jwtgate serve keeps
// them, and its Background on a test clock.
type bgRig struct {
	t      *testing.T
	clock  *testutil.Clock
	start  time.Time
	store  *bgStore
	svc    *auth.Service
	logs   *testutil.LockedBuffer
	reload chan struct{}
	sync   chan struct{}
	loads  atomic.Int32 // LoadKeys calls by the Background
	loadMu sync.Mutex   // held by a test, it stops LoadKeys
	spoil  atomic.Bool  // LoadKeys returns the keys with a signing key that cannot sign
	wall   bool         // the Background waits on the wall clock, not on the test clock's timers

	auditRetention time.Duration // the Background's AuditRetention
}

// newRig makes the store with one signing key; start runs the Background.
func newRig(t *testing.T) *bgRig {
	t.Helper()
	start := time.Now().Truncate(time.Millisecond)
	r := &bgRig{t: t, clock: testutil.NewClock(start), start: start, logs: &testutil.LockedBuffer{}, reload: make(chan struct{}), sync: make(chan struct{}, 1)}
	r.store = &bgStore{downStore: &downStore{DB: openDB(t)}}
	if _, err := auth.EnsureSigningKey(ctx, r.store, start, func() (auth.StoredKey, error) {
		return auth.NewStoredKey(jwt.HS256, start)
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *bgRig) load(ctx context.Context, now time.Time) (*auth.KeySet, error) {
	r.loads.Add(1)
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	stored, err := r.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	ks, err := auth.BuildKeySet(stored, now)
	if err == nil && r.spoil.Load() {
		pub, perr := jwt.NewVerificationKey(jwt.EdDSA, ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
		if perr != nil {
			return nil, perr
		}
		ks.Signing = pub.WithKeyID(ks.Signing.KeyID())
	}
	return ks, err
}

// run starts the Background with these intervals and waits until it
// waits for the clock.
func (r *bgRig) run(poll, keyReload time.Duration) {
	t := r.t
	t.Helper()
	stored, err := r.store.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.BuildKeySet(stored, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: ks.Signing, VerifyKeys: ks.Verify, Issuer: "jwtgate", Audience: "jwtgate", TTL: time.Hour, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = &auth.Service{Store: r.store, Tokens: tk, Now: r.clock.Now, Log: slog.New(slog.NewTextHandler(r.logs, nil))}
	if err := r.svc.RecordTokenLifetime(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	bg := &auth.Background{Service: r.svc, Keys: ks, LoadKeys: r.load, RevocationPoll: poll, KeyReload: keyReload,
		Reload: r.reload, Sync: r.sync, Clock: r.clock, AuditRetention: r.auditRetention}
	if r.wall {
		bg.Clock = nil
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); bg.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if !r.wall {
		r.idle()
	}
}

// idle waits until the Background has done what was due and waits for
// the clock: then it holds the one timer.
func (r *bgRig) idle() {
	r.t.Helper()
	testutil.Eventually(r.t, 10*time.Second, "the background waiting for the clock", func() bool { return r.clock.Timers() == 1 })
}

// advance moves the clock by d and waits until the work due is done.
func (r *bgRig) advance(d time.Duration) {
	r.t.Helper()
	r.idle()
	r.clock.Advance(d)
	r.idle()
}

// logged counts the log lines that contain s.
func (r *bgRig) logged(s string) int { return strings.Count(r.logs.String(), s) }

// rotate makes a new active key, as `jwtgate key rotate` or another
// instance would, and returns Tokens that sign with it.
func (r *bgRig) rotate(grace time.Duration) *auth.Tokens {
	t := r.t
	t.Helper()
	if _, err := auth.RotateSigningKey(ctx, r.store, jwt.HS256, grace, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	stored, err := r.store.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.BuildKeySet(stored, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: ks.Signing, VerifyKeys: ks.Verify, Issuer: "jwtgate", Audience: "jwtgate", TTL: time.Hour, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (r *bgRig) signingKid() string { return r.svc.Tokens.SigningKey().KeyID() }

// A revocation made by another instance is enforced here at the next
// poll, not before; a failing poll is logged once until it works again,
// which is logged once too.
func TestBackgroundPollsRevocations(t *testing.T) {
	r := newRig(t)
	r.run(500*time.Millisecond, time.Hour)
	g, err := r.svc.StartSession(ctx, mkUser(t, r.store, "ann"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.Tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	other := &auth.Service{Store: r.store, Now: r.clock.Now, Log: slog.New(slog.DiscardHandler)}
	if err := other.Logout(ctx, p, false); err != nil {
		t.Fatal(err)
	}
	r.advance(499 * time.Millisecond)
	if _, err := r.svc.Tokens.Verify(g.AccessToken); err != nil {
		t.Fatalf("before the poll: %v, want the token accepted", err)
	}
	r.advance(time.Millisecond)
	if _, err := r.svc.Tokens.Verify(g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("after the poll: %v, want ErrRevoked", err)
	}

	const failed, works = "loading revocations failed", "loading revocations works again"
	r.store.revDown.Store(true)
	for range 3 {
		r.advance(500 * time.Millisecond)
	}
	if n, m := r.logged(failed), r.logged(works); n != 1 || m != 0 {
		t.Errorf("3 failed polls: %d failure and %d recovery lines, want 1 and 0:\n%s", n, m, r.logs)
	}
	r.store.revDown.Store(false)
	for range 3 {
		r.advance(500 * time.Millisecond)
	}
	if n, m := r.logged(failed), r.logged(works); n != 1 || m != 1 {
		t.Errorf("then 3 polls that work: %d failure and %d recovery lines, want 1 and 1:\n%s", n, m, r.logs)
	}
}

// A receive from Sync loads the revocations at once, long before the
// poll; the poll still runs on its schedule.
func TestBackgroundSyncsOnRequest(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, time.Hour)
	other := &auth.Service{Store: r.store, Now: r.clock.Now, Log: slog.New(slog.DiscardHandler)}
	logout := func() string {
		t.Helper()
		g, err := r.svc.StartSession(ctx, mkUser(t, r.store, fmt.Sprintf("u%d", r.clock.Now().UnixNano())))
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.svc.Tokens.Verify(g.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Logout(ctx, p, false); err != nil {
			t.Fatal(err)
		}
		return g.AccessToken
	}
	revoked := func(tok string) bool {
		_, err := r.svc.Tokens.Verify(tok)
		return errors.Is(err, auth.ErrRevoked)
	}

	tok := logout()
	r.advance(time.Minute)
	if revoked(tok) {
		t.Fatal("revoked elsewhere and seen here with neither a poll nor a sync")
	}
	r.sync <- struct{}{}
	testutil.Eventually(t, 10*time.Second, "the revocation loaded on Sync", func() bool { return revoked(tok) })

	tok = logout()
	r.advance(time.Hour - time.Minute)
	if !revoked(tok) {
		t.Fatal("the poll no longer runs after a Sync")
	}
}

// Without a Clock the Background reads the Service's Now and waits on the
// wall clock. A test that sets that Now by hand, and leaves it, still sees
// the polls: the schedule moves on by the waits.
func TestBackgroundWallTimersWithASetClock(t *testing.T) {
	r := newRig(t)
	r.wall = true
	r.run(5*time.Millisecond, time.Hour)
	g, err := r.svc.StartSession(ctx, mkUser(t, r.store, "ann"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.Tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	other := &auth.Service{Store: r.store, Now: r.clock.Now, Log: slog.New(slog.DiscardHandler)}
	if err := other.Logout(ctx, p, false); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the revocation polled", func() bool {
		_, err := r.svc.Tokens.Verify(g.AccessToken)
		return errors.Is(err, auth.ErrRevoked)
	})
}

// Every KeyReload the keys are read again; the Tokens get them only when
// they changed.
func TestBackgroundReloadsKeysPeriodically(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 10*time.Second)
	first := r.signingKid()
	r.advance(10 * time.Second)
	if n := r.loads.Load(); n != 1 {
		t.Fatalf("%d loads after one KeyReload, want 1", n)
	}
	if n := r.logged("keys reloaded"); n != 0 || r.signingKid() != first {
		t.Fatalf("unchanged keys: %d reloads logged, signing kid %s (was %s)", n, r.signingKid(), first)
	}
	tk := r.rotate(time.Hour)
	r.advance(9 * time.Second)
	if r.signingKid() != first {
		t.Fatal("keys reloaded before KeyReload")
	}
	r.advance(time.Second)
	if got, want := r.signingKid(), tk.SigningKey().KeyID(); got != want || r.logged("why=periodic") != 1 {
		t.Fatalf("after a rotation and KeyReload: signing kid %s, want %s; log:\n%s", got, want, r.logs)
	}
	if n := len(r.svc.Tokens.VerifyKeys()); n != 2 {
		t.Errorf("%d verify keys, want the new and the retiring one", n)
	}
	r.advance(10 * time.Second)
	if n, m := r.loads.Load(), r.logged("keys reloaded"); n != 3 || m != 1 {
		t.Errorf("another KeyReload: %d loads and %d reloads logged, want 3 and 1", n, m)
	}
}

// When a retired key's grace period ends the keys are reloaded without
// waiting for KeyReload, and the retired key stops verifying.
func TestBackgroundReloadsWhenGraceEnds(t *testing.T) {
	r := newRig(t)
	r.rotate(30 * time.Minute)
	r.run(time.Hour, 24*time.Hour)
	if n := len(r.svc.Tokens.VerifyKeys()); n != 2 {
		t.Fatalf("%d verify keys at the start, want 2", n)
	}
	r.advance(30*time.Minute - time.Millisecond)
	if n := r.loads.Load(); n != 0 {
		t.Fatalf("%d loads before the grace period ended", n)
	}
	r.advance(time.Millisecond)
	if n, keys := r.loads.Load(), len(r.svc.Tokens.VerifyKeys()); n != 1 || keys != 1 || r.logged(`why="grace period over"`) != 1 {
		t.Fatalf("at the end of the grace period: %d loads, %d verify keys, want 1 and 1; log:\n%s", n, keys, r.logs)
	}
	r.advance(time.Hour)
	if n := r.loads.Load(); n != 1 {
		t.Errorf("%d loads an hour later, want no more (KeyReload is a day)", n)
	}
}

// A token signed with a key this instance does not hold yet reloads the
// keys while its request waits, and is accepted; another within a second
// does not reload again.
func TestBackgroundReloadsOnUnknownKid(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 24*time.Hour)
	user := &auth.User{ID: 7, Name: "kim", Role: auth.RoleReader}
	issue := func(tk *auth.Tokens) string {
		t.Helper()
		tok, _, err := tk.Issue(user, "")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	second := issue(r.rotate(time.Hour))
	if _, err := r.svc.Tokens.Verify(second); err != nil {
		t.Fatalf("token of a rotated key: %v", err)
	}
	if n := r.loads.Load(); n != 1 || r.logged(`why="unknown kid"`) != 1 {
		t.Fatalf("%d loads, want 1; log:\n%s", n, r.logs)
	}
	third := issue(r.rotate(time.Hour))
	if _, err := r.svc.Tokens.Verify(third); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("another rotation within a second: %v, want ErrKeyNotFound", err)
	}
	if n := r.loads.Load(); n != 1 {
		t.Fatalf("%d loads within a second, want 1", n)
	}
	r.advance(time.Second)
	if _, err := r.svc.Tokens.Verify(third); err != nil || r.loads.Load() != 2 {
		t.Fatalf("a second later: %v after %d loads, want accepted after 2", err, r.loads.Load())
	}
}

// A request whose unknown kid reloads keys waits 2 s at most, however
// long the load takes.
func TestBackgroundUnknownKidWaitIsBounded(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 24*time.Hour)
	tok, _, err := r.rotate(time.Hour).Issue(&auth.User{ID: 7, Name: "kim", Role: auth.RoleReader}, "")
	if err != nil {
		t.Fatal(err)
	}
	r.loadMu.Lock()
	got := make(chan error, 1)
	go func() {
		_, err := r.svc.Tokens.Verify(tok)
		got <- err
	}()
	// The load has begun and the Background's own timer is stopped: the
	// one timer pending is the request's.
	testutil.Eventually(t, 10*time.Second, "a load under way and the request waiting", func() bool {
		return r.loads.Load() == 1 && r.clock.Timers() == 1
	})
	r.clock.Advance(2*time.Second - time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the request stopped waiting before 2s: %v", err)
	default:
	}
	r.clock.Advance(time.Millisecond)
	select {
	case err := <-got:
		if !errors.Is(err, jwt.ErrKeyNotFound) {
			t.Errorf("after 2s: %v, want ErrKeyNotFound", err)
		}
	case <-time.After(10 * time.Second): // real time: the request is stuck
		r.loadMu.Unlock()
		t.Fatal("the request still waits after 2s")
	}
	r.loadMu.Unlock()
	r.idle()
	if _, err := r.svc.Tokens.Verify(tok); err != nil {
		t.Errorf("once the load finished: %v", err)
	}
}

// Each receive from Reload (SIGHUP in jwtgate serve) reloads the keys.
func TestBackgroundReloadsOnRequest(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 24*time.Hour)
	for i := range 2 {
		want := r.rotate(time.Hour).SigningKey().KeyID()
		select {
		case r.reload <- struct{}{}:
		case <-time.After(10 * time.Second): // real time: nothing receives
			t.Fatal("the request to reload is not taken")
		}
		testutil.Eventually(t, 10*time.Second, "the reload logged", func() bool { return r.logged("why=requested") == i+1 })
		if got := r.signingKid(); got != want {
			t.Errorf("signing kid %s after the reload, want %s", got, want)
		}
	}
}

// Keys that Tokens refuses are not taken as current: the next reload of
// the same kids, now usable, is applied.
func TestBackgroundRetriesRefusedKeys(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 24*time.Hour)
	old := r.signingKid()
	want := r.rotate(time.Hour).SigningKey().KeyID()
	r.spoil.Store(true)
	r.reload <- struct{}{}
	testutil.Eventually(t, 10*time.Second, "the refusal logged", func() bool { return r.logged("new keys refused") == 1 })
	if got := r.signingKid(); got != old {
		t.Fatalf("signing kid %s after refused keys, want %s kept", got, old)
	}
	r.spoil.Store(false)
	r.reload <- struct{}{}
	testutil.Eventually(t, 10*time.Second, "the retried keys logged", func() bool { return r.logged("keys reloaded") == 1 })
	if got := r.signingKid(); got != want {
		t.Errorf("signing kid %s after the retry, want %s", got, want)
	}
}

// The token lifetime record is offered for renewal every minute: it is
// written when half its lease is gone, and tried every minute while the
// write fails.
func TestBackgroundRenewsTokenLifetime(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 24*time.Hour)
	if n := r.store.records.Load(); n != 1 {
		t.Fatalf("%d records written at the start, want 1", n)
	}
	for minute := 1; minute <= 5; minute++ {
		r.advance(time.Minute)
		want := int32(1)
		if minute == 5 {
			want = 2
		}
		if n := r.store.records.Load(); n != want {
			t.Fatalf("minute %d: %d records written, want %d", minute, n, want)
		}
	}
	r.advance(4 * time.Minute) // minute 9: the lease renewed at 5 has more than half left
	r.store.down.Store(true)
	for minute := 10; minute <= 12; minute++ {
		r.advance(time.Minute)
		if n, want := r.store.records.Load(), int32(minute-7); n != want {
			t.Fatalf("minute %d, the store down: %d writes tried, want %d", minute, n, want)
		}
	}
	if n := r.logged("renewing the token lifetime record failed"); n != 3 {
		t.Errorf("%d failures logged, want 3", n)
	}
}

// Expired rows are purged hourly, at the clock's time.
func TestBackgroundPurgesHourly(t *testing.T) {
	r := newRig(t)
	r.run(time.Hour, 24*time.Hour)
	r.advance(59 * time.Minute)
	if p := r.store.purges(); len(p) != 0 {
		t.Fatalf("purged before an hour: %v", p)
	}
	r.advance(time.Minute)
	r.advance(time.Hour)
	want := []time.Time{r.start.Add(time.Hour), r.start.Add(2 * time.Hour)}
	p := r.store.purges()
	if len(p) != 2 || !p[0].Equal(want[0]) || !p[1].Equal(want[1]) {
		t.Errorf("purges at %v, want %v", p, want)
	}
}

// Audit events older than the retention go with the hourly purge, at the
// clock's time; a retention of 0 keeps them.
func TestBackgroundPurgesOldAuditEvents(t *testing.T) {
	tests := []struct {
		retention          time.Duration
		afterOne, afterTwo []string // events left after one and two hours, newest first
	}{
		{48 * time.Hour, []string{"47h", "now"}, []string{"now"}},
		{0, []string{"47h", "49h", "72h", "now"}, []string{"47h", "49h", "72h", "now"}},
	}
	for _, tc := range tests {
		t.Run(tc.retention.String(), func(t *testing.T) {
			r := newRig(t)
			r.auditRetention = tc.retention
			for _, age := range []string{"now", "72h", "49h", "47h"} {
				d := time.Duration(0)
				if age != "now" {
					d, _ = time.ParseDuration(age)
				}
				if err := r.store.AddAuditEvent(ctx, &auth.AuditEvent{Time: r.start.Add(-d), Kind: auth.AuditLogout, Reason: age}); err != nil {
					t.Fatal(err)
				}
			}
			left := func() []string {
				es, err := r.store.AuditEvents(ctx, auth.AuditFilter{Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, e := range es {
					out = append(out, e.Reason)
				}
				return out
			}
			r.run(time.Hour, 24*time.Hour)
			r.advance(59 * time.Minute)
			if got := left(); len(got) != 4 {
				t.Fatalf("before the first purge: %v", got)
			}
			r.advance(time.Minute)
			if got := left(); !slices.Equal(got, tc.afterOne) {
				t.Errorf("after an hour: %v, want %v", got, tc.afterOne)
			}
			r.advance(time.Hour)
			if got := left(); !slices.Equal(got, tc.afterTwo) {
				t.Errorf("after two hours: %v, want %v", got, tc.afterTwo)
			}
		})
	}
}
