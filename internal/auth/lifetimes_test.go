package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

var ctx = context.Background()

// downStore is a real SQLite store whose token lifetime writes can be made
// to fail.
type downStore struct {
	*sqlite.DB
	down atomic.Bool
}

func (d *downStore) RecordTokenLifetime(ctx context.Context, r auth.TokenLifetime) error {
	if d.down.Load() {
		return fmt.Errorf("test: %w", auth.ErrUnavailable)
	}
	return d.DB.RecordTokenLifetime(ctx, r)
}

// plainStore hides the TokenLifetimeStore methods of a store, as a store
// that does not keep token lifetimes (or an older jwtgate) would.
type plainStore struct{ auth.Store }

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var testKey = func() *jwt.Key {
	k, err := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("k", 32)))
	if err != nil {
		panic(err)
	}
	return k
}()

// server is a Service as jwtgate serve builds one: tokens with ttl and
// leeway on the shared key, on store, with c's time.
func server(t *testing.T, store auth.Store, c *testutil.Clock, ttl, leeway time.Duration) *auth.Service {
	t.Helper()
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: testKey, Issuer: "jwtgate", Audience: "jwtgate", TTL: ttl, Leeway: leeway, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := &auth.Service{Store: store, Tokens: tk, Now: c.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := svc.RecordTokenLifetime(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	return svc
}

func mkUser(t *testing.T, s auth.Store, name string) *auth.User {
	t.Helper()
	u := &auth.User{Name: name, Role: auth.RoleEditor, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// verifyAt syncs svc's revocations at time at and verifies tok there.
func verifyAt(t *testing.T, svc *auth.Service, c *testutil.Clock, at time.Time, tok string) error {
	t.Helper()
	c.Set(at)
	if err := svc.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Tokens.Verify(tok)
	return err
}

// The bug: the command line, which cannot see a server's --access-ttl,
// disabled a user with a revocation as short as its own environment said,
// and the user's token worked again long before it expired. Here server A
// issues 2-minute tokens and B, on the same database, was configured with
// 10-second ones (as was the operator's shell); B must refuse A's token for
// all of A's two minutes: only A's recorded lifetime can tell it so.
func TestCommandLineRevocationOutlastsEveryServersTokens(t *testing.T) {
	db := openDB(t)
	start := time.Now().Truncate(time.Millisecond)
	c := testutil.NewClock(start)
	a := server(t, db, c, 2*time.Minute, 0)
	b := server(t, db, c, 10*time.Second, 0)
	u := mkUser(t, db, "bob")
	g, err := a.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyAt(t, b, c, start, g.AccessToken); err != nil {
		t.Fatalf("A's token on B: %v", err)
	}

	// The command line: no Tokens, its environment's 10 s.
	cli := &auth.Service{Store: db, TokenAge: 10 * time.Second, Now: c.Now}
	yes := true
	if _, err := cli.UpdateUser(ctx, nil, "bob", auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, 11 * time.Second, 30 * time.Second, 119 * time.Second} {
		for name, svc := range map[string]*auth.Service{"A": a, "B": b} {
			if err := verifyAt(t, svc, c, start.Add(d), g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
				t.Errorf("%s at +%v: %v, want ErrRevoked", name, d, err)
			}
		}
	}
	revs, err := db.RevocationsSince(ctx, time.Time{}, start)
	if err != nil || len(revs) != 1 || revs[0].Until.Before(start.Add(2*time.Minute)) {
		t.Errorf("stored revocations %+v, %v: want one lasting at least 2m", revs, err)
	}
	if err := verifyAt(t, b, c, start.Add(2*time.Minute+time.Second), g.AccessToken); !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("after its lifetime: %v, want expired", err)
	}
}

// The second line of defence: a server holds every revocation for its own
// token age after it was made, whatever Until its maker stored (here one
// that knew no lifetimes), also when it loads it after a restart.
func TestServerHoldsRevocationsForItsOwnTokenAge(t *testing.T) {
	db := openDB(t)
	start := time.Now().Truncate(time.Millisecond)
	c := testutil.NewClock(start)
	a := server(t, db, c, 2*time.Minute, 30*time.Second)
	u := mkUser(t, db, "cleo")
	g, err := a.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	blind := &auth.Service{Store: plainStore{db}, TokenAge: 5 * time.Second, Now: c.Now}
	r := auth.RoleReader
	if _, err := blind.UpdateUser(ctx, nil, "cleo", auth.UserUpdate{Role: &r}); err != nil {
		t.Fatal(err)
	}
	if err := verifyAt(t, a, c, start.Add(time.Minute), g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("at +1m: %v, want ErrRevoked", err)
	}
	// A restarted server loads it although its stored Until has passed.
	restarted := server(t, db, c, 2*time.Minute, 30*time.Second)
	if err := verifyAt(t, restarted, c, start.Add(140*time.Second), g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("restarted at +2m20s: %v, want ErrRevoked", err)
	}
}

// A server's record covers every token it issues: it is written at start,
// renewed as tokens are issued before half the lease is left, and a token
// the record could not cover is not issued.
func TestTokenLifetimeLease(t *testing.T) {
	db := &downStore{DB: openDB(t)}
	start := time.Now().Truncate(time.Millisecond)
	c := testutil.NewClock(start)
	svc := server(t, db, c, time.Hour, 30*time.Second)
	recs, err := db.TokenLifetimes(ctx, start)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records after start: %+v, %v", recs, err)
	}
	first := recs[0]
	if first.AccessTTL != time.Hour || first.Leeway != 30*time.Second || !first.Until.After(start.Add(time.Hour+30*time.Second)) {
		t.Errorf("record = %+v", first)
	}
	if age, err := auth.LongestTokenAge(ctx, db, start, time.Minute); err != nil || age != time.Hour+30*time.Second {
		t.Errorf("LongestTokenAge = %v, %v", age, err)
	}
	u := mkUser(t, db, "lea")
	until := func() time.Time {
		t.Helper()
		recs, err := db.TokenLifetimes(ctx, c.Now())
		if err != nil || len(recs) != 1 || recs[0].Instance != first.Instance {
			t.Fatalf("records: %+v, %v", recs, err)
		}
		return recs[0].Until
	}
	// Early in the lease nothing is written.
	c.Set(start.Add(time.Minute))
	if _, err := svc.StartSession(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got := until(); !got.Equal(first.Until) {
		t.Errorf("renewed early: %v, want %v", got, first.Until)
	}
	// Past half the lease, the next token renews it.
	c.Set(start.Add(6 * time.Minute))
	g, err := svc.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	renewed := until()
	if !renewed.After(first.Until) || renewed.Before(c.Now().Add(time.Hour+30*time.Second)) {
		t.Errorf("after renewal Until = %v (was %v)", renewed, first.Until)
	}
	// A failed renewal is retried while the lease lasts...
	db.down.Store(true)
	c.Set(start.Add(12 * time.Minute))
	if _, err := svc.Refresh(ctx, g.RefreshToken); err != nil {
		t.Fatalf("refresh while the lease lasts: %v", err)
	}
	// ... and once it has run out, no token is issued.
	c.Set(start.Add(17 * time.Minute))
	if _, err := svc.StartSession(ctx, u); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("login past the lease with the store down: %v, want ErrUnavailable", err)
	}
	if err := svc.RenewTokenLifetime(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("RenewTokenLifetime with the store down: %v", err)
	}
	db.down.Store(false)
	if err := svc.RenewTokenLifetime(ctx); err != nil {
		t.Fatal(err)
	}
	if got := until(); got.Before(c.Now().Add(time.Hour + 30*time.Second)) {
		t.Errorf("after RenewTokenLifetime Until = %v", got)
	}
	// A process without Tokens (the command line) records nothing.
	cli := &auth.Service{Store: db, Now: c.Now}
	if err := cli.RecordTokenLifetime(ctx); err != nil {
		t.Fatal(err)
	}
	if recs, _ := db.TokenLifetimes(ctx, start); len(recs) != 1 {
		t.Errorf("the command line recorded a lifetime: %+v", recs)
	}
}
