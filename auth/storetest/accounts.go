package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/auth"
)

// endAt is the revocation the account changes of these tests record.
var endAt = &auth.Revoke{At: base, Until: base.Add(time.Hour)}

// accountChanges are the changes that end a user's sessions, as
// auth.Service makes them.
var accountChanges = []struct {
	name string
	do   func(s auth.Store, name string) error
}{
	{"password", func(s auth.Store, name string) error {
		h := "$2a$10$changed"
		_, err := s.UpdateUser(ctx, name, auth.UserUpdate{PasswordHash: &h, EndSessions: endAt})
		return err
	}},
	{"role", func(s auth.Store, name string) error {
		r := auth.RoleReader
		_, err := s.UpdateUser(ctx, name, auth.UserUpdate{Role: &r, EndSessions: endAt})
		return err
	}},
	{"disable", func(s auth.Store, name string) error {
		yes := true
		_, err := s.UpdateUser(ctx, name, auth.UserUpdate{Disabled: &yes, EndSessions: endAt})
		return err
	}},
	{"delete", func(s auth.Store, name string) error { return s.DeleteUser(ctx, name, endAt) }},
}

func newSession(u *auth.User, id string) (*auth.Session, *auth.RefreshToken) {
	sess := &auth.Session{ID: id, UserID: u.ID, UserVersion: u.Version, CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}
	return sess, &auth.RefreshToken{Hash: hashOf("rt-" + id), SessionID: id, ExpiresAt: base.Add(7 * 24 * time.Hour)}
}

// createSession stores a session for u as read, with id.
func createSession(s auth.Store, u *auth.User, id string) error {
	sess, rt := newSession(u, id)
	return s.CreateSession(ctx, sess, rt)
}

func testUserVersion(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "vic", auth.RoleEditor)
	if got, err := s.UserByName(ctx, "vic"); err != nil || got.Version != u.Version {
		t.Fatalf("UserByName = %+v, %v; want Version %d as CreateUser set", got, err, u.Version)
	}
	// A rehash keeps the sessions, and the Version.
	h := "$argon2id$v=19$m=64,t=1,p=1$cmVoYXNo$cmVoYXNoZWQ"
	rehashed, err := s.UpdateUser(ctx, "vic", auth.UserUpdate{PasswordHash: &h})
	if err != nil || rehashed.Version != u.Version {
		t.Fatalf("UpdateUser without EndSessions = %+v, %v; want Version %d kept", rehashed, err, u.Version)
	}
	if err := createSession(s, u, "v-1"); err != nil {
		t.Fatalf("CreateSession at the current Version: %v", err)
	}
	for _, ch := range accountChanges[:3] {
		t.Run(ch.name, func(t *testing.T) {
			before, err := s.UserByName(ctx, "vic")
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.do(s, "vic"); err != nil {
				t.Fatal(err)
			}
			after, err := s.UserByID(ctx, before.ID)
			if err != nil || after.Version <= before.Version {
				t.Fatalf("after the %s change: %+v, %v; want Version above %d", ch.name, after, err, before.Version)
			}
			if err := createSession(s, before, "stale-"+ch.name); !errors.Is(err, auth.ErrStale) {
				t.Errorf("CreateSession with the Version read before the change: %v, want ErrStale", err)
			}
			if _, _, err := s.RefreshToken(ctx, hashOf("rt-stale-"+ch.name)); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("a refused session stored its refresh token: %v", err)
			}
			if err := createSession(s, after, "fresh-"+ch.name); err != nil {
				t.Errorf("CreateSession with the Version read after the change: %v", err)
			}
		})
	}
	before, _ := s.UserByName(ctx, "vic")
	if err := s.DeleteUser(ctx, "vic", endAt); err != nil {
		t.Fatal(err)
	}
	if err := createSession(s, before, "deleted"); !errors.Is(err, auth.ErrStale) {
		t.Errorf("CreateSession for a deleted user: %v, want ErrStale", err)
	}
}

