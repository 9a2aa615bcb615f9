package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// base is a fixed, millisecond-aligned time: every backend keeps it exactly.
var base = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func mkSession(t *testing.T, s auth.Store, u *auth.User, id, token string) *auth.Session {
	t.Helper()
	sess := &auth.Session{ID: id, UserID: u.ID, UserVersion: u.Version, CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}
	rt := &auth.RefreshToken{Hash: hashOf(token), SessionID: id, ExpiresAt: base.Add(7 * 24 * time.Hour)}
	if err := s.CreateSession(ctx, sess, rt); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
	return sess
}

func revokedIDs(t *testing.T, s auth.Store, since, now time.Time) map[string]time.Time {
	t.Helper()
	revs, err := s.RevocationsSince(ctx, since, now)
	if err != nil {
		t.Fatalf("RevocationsSince: %v", err)
	}
	m := map[string]time.Time{}
	for _, r := range revs {
		m[r.ID] = r.Until
	}
	return m
}

func testSessions(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "sam", auth.RoleReader)
	mkSession(t, s, u, "sess-1", "token-1")
	rt, sess, err := s.RefreshToken(ctx, hashOf("token-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rt.Hash, hashOf("token-1")) || rt.SessionID != "sess-1" || !rt.UsedAt.IsZero() || !rt.ExpiresAt.Equal(base.Add(7*24*time.Hour)) {
		t.Errorf("refresh token = %+v", rt)
	}
	if sess.ID != "sess-1" || sess.UserID != u.ID || !sess.CreatedAt.Equal(base) || !sess.ExpiresAt.Equal(base.Add(30*24*time.Hour)) || !sess.RevokedAt.IsZero() {
		t.Errorf("session = %+v", sess)
	}
	if sess.User == nil || sess.User.ID != u.ID || sess.User.Name != u.Name || sess.User.Role != u.Role || sess.User.Version != u.Version || sess.User.Disabled {
		t.Errorf("session's user = %+v, want %+v", sess.User, u)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("token-2")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown refresh token: err = %v, want ErrNotFound", err)
	}
	// A session id is unique; the failed create stores no token either.
	dup := &auth.Session{ID: "sess-1", UserID: u.ID, UserVersion: u.Version, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateSession(ctx, dup, &auth.RefreshToken{Hash: hashOf("token-3"), SessionID: "sess-1", ExpiresAt: base.Add(time.Hour)}); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("duplicate session id: err = %v, want ErrConflict", err)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("token-3")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("refresh token of a refused session was stored: %v", err)
	}
}

// rotate is RotateRefreshToken of a token of one of jwtgate's own
// sessions, its error only.
func rotate(s auth.Store, old []byte, now time.Time, next *auth.RefreshToken) error {
	_, _, err := s.RotateRefreshToken(ctx, old, "", now, next)
	return err
}

