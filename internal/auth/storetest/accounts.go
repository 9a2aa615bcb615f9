package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
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
	if err := rotate(s, hashOf("e1"), base, next); !errors.Is(err, auth.ErrStale) {
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

func testLastAdmin(t *testing.T, s auth.Store) {
	root := mkUser(t, s, "root", auth.RoleAdmin)
	mkUser(t, s, "ed", auth.RoleEditor)
	old := mkUser(t, s, "old", auth.RoleAdmin)
	yes, no, editor, admin := true, false, auth.RoleEditor, auth.RoleAdmin
	if _, err := s.UpdateUser(ctx, "old", auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	lastOnes := []struct {
		name string
		call func() error
	}{
		{"demote ROOT", func() error {
			_, err := s.UpdateUser(ctx, "ROOT", auth.UserUpdate{Role: &editor, EndSessions: endAt})
			return err
		}},
		{"disable Root", func() error { _, err := s.UpdateUser(ctx, "Root", auth.UserUpdate{Disabled: &yes}); return err }},
		{"admin but disabled", func() error {
			_, err := s.UpdateUser(ctx, "root", auth.UserUpdate{Role: &admin, Disabled: &yes})
			return err
		}},
		{"delete rOOT", func() error { return s.DeleteUser(ctx, "rOOT", endAt) }},
	}
	check := func(when string) {
		t.Helper()
		for _, c := range lastOnes {
			if err := c.call(); !errors.Is(err, auth.ErrLastAdmin) || !errors.Is(err, auth.ErrForbidden) {
				t.Errorf("%s, %s: %v, want ErrLastAdmin", when, c.name, err)
			}
		}
		if got, err := s.UserByID(ctx, root.ID); err != nil || got.Role != auth.RoleAdmin || got.Disabled || got.Version != root.Version {
			t.Errorf("%s, refused changes changed root: %+v, %v", when, got, err)
		}
	}
	// A disabled admin does not count.
	check("the only enabled admin")
	// Changes that keep root an enabled admin go through.
	h := "$2a$10$root"
	if _, err := s.UpdateUser(ctx, "ROOT", auth.UserUpdate{PasswordHash: &h, Role: &admin, Disabled: &no}); err != nil {
		t.Fatalf("change that keeps the last admin: %v", err)
	}
	root, _ = s.UserByID(ctx, root.ID)
	// Another enabled admin lets root go, then is the last one.
	if _, err := s.UpdateUser(ctx, "old", auth.UserUpdate{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, "root", auth.UserUpdate{Role: &editor}); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "old", auth.UserUpdate{Role: &editor}); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("demoting the other, now last, admin: %v, want ErrLastAdmin", err)
	}
	if err := s.DeleteUser(ctx, "OLD", nil); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("deleting the last admin: %v, want ErrLastAdmin", err)
	}
	if _, err := s.UpdateUser(ctx, "root", auth.UserUpdate{Role: &admin}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "old", nil); err != nil {
		t.Fatalf("deleting one of two admins: %v", err)
	}
	if _, err := s.UserByID(ctx, old.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted admin: %v", err)
	}
	root, _ = s.UserByID(ctx, root.ID)
	check("root alone again")
	// Users other than admins come and go freely.
	if err := s.DeleteUser(ctx, "ed", nil); err != nil {
		t.Errorf("deleting an editor: %v", err)
	}
}

// testConcurrentLastAdmin has the only two enabled admins remove each
// other at once, many times: one must fail, whatever the interleaving.
func testConcurrentLastAdmin(t *testing.T, s auth.Store) {
	const rounds = 40
	editor, yes := auth.RoleEditor, true
	removals := []struct {
		name string
		do   func(name string) error
	}{
		{"demote", func(name string) error {
			_, err := s.UpdateUser(ctx, name, auth.UserUpdate{Role: &editor, EndSessions: endAt})
			return err
		}},
		{"disable", func(name string) error {
			_, err := s.UpdateUser(ctx, name, auth.UserUpdate{Disabled: &yes, EndSessions: endAt})
			return err
		}},
		{"delete", func(name string) error { return s.DeleteUser(ctx, name, endAt) }},
	}
	survivor := ""
	for i := range rounds {
		a, b := fmt.Sprint("a", i), fmt.Sprint("b", i)
		mkUser(t, s, a, auth.RoleAdmin)
		mkUser(t, s, b, auth.RoleAdmin)
		if survivor != "" {
			if _, err := s.UpdateUser(ctx, survivor, auth.UserUpdate{Role: &editor}); err != nil {
				t.Fatalf("round %d: demoting %s beside two admins: %v", i, survivor, err)
			}
		}
		// Every pair of kinds meets every 9 rounds.
		ra, rb := removals[i%len(removals)], removals[(i/len(removals))%len(removals)]
		start := make(chan struct{})
		var errA, errB error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); <-start; errA = ra.do(b) }()
		go func() { defer wg.Done(); <-start; errB = rb.do(a) }()
		close(start)
		wg.Wait()
		for _, e := range []error{errA, errB} {
			if e != nil && !errors.Is(e, auth.ErrLastAdmin) {
				t.Fatalf("round %d (%s, %s): %v, want nil or ErrLastAdmin", i, ra.name, rb.name, e)
			}
		}
		if (errA == nil) == (errB == nil) {
			t.Errorf("round %d: %s b and %s a at once: errors %v and %v; want exactly one refused", i, ra.name, rb.name, errA, errB)
		}
		users, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		survivor = ""
		for _, u := range users {
			if u.Role == auth.RoleAdmin && !u.Disabled {
				if survivor != "" {
					t.Fatalf("round %d: enabled admins %s and %s, want one", i, survivor, u.Name)
				}
				survivor = u.Name
			}
		}
		if survivor == "" {
			t.Fatalf("round %d: %s b and %s a at once left no enabled admin", i, ra.name, rb.name)
		}
	}
}