// testSessionRacesUserChange is a login that read the user before a change
// that ends the user's sessions and stores its session while the change
// commits. Whichever commits first, no session may outlive the change: it
// is either refused or revoked by the change.
func testSessionRacesUserChange(t *testing.T, s auth.Store) {
	const rounds = 80
	refused, revoked := map[string]int{}, map[string]int{}
	for i := range rounds {
		ch := accountChanges[i%len(accountChanges)]
		name := fmt.Sprint("racer", i)
		mkUser(t, s, name, auth.RoleEditor)
		read, err := s.UserByName(ctx, name) // the login's read
		if err != nil {
			t.Fatal(err)
		}
		sess, rt := newSession(read, fmt.Sprint("race-", i))
		start := make(chan struct{})
		var createErr, changeErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); <-start; createErr = s.CreateSession(ctx, sess, rt) }()
		go func() { defer wg.Done(); <-start; changeErr = ch.do(s, name) }()
		close(start)
		wg.Wait()
		if changeErr != nil {
			t.Fatalf("round %d: %s change: %v", i, ch.name, changeErr)
		}
		_, stored, err := s.RefreshToken(ctx, rt.Hash)
		switch {
		case errors.Is(createErr, auth.ErrStale):
			refused[ch.name]++
			if !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("round %d (%s): a refused session was stored: %+v, %v", i, ch.name, stored, err)
			}
		case createErr != nil:
			t.Fatalf("round %d (%s): CreateSession: %v, want nil or ErrStale", i, ch.name, createErr)
		case errors.Is(err, auth.ErrNotFound) && ch.name == "delete":
			revoked[ch.name]++ // deleted with the user
		case err != nil:
			t.Fatalf("round %d (%s): RefreshToken: %v", i, ch.name, err)
		case stored.RevokedAt.IsZero():
			t.Errorf("round %d: a session created from a read before the %s change outlives it", i, ch.name)
		default:
			revoked[ch.name]++
		}
	}
	t.Logf("%d rounds: refused %v, stored then revoked %v", rounds, refused, revoked)
}

func testRotateEndedSession(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "rex", auth.RoleReader)
	mkSession(t, s, u, "sess-e", "e1")
	if err := s.Revoke(ctx, auth.Revoke{SessionID: "sess-e", At: base, Until: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	next := &auth.RefreshToken{Hash: hashOf("e2"), SessionID: "sess-e", ExpiresAt: base.Add(time.Hour)}
	if err := s.RotateRefreshToken(ctx, hashOf("e1"), base, next); !errors.Is(err, auth.ErrStale) {
		t.Errorf("rotation in a revoked session: %v, want ErrStale", err)
	}
	if old, _, err := s.RefreshToken(ctx, hashOf("e1")); err != nil || !old.UsedAt.IsZero() {
		t.Errorf("a refused rotation marked the token used: %+v, %v", old, err)
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("e2")); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a refused rotation stored its new token: %v", err)
	}
}

func testIDsNeverReused(t *testing.T, s auth.Store) {
	a, b := mkUser(t, s, "first", auth.RoleEditor), mkUser(t, s, "second", auth.RoleEditor)
	p := mkPost(t, s, b, "by the second")
	highest := b.ID
	for _, name := range []string{"second", "first"} {
		if err := s.DeleteUser(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		c := mkUser(t, s, "second", auth.RoleEditor)
		if c.ID <= highest || c.ID == a.ID {
			t.Errorf("after deleting %s, a new user got id %d; ids so far up to %d", name, c.ID, highest)
		}
		highest = c.ID
		if err := s.DeleteUser(ctx, "second", nil); err != nil {
			t.Fatal(err)
		}
	}
	q := mkPost(t, s, mkUser(t, s, "third", auth.RoleEditor), "later")
	if q.ID <= p.ID {
		t.Errorf("a new post got id %d, not above %d of a deleted user's post", q.ID, p.ID)
	}
}