func testRotateOnce(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "rita", auth.RoleReader)
	mkSession(t, s, u, "sess-r", "r1")
	used := base.Add(time.Minute)
	next := &auth.RefreshToken{Hash: hashOf("r2"), ExpiresAt: base.Add(8 * 24 * time.Hour)}
	rt, sess, err := s.RotateRefreshToken(ctx, hashOf("r1"), "", used, next)
	if err != nil {
		t.Fatal(err)
	}
	// What was rotated comes back as it was read, with the user.
	if !bytes.Equal(rt.Hash, hashOf("r1")) || rt.SessionID != "sess-r" || !rt.UsedAt.IsZero() || !sameTime(rt.ExpiresAt, base.Add(7*24*time.Hour)) ||
		sess.ID != "sess-r" || sess.User == nil || sess.User.ID != u.ID || sess.User.Name != "rita" || sess.User.Role != auth.RoleReader {
		t.Fatalf("rotated token %+v, session %+v", rt, sess)
	}
	if next.SessionID != "sess-r" || !sameTime(next.ExpiresAt, base.Add(8*24*time.Hour)) {
		t.Errorf("next = %+v, want it in sess-r, its expiry kept", next)
	}
	old, _, err := s.RefreshToken(ctx, hashOf("r1"))
	if err != nil || !old.UsedAt.Equal(used) {
		t.Fatalf("rotated token = %+v, %v; want used at %v", old, err, used)
	}
	nrt, _, err := s.RefreshToken(ctx, hashOf("r2"))
	if err != nil || !nrt.UsedAt.IsZero() || nrt.SessionID != "sess-r" {
		t.Fatalf("new token = %+v, %v", nrt, err)
	}
	again := &auth.RefreshToken{Hash: hashOf("r3"), ExpiresAt: base.Add(time.Hour)}
	_, sess, err = s.RotateRefreshToken(ctx, hashOf("r1"), "", used, again)
	if !errors.Is(err, auth.ErrConflict) || sess == nil || sess.ID != "sess-r" || sess.User == nil {
		t.Errorf("second rotation of one token: session %+v, err = %v; want sess-r and ErrConflict", sess, err)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("r3")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a refused rotation stored its new token: %v", err)
	}
	if _, _, err := s.RotateRefreshToken(ctx, hashOf("no-such-token"), "", used, again); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown token: %v, want ErrNotFound", err)
	}

	// The new token's expiry is capped at the session's (30 days).
	far := &auth.RefreshToken{Hash: hashOf("r4"), ExpiresAt: base.Add(90 * 24 * time.Hour)}
	if err := rotate(s, hashOf("r2"), used, far); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.RefreshToken(ctx, hashOf("r4")); err != nil || !sameTime(got.ExpiresAt, base.Add(30*24*time.Hour)) || !sameTime(far.ExpiresAt, got.ExpiresAt) {
		t.Errorf("token past its session's end: stored %+v (%v), next.ExpiresAt %v; want both at the session's end", got, err, far.ExpiresAt)
	}
}

// testRotateRefused checks every condition of a rotation: each refusal
// is ErrStale, returns the token and session, and changes nothing.
func testRotateRefused(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "rudy", auth.RoleReader)
	mkSession(t, s, u, "sess-x", "x1") // token until base+7d, session until base+30d
	cases := []struct {
		name     string
		clientID string
		now      time.Time
	}{
		{"a client's rotation of an own session's token", "some-client", base},
		{"an expired token", "", base.Add(7 * 24 * time.Hour)},
		{"an expired session", "", base.Add(31 * 24 * time.Hour)},
	}
	for _, c := range cases {
		next := &auth.RefreshToken{Hash: hashOf("x2"), ExpiresAt: c.now.Add(time.Hour)}
		rt, sess, err := s.RotateRefreshToken(ctx, hashOf("x1"), c.clientID, c.now, next)
		if !errors.Is(err, auth.ErrStale) || rt == nil || sess == nil || sess.ID != "sess-x" {
			t.Errorf("%s: %+v, %+v, %v; want the token, its session and ErrStale", c.name, rt, sess, err)
		}
	}
	yes := true
	if _, err := s.UpdateUser(ctx, "rudy", auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	next := &auth.RefreshToken{Hash: hashOf("x2"), ExpiresAt: base.Add(time.Hour)}
	if _, _, err := s.RotateRefreshToken(ctx, hashOf("x1"), "", base, next); !errors.Is(err, auth.ErrStale) {
		t.Errorf("a disabled user's token: %v, want ErrStale", err)
	}
	if old, _, err := s.RefreshToken(ctx, hashOf("x1")); err != nil || !old.UsedAt.IsZero() {
		t.Errorf("a refused rotation marked the token used: %+v, %v", old, err)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("x2")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a refused rotation stored its new token: %v", err)
	}
	if list, _ := s.UserSessions(ctx, u.ID, base); len(list) != 1 || !list[0].LastRefreshedAt.IsZero() {
		t.Errorf("a refused rotation touched the session: %+v", list)
	}
}

