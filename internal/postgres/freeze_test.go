package postgres

// An internal test: it sets DB.timeout, which has no public setter.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
)

// answerWithin runs call and returns its duration and error; if call has
// not returned after hang, the test fails there: the store hangs, the bug
// the deadline exists for.
func answerWithin(t *testing.T, what string, hang time.Duration, call func() error) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	ch := make(chan error, 1)
	go func() { ch <- call() }()
	select {
	case err := <-ch:
		return time.Since(start), err
	case <-time.After(hang):
		t.Fatalf("%s: no answer after %v while the database is frozen: the store hangs", what, hang)
		return 0, nil
	}
}

// TestFrozenServer freezes the network to PostgreSQL with connections
// pooled: store calls, plain and transactional, on pooled connections and
// on new ones, fail within the store's deadline with an error that is
// auth.ErrUnavailable and context.DeadlineExceeded (a cancelled caller
// gets context.Canceled), nothing is half-written, and once the network
// is back the store works again by itself.
func TestFrozenServer(t *testing.T) {
	const (
		timeout = 100 * time.Millisecond
		// What each call may take while frozen: the deadline, plus room
		// for a busy machine's late timers and scheduling. Far below
		// defaultTimeout and the connect timeout (5 s), so a call that
		// some other bound ended still fails.
		limit = timeout + time.Second
		hang  = 5 * time.Second // far beyond: the call hangs
		conns = 4
	)
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	ctx := context.Background()
	d, err := Open(ctx, u.String(), conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	t.Cleanup(proxy.Unfreeze) // runs first: let Close say goodbye

	usr := &auth.User{Name: "frida", Role: auth.RoleEditor, PasswordHash: "x"}
	if err := d.CreateUser(ctx, usr); err != nil {
		t.Fatal(err)
	}
	at := now()
	sess := &auth.Session{ID: "sess-1", UserID: usr.ID, UserVersion: usr.Version, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	first := &auth.RefreshToken{Hash: []byte("first-token-hash"), SessionID: sess.ID, ExpiresAt: at.Add(time.Hour)}
	if err := d.CreateSession(ctx, sess, first); err != nil {
		t.Fatal(err)
	}
	next := &auth.RefreshToken{Hash: []byte("next-token-hash"), SessionID: sess.ID, ExpiresAt: at.Add(time.Hour)}
	revoke := auth.Revoke{SessionID: sess.ID, At: at, Until: at.Add(time.Hour)}

	// Fill the pool: conns open, idle connections, each known to work.
	var held []interface{ Release() }
	for range conns {
		c, err := d.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	if _, err := d.UserByName(ctx, "frida"); err != nil {
		t.Fatal(err)
	}
	if idle := d.pool.Stat().IdleConns(); idle != conns {
		t.Fatalf("%d idle connections before the freeze, want %d", idle, conns)
	}

	unavailable := func(what string, call func() error) {
		t.Helper()
		took, err := answerWithin(t, what, hang, call)
		if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s while frozen: %v, want auth.ErrUnavailable and context.DeadlineExceeded", what, err)
		}
		if took > limit {
			t.Errorf("%s while frozen took %v, want at most %v (deadline %v)", what, took, limit, timeout)
		}
	}

	// The short deadline for the frozen calls only: on a busy machine a
	// call that connects anew can take longer. No call is running.
	d.timeout = timeout
	proxy.Freeze()
	before := d.pool.Stat().NewConnsCount()
	// On the pooled connections: the hang reported.
	unavailable("UserByName", func() error { _, err := d.UserByName(ctx, "frida"); return err })
	unavailable("RotateRefreshToken", func() error { _, _, err := d.RotateRefreshToken(ctx, first.Hash, "", now(), next); return err })
	unavailable("Revoke", func() error { return d.Revoke(ctx, revoke) })
	unavailable("RefreshToken", func() error { _, _, err := d.RefreshToken(ctx, first.Hash); return err })
	// (The proxy sees more connections: pgx's cancel requests.)
	if n := d.pool.Stat().NewConnsCount() - before; n != 0 {
		t.Errorf("the calls opened %d new connections, want them all on pooled ones", n)
	}
	// The pool dropped those; now new connections, which hang in the
	// startup exchange.
	unavailable("ListPosts (new connection)", func() error { _, err := d.ListPosts(ctx, 10, 0); return err })
	unavailable("CreateUser (new connection)", func() error {
		return d.CreateUser(ctx, &auth.User{Name: "never", Role: auth.RoleReader, PasswordHash: "x"})
	})
	unavailable("Ping (new connection)", func() error { return d.Ping(ctx) })
	// The caller's own, shorter, deadline counts the same.
	unavailable("Ping with a 50ms deadline", func() error {
		c, cancel := context.WithTimeout(ctx, timeout/2)
		defer cancel()
		return d.Ping(c)
	})
	// A caller that goes away is not the database's fault.
	took, err := answerWithin(t, "cancelled UserByName", hang, func() error {
		c, cancel := context.WithCancel(ctx)
		time.AfterFunc(timeout/2, cancel)
		_, err := d.UserByName(c, "frida")
		return err
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("UserByName cancelled while frozen: %v, want context.Canceled only", err)
	}
	if took > limit {
		t.Errorf("cancelled UserByName took %v", took)
	}

	proxy.Unfreeze()
	// The calls below check that the store recovers and kept nothing
	// half-done; each waits for its answer as long as a server's store
	// would. Every call that read d.timeout has returned.
	d.timeout = defaultTimeout
	// Back by itself, with nothing half-done: the refused rotation and
	// revocation did not happen.
	rt, s, err := d.RefreshToken(ctx, first.Hash)
	if err != nil {
		t.Fatalf("RefreshToken after the freeze: %v", err)
	}
	if !rt.UsedAt.IsZero() || !s.RevokedAt.IsZero() {
		t.Fatalf("after the freeze the token is used at %v, the session revoked at %v: a refused write happened", rt.UsedAt, s.RevokedAt)
	}
	if _, _, err := d.RotateRefreshToken(ctx, first.Hash, "", now(), next); err != nil {
		t.Fatalf("RotateRefreshToken after the freeze: %v", err)
	}
	if err := d.Revoke(ctx, revoke); err != nil {
		t.Fatalf("Revoke after the freeze: %v", err)
	}
	if got, err := d.UserByName(ctx, "frida"); err != nil || got.ID != usr.ID {
		t.Fatalf("UserByName after the freeze: %+v, %v", got, err)
	}
	if _, err := d.UserByName(ctx, "never"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("the user created while frozen: %v, want ErrNotFound", err)
	}
}

// bound adds the store's deadline only when the caller's is later.
func TestBound(t *testing.T) {
	d := &DB{timeout: time.Second}
	bg := context.Background()
	c, done := d.bound(bg)
	dl, ok := c.Deadline()
	done()
	if !ok || time.Until(dl) > time.Second {
		t.Errorf("no deadline: got %v, %v, want within 1s", dl, ok)
	}
	short, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	if c, done := d.bound(short); c != short {
		t.Errorf("a sooner deadline of the caller's was replaced")
	} else {
		done()
	}
	long, cancel2 := context.WithTimeout(bg, time.Hour)
	defer cancel2()
	c, done = d.bound(long)
	dl, _ = c.Deadline()
	done()
	if time.Until(dl) > time.Second {
		t.Errorf("a later deadline of the caller's was kept: %v", dl)
	}
}

func TestWrapContextErrors(t *testing.T) {
	d := &DB{}
	for _, tc := range []struct {
		err         error
		unavailable bool
		is          error
	}{
		{context.DeadlineExceeded, true, context.DeadlineExceeded},
		{fmt.Errorf("timeout: %w", context.DeadlineExceeded), true, context.DeadlineExceeded},
		{context.Canceled, false, context.Canceled},
	} {
		got := d.wrap("op", tc.err)
		if errors.Is(got, auth.ErrUnavailable) != tc.unavailable || !errors.Is(got, tc.is) {
			t.Errorf("wrap(%v) = %v: ErrUnavailable %v, %v %v", tc.err, got,
				errors.Is(got, auth.ErrUnavailable), tc.is, errors.Is(got, tc.is))
		}
	}
}

// A server that answers but refuses the connection (bad password, no such
// database or role) leaves the store unavailable (503), not broken (500):
// the refusal arrives as a server error inside a connect error, which must
// not be read as bad SQL.
func TestRefusedConnectionIsUnavailable(t *testing.T) {
	base, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	wrongPassword, noDatabase, noRole := *base, *base, *base
	wrongPassword.User = url.UserPassword(base.User.Username(), "not-the-password")
	noDatabase.Path = "/jwtgate_no_such_database"
	noRole.User = url.UserPassword("jwtgate_no_such_role", "not-the-password")
	for _, tc := range []struct {
		name string
		u    *url.URL
	}{{"wrong password", &wrongPassword}, {"no such database", &noDatabase}, {"no such role", &noRole}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.u == &wrongPassword {
				skipIfTrusting(t, tc.u.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			d, err := Open(ctx, tc.u.String(), 1)
			cancel()
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			var pe *pgconn.PgError
			if !errors.Is(err, auth.ErrUnavailable) || !errors.As(err, &pe) {
				t.Errorf("%v; want auth.ErrUnavailable around the server's refusal", err)
			}
			if strings.Contains(err.Error(), "not-the-password") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// skipIfTrusting skips the test when the server lets u in although its
// password is wrong: its pg_hba.conf trusts the connection, so no password
// can be refused.
func skipIfTrusting(t *testing.T, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return
	}
	conn.Close(ctx)
	t.Skipf("the server at $%s accepts a wrong password (pg_hba.conf trust): it refuses none; the other refusals are tested", pgtest.EnvURL)
}

// now is a time as the store keeps it (microseconds).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
