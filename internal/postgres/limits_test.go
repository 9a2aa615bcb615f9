package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// storedKeys returns the keys of the login_limits rows of the schema.
func storedKeys(t *testing.T, dbURL string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT key FROM login_limits ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Two instances on one database share a limit's burst, a refund and the
// refill; keys do not share buckets; the table holds no key in clear.
func TestLoginLimitShared(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	a, b := open(t, u), open(t, u)
	c := testutil.NewClock(time.Unix(1_700_000_000, 0))
	la, lb := a.LoginLimit("ip", time.Minute, 3), b.LoginLimit("ip", time.Minute, 3)
	la.Now, lb.Now = c.Now, c.Now
	const addr = "203.0.113.5"
	spend := func(l *postgres.LoginLimit, key string) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := l.Spend(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}

	for i, l := range []*postgres.LoginLimit{la, lb, la} {
		if ok, _ := spend(l, addr); !ok {
			t.Fatalf("attempt %d of the burst of 3 refused", i+1)
		}
	}
	for _, l := range []*postgres.LoginLimit{la, lb} {
		if ok, wait := spend(l, addr); ok || wait != time.Minute {
			t.Fatalf("4th attempt: %v, wait %v; want refused, a minute", ok, wait)
		}
	}
	if ok, _ := spend(la, "198.51.100.7"); !ok {
		t.Fatal("another key refused: buckets are shared between keys")
	}
	if err := lb.Refund(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if ok, _ := spend(la, addr); !ok {
		t.Fatal("the attempt B gave back is refused on A")
	}
	c.Advance(30 * time.Second)
	if ok, wait := spend(lb, addr); ok || wait != 30*time.Second {
		t.Fatalf("half a refill later: %v, wait %v; want refused, 30s", ok, wait)
	}
	c.Advance(30 * time.Second)
	if ok, _ := spend(lb, addr); !ok {
		t.Fatal("a full refill later: refused")
	}

	keys := storedKeys(t, u)
	if len(keys) != 2 {
		t.Fatalf("stored keys %q, want 2", keys)
	}
	for _, k := range keys {
		if len(k) > 64 || !strings.HasPrefix(k, "ip:") || strings.Contains(k, "203.0.113") || strings.Contains(k, "198.51.100") {
			t.Errorf("stored key %q: want ip: and a hash, at most 64 characters", k)
		}
	}
}

// Concurrent attempts from two instances never overdraw the burst.
func TestLoginLimitConcurrent(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	dbs := []*postgres.DB{open(t, u), open(t, u)}
	const burst, tries = 5, 40
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := dbs[i%2].LoginLimit("user", time.Hour, burst).Spend(ctx, "ann")
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := granted.Load(); n != burst {
		t.Fatalf("%d of %d concurrent attempts granted, want the burst, %d", n, tries, burst)
	}
}

// Without Now the buckets run on the database's clock; a disabled limit
// grants everything without a query.
func TestLoginLimitDatabaseClock(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.URL(t))
	l := db.LoginLimit("net", time.Hour, 2)
	for i, want := range []bool{true, true, false} {
		ok, wait, err := l.Spend(ctx, "k")
		if err != nil || ok != want || (!ok && (wait < 59*time.Minute || wait > time.Hour)) {
			t.Fatalf("attempt %d: %v, %v, %v; want %v", i+1, ok, wait, err, want)
		}
	}
	db.Close()
	for _, off := range []*postgres.LoginLimit{db.LoginLimit("x", 0, 5), db.LoginLimit("x", time.Second, 0)} {
		if ok, _, err := off.Spend(ctx, "k"); !ok || err != nil {
			t.Errorf("disabled limit: %v, %v; want granted", ok, err)
		}
	}
}

// A limit whose database is down refuses with auth.ErrUnavailable: the
// login fails closed.
func TestLoginLimitFailsClosed(t *testing.T) {
	ctx := context.Background()
	base, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, base.Host)
	base.Host = proxy.Addr()
	db := open(t, base.String())
	l := db.LoginLimit("ip", time.Hour, 5)
	if ok, _, err := l.Spend(ctx, "k"); !ok || err != nil {
		t.Fatalf("database up: %v, %v", ok, err)
	}
	proxy.Cut()
	ok, _, err := l.Spend(ctx, "k")
	if ok || !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("database down: %v, %v; want refused with ErrUnavailable", ok, err)
	}
	if err := l.Refund(ctx, "k"); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Refund with the database down: %v, want ErrUnavailable", err)
	}
}

// The hourly purge deletes a bucket once it is full again, not before.
func TestLoginLimitPurge(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	db := open(t, u)
	start := time.Unix(1_700_000_000, 0)
	l := db.LoginLimit("ip", time.Minute, 3)
	l.Now = func() time.Time { return start }
	for range 2 {
		if _, _, err := l.Spend(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	// Two spent: full again two minutes later.
	if err := db.PurgeExpired(ctx, start.Add(2*time.Minute-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(storedKeys(t, u)); n != 1 {
		t.Fatalf("purged before the bucket was full: %d rows", n)
	}
	if err := db.PurgeExpired(ctx, start.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(storedKeys(t, u)); n != 0 {
		t.Fatalf("a full bucket kept by the purge: %d rows", n)
	}
}

// ListenRevocations hears revocations committed on its schema by another
// process, not those of another schema; after its connection breaks it
// reconnects and calls notify, since it may have missed some.
func TestListenRevocations(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	base, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, base.Host)
	base.Host = proxy.Addr()
	listener := open(t, base.String())
	writer, elsewhere := open(t, u), open(t, pgtest.URL(t))

	heard := make(chan struct{}, 16)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		listener.ListenRevocations(lctx, func() { heard <- struct{}{} }, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done })

	revoke := func(db *postgres.DB) {
		t.Helper()
		now := time.Now()
		if err := db.Revoke(ctx, auth.Revoke{TokenIDs: []string{"jti-" + now.String()}, At: now, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-heard:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: not heard within 10s", what)
		}
	}
	// LISTEN runs once the goroutine has connected: revoke until heard.
	testutil.Eventually(t, 10*time.Second, "listening", func() bool {
		revoke(writer)
		select {
		case <-heard:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	})
	for len(heard) > 0 {
		<-heard
	}
	revoke(elsewhere)
	revoke(writer)
	wait("a revocation on the schema")
	if len(heard) != 0 {
		t.Fatalf("heard %d more: another schema's revocation, or one twice", len(heard))
	}

	proxy.Cut()
	proxy.Restore()
	wait("the reconnection")
	revoke(writer)
	wait("a revocation after reconnecting")
}