func testConcurrentRotate(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "cora", auth.RoleReader)
	mkSession(t, s, u, "sess-c", "c0")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := &auth.RefreshToken{Hash: hashOf(fmt.Sprint("c", i+1)), SessionID: "sess-c", ExpiresAt: base.Add(time.Hour)}
			errs[i] = rotate(s, hashOf("c0"), base, next)
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, auth.ErrConflict):
			t.Errorf("rotation %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent rotations of one token succeeded, want exactly 1", ok)
	}
}

// testConcurrentRotateMany rotates the tokens of many sessions at once,
// with refusals among them: each call gets its own session back, and the
// outcome its own token deserves (a store may run concurrent rotations
// together).
func testConcurrentRotateMany(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "manny", auth.RoleReader)
	const n = 24
	for i := range n {
		mkSession(t, s, u, fmt.Sprint("many-", i), fmt.Sprint("many-tok-", i))
	}
	// Every third session is revoked: its rotation is ErrStale.
	for i := 0; i < n; i += 3 {
		if err := s.Revoke(ctx, auth.Revoke{SessionID: fmt.Sprint("many-", i), At: base, Until: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		sess *auth.Session
		next *auth.RefreshToken
		err  error
	}
	results := make([]result, n+1)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			old := hashOf(fmt.Sprint("many-tok-", i)) // i == n: no such token
			next := &auth.RefreshToken{Hash: hashOf(fmt.Sprint("many-next-", i)), ExpiresAt: base.Add(time.Hour)}
			<-start
			_, sess, err := s.RotateRefreshToken(ctx, old, "", base.Add(time.Minute), next)
			results[i] = result{sess, next, err}
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		id := fmt.Sprint("many-", i)
		switch {
		case i == n:
			if !errors.Is(r.err, auth.ErrNotFound) {
				t.Errorf("unknown token: %v, want ErrNotFound", r.err)
			}
		case i%3 == 0:
			if !errors.Is(r.err, auth.ErrStale) || r.sess == nil || r.sess.ID != id {
				t.Errorf("rotation %d (revoked session): %+v, %v; want its session and ErrStale", i, r.sess, r.err)
			}
			if _, _, err := s.RefreshToken(ctx, r.next.Hash); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("rotation %d stored a token in a revoked session: %v", i, err)
			}
		default:
			if r.err != nil || r.sess == nil || r.sess.ID != id || r.next.SessionID != id {
				t.Errorf("rotation %d: session %+v, next %+v, %v; want %s", i, r.sess, r.next, r.err, id)
				continue
			}
			if got, _, err := s.RefreshToken(ctx, r.next.Hash); err != nil || got.SessionID != id {
				t.Errorf("rotation %d: new token %+v, %v; want it in %s", i, got, err, id)
			}
		}
	}
}

func testRevoke(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "vera", auth.RoleReader)
	mkSession(t, s, u, "sess-a", "a1")
	mkSession(t, s, u, "sess-b", "b1")
	at, until := base.Add(time.Hour), base.Add(time.Hour+16*time.Minute)
	if err := s.Revoke(ctx, auth.Revoke{SessionID: "sess-a", TokenIDs: []string{"jti-1"}, At: at, Until: until}); err != nil {
		t.Fatal(err)
	}
	_, a, _ := s.RefreshToken(ctx, hashOf("a1"))
	_, b, _ := s.RefreshToken(ctx, hashOf("b1"))
	if !a.RevokedAt.Equal(at) || !b.RevokedAt.IsZero() {
		t.Errorf("revoked_at: a=%v (want %v), b=%v (want zero)", a.RevokedAt, at, b.RevokedAt)
	}
	got := revokedIDs(t, s, time.Time{}, at)
	if len(got) != 2 || !got["sess-a"].Equal(until) || !got["jti-1"].Equal(until) {
		t.Errorf("revocations = %v, want sess-a and jti-1 until %v", got, until)
	}
	if got := revokedIDs(t, s, at.Add(time.Millisecond), at); len(got) != 0 {
		t.Errorf("revocations since after they were made = %v, want none", got)
	}
	if got := revokedIDs(t, s, time.Time{}, until); len(got) != 0 {
		t.Errorf("revocations no longer in force were returned: %v", got)
	}
	// Revoking again keeps the first revocation time and extends until.
	later := until.Add(time.Hour)
	if err := s.Revoke(ctx, auth.Revoke{SessionID: "sess-a", At: at.Add(time.Minute), Until: later}); err != nil {
		t.Fatal(err)
	}
	_, a, _ = s.RefreshToken(ctx, hashOf("a1"))
	if !a.RevokedAt.Equal(at) {
		t.Errorf("second revoke moved revoked_at to %v", a.RevokedAt)
	}
	if got := revokedIDs(t, s, time.Time{}, at); !got["sess-a"].Equal(later) {
		t.Errorf("sess-a until %v, want %v", got["sess-a"], later)
	}
}

