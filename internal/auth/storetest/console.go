package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

func pageNames(t *testing.T, s auth.Store, prefix, after string, limit int) []string {
	t.Helper()
	list, err := s.UsersPage(ctx, prefix, after, limit)
	if err != nil {
		t.Fatalf("UsersPage(%q, %q, %d): %v", prefix, after, limit, err)
	}
	names := []string{}
	for _, u := range list {
		names = append(names, u.Name)
	}
	return names
}

func testUsersPage(t *testing.T, s auth.Store) {
	if got := pageNames(t, s, "", "", 10); len(got) != 0 {
		t.Fatalf("UsersPage of an empty store = %q", got)
	}
	for _, name := range []string{"carol", "Alicia", "bob", "ALBERT", "alice", "Émile", "al", "alz"} {
		mkUser(t, s, name, auth.RoleReader)
	}
	// Every user, page by page, in byte order of the key; the last key of
	// a page is the next cursor.
	var all []string
	after := ""
	for range 10 {
		page := pageNames(t, s, "", after, 3)
		all = append(all, page...)
		if len(page) < 3 {
			break
		}
		after = auth.NameKey(page[len(page)-1])
	}
	if want := []string{"al", "ALBERT", "alice", "Alicia", "alz", "bob", "carol", "Émile"}; !slices.Equal(all, want) {
		t.Fatalf("pages = %q, want %q", all, want)
	}
	for _, tc := range []struct {
		prefix, after string
		limit         int
		want          []string
	}{
		{"al", "", 2, []string{"al", "ALBERT"}},
		{"al", "albert", 2, []string{"alice", "Alicia"}},
		{"al", "alicia", 5, []string{"alz"}},
		{"ali", "", 5, []string{"alice", "Alicia"}},
		{"alice", "", 5, []string{"alice"}},
		{"é", "", 5, []string{"Émile"}},
		{"x", "", 5, []string{}},
		{"al", "zzz", 5, []string{}},
		// LIKE wildcards and range ends are plain text.
		{"a%", "", 5, []string{}},
		{"_", "", 5, []string{}},
	} {
		if got := pageNames(t, s, tc.prefix, tc.after, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("UsersPage(%q, %q, %d) = %q, want %q", tc.prefix, tc.after, tc.limit, got, tc.want)
		}
	}
	list, err := s.UsersPage(ctx, "bob", "", 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("UsersPage(bob) = %v, %v", list, err)
	}
	if want, _ := s.UserByName(ctx, "bob"); !sameUser(list[0], want) {
		t.Errorf("UsersPage user %+v, want %+v", list[0], want)
	}
	if _, err := s.UsersPage(ctx, "", "", 0); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("limit 0: err = %v, want ErrInvalid", err)
	}
}

func testMustChangePassword(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "mona", auth.RoleReader)
	if u.MustChangePassword {
		t.Fatal("a new user must change their password")
	}
	yes, h2, h3 := true, hash+"2", hash+"3"
	got, err := s.UpdateUser(ctx, "MONA", auth.UserUpdate{PasswordHash: &h2, MustChangePassword: &yes})
	if err != nil || !got.MustChangePassword || got.PasswordHash != h2 {
		t.Fatalf("set password marked to change = %+v, %v", got, err)
	}
	if got, _ := s.UserByName(ctx, "mona"); !got.MustChangePassword {
		t.Error("UserByName lost MustChangePassword")
	}
	mkSession(t, s, got, "m-1", "m1")
	if _, sess, err := s.RefreshToken(ctx, hashOf("m1")); err != nil || !sess.User.MustChangePassword {
		t.Errorf("RefreshToken's user: %+v, %v; want MustChangePassword", sess, err)
	}
	// Another change keeps it; a password change without the field
	// clears it.
	r := auth.RoleEditor
	if got, err := s.UpdateUser(ctx, "mona", auth.UserUpdate{Role: &r}); err != nil || !got.MustChangePassword {
		t.Errorf("role change: %+v, %v; want MustChangePassword kept", got, err)
	}
	if got, err := s.UpdateUser(ctx, "mona", auth.UserUpdate{PasswordHash: &h3}); err != nil || got.MustChangePassword {
		t.Errorf("password change: %+v, %v; want MustChangePassword cleared", got, err)
	}
}

func testEndSessionsOnly(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "otto", auth.RoleReader)
	mkSession(t, s, u, "o-1", "o1")
	at, until := base.Add(time.Hour), base.Add(2*time.Hour)
	got, err := s.UpdateUser(ctx, "Otto", auth.UserUpdate{EndSessions: &auth.Revoke{At: at, Until: until}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != u.Version+1 {
		t.Errorf("version = %d, want %d", got.Version, u.Version+1)
	}
	if ids := revokedIDs(t, s, time.Time{}, at); len(ids) != 1 || !ids["o-1"].Equal(until) {
		t.Errorf("revocations = %v, want o-1", ids)
	}
}