func testRevokeUser(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "uma", auth.RoleReader)
	other := mkUser(t, s, "otto", auth.RoleReader)
	mkSession(t, s, u, "u-1", "u1")
	mkSession(t, s, u, "u-2", "u2")
	mkSession(t, s, other, "o-1", "o1")
	at, until := base.Add(time.Hour), base.Add(2*time.Hour)
	if err := s.Revoke(ctx, auth.Revoke{UserID: u.ID, At: at, Until: until}); err != nil {
		t.Fatal(err)
	}
	got := revokedIDs(t, s, time.Time{}, at)
	if len(got) != 2 || got["u-1"].IsZero() || got["u-2"].IsZero() {
		t.Errorf("revocations = %v, want u-1 and u-2", got)
	}
	_, o, _ := s.RefreshToken(ctx, hashOf("o1"))
	if !o.RevokedAt.IsZero() {
		t.Error("another user's session was revoked")
	}
}

func testUpdateEndsSessions(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "paul", auth.RoleEditor)
	mkSession(t, s, u, "p-1", "p1")
	at, until := base.Add(time.Hour), base.Add(2*time.Hour)
	r := auth.RoleReader
	if _, err := s.UpdateUser(ctx, "paul", auth.UserUpdate{Role: &r}); err != nil {
		t.Fatal(err)
	}
	if got := revokedIDs(t, s, time.Time{}, at); len(got) != 0 {
		t.Errorf("an update without EndSessions revoked %v", got)
	}
	r = auth.RoleAdmin
	if _, err := s.UpdateUser(ctx, "PAUL", auth.UserUpdate{Role: &r, EndSessions: &auth.Revoke{At: at, Until: until}}); err != nil {
		t.Fatal(err)
	}
	if got := revokedIDs(t, s, time.Time{}, at); len(got) != 1 || !got["p-1"].Equal(until) {
		t.Errorf("revocations = %v, want p-1", got)
	}
	// An update of an unknown user revokes nothing.
	if _, err := s.UpdateUser(ctx, "nobody", auth.UserUpdate{Role: &r, EndSessions: &auth.Revoke{At: at, Until: until}}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("update of unknown user: %v", err)
	}
}

func testDeleteEndsSessions(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "dora", auth.RoleEditor)
	mkSession(t, s, u, "d-1", "d1")
	at, until := base.Add(time.Hour), base.Add(2*time.Hour)
	if err := s.DeleteUser(ctx, "dora", &auth.Revoke{At: at, Until: until}); err != nil {
		t.Fatal(err)
	}
	if got := revokedIDs(t, s, time.Time{}, at); len(got) != 1 || !got["d-1"].Equal(until) {
		t.Errorf("revocations = %v, want d-1", got)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("d1")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("refresh token of a deleted user: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "dora", &auth.Revoke{At: at, Until: until}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func testPurge(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "pia", auth.RoleReader)
	mkSession(t, s, u, "live", "live1")
	old := &auth.Session{ID: "old", UserID: u.ID, UserVersion: u.Version, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateSession(ctx, old, &auth.RefreshToken{Hash: hashOf("old1"), SessionID: "old", ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, auth.Revoke{TokenIDs: []string{"short"}, At: base, Until: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, auth.Revoke{TokenIDs: []string{"long"}, At: base, Until: base.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	now := base.Add(2 * time.Hour)
	if err := s.PurgeExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("old1")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("expired session survived the purge: %v", err)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("live1")); err != nil {
		t.Errorf("live session purged: %v", err)
	}
	if got := revokedIDs(t, s, time.Time{}, base); len(got) != 1 || got["long"].IsZero() {
		t.Errorf("revocations after purge = %v, want only long", got)
	}
}

func testSigningKeys(t *testing.T, s auth.Store) {
	k1 := auth.StoredKey{ID: "k1", JWK: []byte(`{"kty":"oct","k":"one"}`), CreatedAt: base}
	if err := s.AddSigningKey(ctx, k1, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	k2 := auth.StoredKey{ID: "k2", JWK: []byte(`{"kty":"oct","k":"two"}`), CreatedAt: base.Add(time.Hour)}
	retire := base.Add(2 * time.Hour)
	if err := s.AddSigningKey(ctx, k2, retire, false); err != nil {
		t.Fatal(err)
	}
	k3 := auth.StoredKey{ID: "k3", JWK: []byte(`{"kty":"oct","k":"three"}`), CreatedAt: base.Add(90 * time.Minute)}
	if err := s.AddSigningKey(ctx, k3, base.Add(5*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]auth.StoredKey{}
	for _, k := range keys {
		got[k.ID] = k
	}
	// k1 keeps its first retirement time; k2 gets the later one; k3 is active.
	if len(got) != 3 || !got["k1"].RetireAt.Equal(retire) || !got["k2"].RetireAt.Equal(base.Add(5*time.Hour)) || !got["k3"].RetireAt.IsZero() {
		t.Errorf("keys = %+v", keys)
	}
	if string(got["k3"].JWK) != string(k3.JWK) || !got["k3"].CreatedAt.Equal(k3.CreatedAt) {
		t.Errorf("k3 = %+v, want %+v", got["k3"], k3)
	}
	if err := s.AddSigningKey(ctx, k3, base, false); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("duplicate kid: err = %v, want ErrConflict", err)
	}
	if err := s.PurgeExpired(ctx, base.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, _ = s.SigningKeys(ctx)
	if len(keys) != 2 {
		t.Errorf("after purge %d keys, want 2 (k1 retired)", len(keys))
	}
}

func testSigningKeyOnlyIfNone(t *testing.T, s auth.Store) {
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := auth.StoredKey{ID: fmt.Sprint("first-", i), JWK: []byte(`{}`), CreatedAt: base}
			errs[i] = s.AddSigningKey(ctx, k, time.Time{}, true)
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, auth.ErrConflict):
			t.Errorf("AddSigningKey %d: %v", i, err)
		}
	}
	keys, err := s.SigningKeys(ctx)
	if ok != 1 || err != nil || len(keys) != 1 {
		t.Errorf("%d of %d first-key inserts succeeded, %d keys stored (%v); want exactly one", ok, n, len(keys), err)
	}
}

func sessionIDs(t *testing.T, s auth.Store, userID int64, now time.Time) []string {
	t.Helper()
	list, err := s.UserSessions(ctx, userID, now)
	if err != nil {
		t.Fatalf("UserSessions: %v", err)
	}
	ids := []string{}
	for _, sess := range list {
		ids = append(ids, sess.ID)
	}
	return ids
}

func testUserSessions(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "sue", auth.RoleReader)
	other := mkUser(t, s, "otto", auth.RoleReader)
	add := func(owner *auth.User, id string, created, expires time.Time, ip, ua string) {
		t.Helper()
		sess := &auth.Session{ID: id, UserID: owner.ID, UserVersion: owner.Version, CreatedAt: created, ExpiresAt: expires, ClientIP: ip, UserAgent: ua}
		if err := s.CreateSession(ctx, sess, &auth.RefreshToken{Hash: hashOf("tok-" + id), SessionID: id, ExpiresAt: expires}); err != nil {
			t.Fatalf("CreateSession(%s): %v", id, err)
		}
	}
	month := base.Add(30 * 24 * time.Hour)
	add(u, "m-1", base, month, "203.0.113.7", "Mozilla/5.0 (X11; Linux) Firefox/140.0 ünïcode")
	add(u, "m-2", base.Add(time.Minute), month, "2001:db8::1", "")
	add(u, "m-old", base, base.Add(time.Hour), "", "")
	add(other, "m-other", base.Add(2*time.Minute), month, "", "")
	now := base.Add(2 * time.Hour)
	if got, want := sessionIDs(t, s, u.ID, now), []string{"m-2", "m-1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sessions = %v, want %v (live ones, newest first, of this user only)", got, want)
	}
	list, _ := s.UserSessions(ctx, u.ID, now)
	m1 := list[1]
	if m1.UserID != u.ID || !m1.CreatedAt.Equal(base) || !m1.ExpiresAt.Equal(month) || m1.ClientIP != "203.0.113.7" ||
		m1.UserAgent != "Mozilla/5.0 (X11; Linux) Firefox/140.0 ünïcode" || !m1.LastRefreshedAt.IsZero() || m1.ClientID != "" || !m1.RevokedAt.IsZero() {
		t.Errorf("session = %+v", m1)
	}

	// A rotation records when the session was last refreshed.
	refreshed := base.Add(3 * time.Hour)
	next := &auth.RefreshToken{Hash: hashOf("tok-m-1b"), SessionID: "m-1", ExpiresAt: month}
	if err := rotate(s, hashOf("tok-m-1"), refreshed, next); err != nil {
		t.Fatal(err)
	}
	list, _ = s.UserSessions(ctx, u.ID, now)
	if len(list) != 2 || !list[1].LastRefreshedAt.Equal(refreshed) || !list[0].LastRefreshedAt.IsZero() {
		t.Errorf("after a refresh of m-1: %+v, %+v; want m-1 last refreshed at %v", list[0], list[1], refreshed)
	}
	// A failed rotation (the token was used) changes nothing.
	if err := rotate(s, hashOf("tok-m-1"), refreshed.Add(time.Hour), &auth.RefreshToken{Hash: hashOf("tok-m-1c"), SessionID: "m-1", ExpiresAt: month}); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("second rotation: %v, want ErrConflict", err)
	}
	if list, _ = s.UserSessions(ctx, u.ID, now); !list[1].LastRefreshedAt.Equal(refreshed) {
		t.Errorf("a refused rotation moved last refreshed to %v", list[1].LastRefreshedAt)
	}

	// Everywhere else: the kept session lives, the others end and are
	// recorded; another user's sessions are untouched.
	at := base.Add(4 * time.Hour)
	if err := s.Revoke(ctx, auth.Revoke{UserID: u.ID, KeepSessionID: "m-1", At: at, Until: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(t, s, u.ID, now); fmt.Sprint(got) != "[m-1]" {
		t.Errorf("after ending the others: %v, want [m-1]", got)
	}
	revoked := revokedIDs(t, s, at, at)
	if _, ok := revoked["m-2"]; !ok {
		t.Errorf("m-2 not recorded as revoked: %v", revoked)
	}
	if _, ok := revoked["m-1"]; ok {
		t.Errorf("the kept session was recorded as revoked: %v", revoked)
	}
	if got := sessionIDs(t, s, other.ID, now); fmt.Sprint(got) != "[m-other]" {
		t.Errorf("other user's sessions = %v", got)
	}
	// A password change that keeps the caller's session.
	h := hash
	if _, err := s.UpdateUser(ctx, u.Name, auth.UserUpdate{PasswordHash: &h, EndSessions: &auth.Revoke{KeepSessionID: "m-1", At: at, Until: at.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(t, s, u.ID, now); fmt.Sprint(got) != "[m-1]" {
		t.Errorf("after a password change keeping m-1: %v", got)
	}
	if err := s.Revoke(ctx, auth.Revoke{SessionID: "m-1", At: at, Until: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(t, s, u.ID, now); len(got) != 0 {
		t.Errorf("after ending m-1: %v, want none", got)
	}
}
