// Package storetest is a conformance suite for auth.Store implementations:
// every backend runs the same tests, so they behave the same way.
//
// A backend's test calls Run with a function that opens a fresh, empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) auth.Store { ... })
//	}
//
// Besides the contracts documented on auth.UserStore and auth.PostStore,
// the suite holds backends to these:
//
//   - Usernames keep their case but are unique and looked up by
//     auth.NameKey: ignoring case (strings.EqualFold, not only ASCII),
//     width and normalisation: "Alice", "alice" and "ａｌｉｃｅ" are one user.
//     Lookups are exact otherwise (no LIKE wildcards, no trimming).
//     ListUsers orders by name ignoring case; UsersPage by NameKey in byte
//     order, its prefix matched as plain text.
//   - Strings round-trip exactly (unicode, quotes, backslashes, newlines).
//   - Times are compared to within a second: a backend may keep any
//     precision of a millisecond or finer. UpdatedAt never goes back.
//   - CreatePost with an AuthorID that is no user's fails with
//     auth.ErrInvalid and stores nothing.
//   - A cancelled context fails an operation with an error wrapping
//     context.Canceled, and a write so refused changes nothing.
//   - After Close every method, Ping included, fails with an error wrapping
//     auth.ErrUnavailable; Close again returns nil.
//   - Sessions: RotateRefreshToken succeeds once per token, even when
//     called concurrently; Revoke, UpdateUser.EndSessions and DeleteUser's
//     end revoke sessions and record revocations in the same transaction.
//   - Accounts: a session is stored only for the user's current Version;
//     a refresh token is rotated only in a live session; ids are never
//     reused; the last enabled admin stays, whatever the case of the name
//     and the concurrency.
//   - Concurrent CreateUser calls are safe: of several creating one name
//     (in any case), exactly one succeeds and the others get ErrConflict.
//   - Token lifetimes: every store is also an auth.TokenLifetimeStore. A
//     record is kept per instance and never shortened, durations and
//     times round up (never down) to the store's precision, and
//     PurgeExpired deletes the records whose Until has passed.
//   - Audit trail: every store is also an auth.AuditStore. Events keep
//     every field; ids increase and are never reused; a search by user
//     matches the event's user or actor by auth.NameKey, exactly.
//
// Stored password hashes are opaque strings to a store; the suite uses
// fixed ones and never hashes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Run runs the suite as subtests of t, each on a store from open. open must
// return a fresh, empty store; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) auth.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s auth.Store)
	}{
		{"CreateUser", testCreateUser},
		{"StringsRoundTrip", testStringsRoundTrip},
		{"NamesIgnoreCase", testNamesIgnoreCase},
		{"LookalikeNames", testLookalikeNames},
		{"DuplicateChangesNothing", testDuplicateChangesNothing},
		{"LookupsAreExact", testLookupsAreExact},
		{"NotFound", testNotFound},
		{"UpdateUser", testUpdateUser},
		{"UnknownRoleRefused", testUnknownRole},
		{"ListUsers", testListUsers},
		{"CountUsers", testCountUsers},
		{"UsersPage", testUsersPage},
		{"MustChangePassword", testMustChangePassword},
		{"EndSessionsOnly", testEndSessionsOnly},
		{"DeleteUserDeletesTheirPosts", testDeleteUser},
		{"CreatePost", testCreatePost},
		{"PostUnknownAuthor", testPostUnknownAuthor},
		{"DeletePost", testDeletePost},
		{"ListPostsPaging", testPaging},
		{"ListPostsCursorSurvivesDeletes", testCursorAfterDelete},
		{"ConcurrentCreateUser", testConcurrentCreate},
		{"ContextCanceled", testContextCanceled},
		{"Ping", testPing},
		{"Closed", testClosed},
		{"Sessions", testSessions},
		{"RotateRefreshTokenOnce", testRotateOnce},
		{"RotateRefreshTokenRefused", testRotateRefused},
		{"ConcurrentRotate", testConcurrentRotate},
		{"ConcurrentRotateMany", testConcurrentRotateMany},
		{"RevokeSessionAndTokens", testRevoke},
		{"RevokeUserSessions", testRevokeUser},
		{"UserSessions", testUserSessions},
		{"UpdateUserEndsSessions", testUpdateEndsSessions},
		{"DeleteUserEndsSessions", testDeleteEndsSessions},
		{"PurgeExpired", testPurge},
		{"SigningKeys", testSigningKeys},
		{"SigningKeyOnlyIfNone", testSigningKeyOnlyIfNone},
		{"TokenLifetimes", testTokenLifetimes},
		{"TokenLifetimesUnavailable", testTokenLifetimesUnavailable},
		{"UserVersion", testUserVersion},
		{"SessionRacesUserChange", testSessionRacesUserChange},
		{"RotateEndedSession", testRotateEndedSession},
		{"IDsNeverReused", testIDsNeverReused},
		{"LastAdmin", testLastAdmin},
		{"ConcurrentLastAdmin", testConcurrentLastAdmin},
		{"Clients", testClients},
		{"AuthCodes", testAuthCodes},
		{"ConcurrentRedeem", testConcurrentRedeem},
		{"DeleteClient", testDeleteClient},
		{"OIDCCodeRefusals", testOIDCCodeRefusals},
		{"OIDCCodeReuse", testOIDCCodeReuse},
		{"OIDCConcurrentExchange", testOIDCConcurrentExchange},
		{"OIDCRefreshBoundToClient", testOIDCRefreshBoundToClient},
		{"OIDCDeleteClientEndsSessions", testOIDCDeleteClientEndsSessions},
		{"AuditEvents", testAuditEvents},
		{"AuditPurge", testAuditPurge},
		{"WebAuthnHandle", testWebAuthnHandle},
		{"Passkeys", testPasskeys},
		{"PasskeySignCount", testPasskeySignCount},
		{"Ceremonies", testCeremonies},
		{"MFATOTP", testMFATOTP},
		{"MFARecovery", testMFARecovery},
		{"MFAChallenges", testMFAChallenges},
		{"MFAReset", testMFAReset},
		{"SessionAMR", testSessionAMR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// A fixed password hash: stores treat hashes as opaque strings.
const hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

func mkUser(t *testing.T, s auth.Store, name string, role auth.Role) *auth.User {
	t.Helper()
	u := &auth.User{Name: name, Role: role, PasswordHash: hash}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func mkPost(t *testing.T, s auth.Store, author *auth.User, title string) *auth.Post {
	t.Helper()
	p := &auth.Post{AuthorID: author.ID, Title: title, Body: "body of " + title}
	if err := s.CreatePost(ctx, p); err != nil {
		t.Fatalf("CreatePost(%q): %v", title, err)
	}
	return p
}

// sameTime compares times to within a second: backends keep milliseconds,
// microseconds or nanoseconds, and may round rather than truncate.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Second && d < time.Second
}

// between reports whether tm lies in [from, to], to within a second.
func between(tm, from, to time.Time) bool {
	return !tm.Before(from.Add(-time.Second)) && !tm.After(to.Add(time.Second))
}

func sameUser(a, b *auth.User) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Role == b.Role && a.PasswordHash == b.PasswordHash &&
		a.Disabled == b.Disabled && sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.UpdatedAt, b.UpdatedAt)
}

func samePost(a, b *auth.Post) bool {
	return a.ID == b.ID && a.AuthorID == b.AuthorID && a.Author == b.Author && a.Title == b.Title &&
		a.Body == b.Body && sameTime(a.CreatedAt, b.CreatedAt)
}

func count(t *testing.T, s auth.Store) int {
	t.Helper()
	n, err := s.CountUsers(ctx)
	if err != nil {
		t.Fatalf("CountUsers: %v", err)
	}
	return n
}

func postIDs(t *testing.T, s auth.Store) []int64 {
	t.Helper()
	ps, err := s.ListPosts(ctx, auth.MaxPageSize, 0)
	if err != nil {
		t.Fatalf("ListPosts: %v", err)
	}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

func testCreateUser(t *testing.T, s auth.Store) {
	start := time.Now()
	u := &auth.User{Name: "ada", Role: auth.RoleEditor, PasswordHash: hash}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if u.ID <= 0 {
		t.Errorf("CreateUser set ID %d, want > 0", u.ID)
	}
	if !between(u.CreatedAt, start, end) || !between(u.UpdatedAt, start, end) || u.UpdatedAt.Before(u.CreatedAt) {
		t.Errorf("CreateUser set CreatedAt %v, UpdatedAt %v; want both in [%v, %v]", u.CreatedAt, u.UpdatedAt, start, end)
	}
	v := &auth.User{Name: "grace", Role: auth.RoleReader, PasswordHash: "$2a$10$other", Disabled: true}
	if err := s.CreateUser(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.ID <= 0 || v.ID == u.ID {
		t.Errorf("second user got ID %d (first %d)", v.ID, u.ID)
	}
	for _, want := range []*auth.User{u, v} {
		got, err := s.UserByName(ctx, want.Name)
		if err != nil || !sameUser(got, want) {
			t.Errorf("UserByName(%q) = %+v, %v; want %+v", want.Name, got, err, want)
		}
		got, err = s.UserByID(ctx, want.ID)
		if err != nil || !sameUser(got, want) {
			t.Errorf("UserByID(%d) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	// The store hands out copies: changing a returned user changes nothing.
	got, _ := s.UserByName(ctx, "ada")
	got.Role = auth.RoleAdmin
	if again, _ := s.UserByName(ctx, "ada"); again.Role != auth.RoleEditor {
		t.Errorf("changing a returned user changed the store: role %q", again.Role)
	}
}

func testStringsRoundTrip(t *testing.T, s auth.Store) {
	names := []string{
		`O'Brien`, `"quoted"`, `back\slash`, `Zoë`, `日本語ユーザー`, `emoji😀`, "tab\tand\nnewline",
		`percent%_under`, `'; DROP TABLE users; --`, `ǅungla`,
	}
	for i, name := range names {
		h := fmt.Sprintf("$2b$12$%d'\"\\%%_ünï", i)
		u := &auth.User{Name: name, Role: auth.RoleReader, PasswordHash: h}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%q): %v", name, err)
		}
		got, err := s.UserByName(ctx, name)
		if err != nil || got.Name != name || got.PasswordHash != h {
			t.Errorf("UserByName(%q) = %+v, %v", name, got, err)
		}
		if got, err := s.UserByID(ctx, u.ID); err != nil || got.Name != name {
			t.Errorf("UserByID for %q = %+v, %v", name, got, err)
		}
	}
	author, _ := s.UserByName(ctx, names[0])
	title := `Hello "world" it's ☃ \ 100% _done_ 🎉`
	body := "line 1\r\nline 2\n\ttabbed 'single' \"double\" \\ back\n" + strings.Repeat("ünïcødé ", auth.MaxBodyLen/16)
	p := &auth.Post{AuthorID: author.ID, Title: title, Body: body}
	if err := s.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.Post(ctx, p.ID)
	if err != nil || got.Title != title || got.Body != body || got.Author != names[0] {
		t.Fatalf("post did not round-trip: err %v, title %q, author %q, body equal %v", err, got.Title, got.Author, got.Body == body)
	}
}

func testNamesIgnoreCase(t *testing.T, s auth.Store) {
	alice := mkUser(t, s, "Alice", auth.RoleEditor)
	emile := mkUser(t, s, "émile", auth.RoleReader)
	for _, name := range []string{"alice", "ALICE", "aLiCe", "Émile", "ÉMILE"} {
		err := s.CreateUser(ctx, &auth.User{Name: name, Role: auth.RoleAdmin, PasswordHash: hash})
		if !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateUser(%q) with %q taken: err = %v, want ErrConflict", name, "Alice/émile", err)
		}
	}
	for name, want := range map[string]*auth.User{"alice": alice, "ALICE": alice, "ÉMILE": emile, "Émile": emile} {
		got, err := s.UserByName(ctx, name)
		if err != nil || got.ID != want.ID || got.Name != want.Name {
			t.Errorf("UserByName(%q) = %+v, %v; want %q as created", name, got, err, want.Name)
		}
	}
	reader := auth.RoleReader
	got, err := s.UpdateUser(ctx, "aLICE", auth.UserUpdate{Role: &reader})
	if err != nil || got.ID != alice.ID || got.Name != "Alice" || got.Role != auth.RoleReader {
		t.Errorf("UpdateUser(%q) = %+v, %v", "aLICE", got, err)
	}
	if err := s.DeleteUser(ctx, "ÉMILE", nil); err != nil {
		t.Errorf("DeleteUser(%q): %v", "ÉMILE", err)
	}
	if _, err := s.UserByName(ctx, "émile"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("after DeleteUser(ÉMILE), UserByName(émile): %v, want ErrNotFound", err)
	}
	if n := count(t, s); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testDuplicateChangesNothing(t *testing.T, s auth.Store) {
	bob := mkUser(t, s, "bob", auth.RoleReader)
	mkUser(t, s, "carol", auth.RoleReader)
	before, _ := s.UserByName(ctx, "bob")
	for _, name := range []string{"bob", "BOB"} {
		dup := &auth.User{Name: name, Role: auth.RoleAdmin, PasswordHash: "$2a$10$intruder", Disabled: true}
		if err := s.CreateUser(ctx, dup); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateUser(%q) again: err = %v, want ErrConflict", name, err)
		}
	}
	if n := count(t, s); n != 2 {
		t.Errorf("refused duplicates changed the user count to %d, want 2", n)
	}
	after, err := s.UserByName(ctx, "bob")
	if err != nil || !sameUser(after, before) || after.ID != bob.ID {
		t.Errorf("a refused duplicate changed the user: %+v, want %+v", after, before)
	}
}

func testLookupsAreExact(t *testing.T, s auth.Store) {
	mkUser(t, s, "a_b", auth.RoleReader)
	mkUser(t, s, "c%", auth.RoleReader)
	mkUser(t, s, "dave", auth.RoleReader)
	for _, name := range []string{"axb", "a%", "c", "cx", "dave ", " dave", "dav", "dave\x00", "da\xffve", "", "%", "_"} {
		if u, err := s.UserByName(ctx, name); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByName(%q) = %+v, %v; want ErrNotFound", name, u, err)
		}
	}
	if err := s.DeleteUser(ctx, "a%", nil); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeleteUser(%q): %v, want ErrNotFound", "a%", err)
	}
	if n := count(t, s); n != 3 {
		t.Errorf("CountUsers = %d, want 3", n)
	}
}

func testNotFound(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "someone", auth.RoleEditor)
	p := mkPost(t, s, u, "a post")
	r := auth.RoleAdmin
	checks := []struct {
		op  string
		err error
	}{{op: "UserByName"}, {op: "UserByID"}, {op: "UpdateUser"}, {op: "DeleteUser"}, {op: "Post"}, {op: "DeletePost"}}
	_, checks[0].err = s.UserByName(ctx, "nobody")
	_, checks[1].err = s.UserByID(ctx, u.ID+1000)
	_, checks[2].err = s.UpdateUser(ctx, "nobody", auth.UserUpdate{Role: &r})
	checks[3].err = s.DeleteUser(ctx, "nobody", nil)
	_, checks[4].err = s.Post(ctx, p.ID+1000)
	checks[5].err = s.DeletePost(ctx, p.ID+1000)
	for _, c := range checks {
		if !errors.Is(c.err, auth.ErrNotFound) {
			t.Errorf("%s of an unknown one: err = %v, want ErrNotFound", c.op, c.err)
		}
	}
	if n := count(t, s); n != 1 {
		t.Errorf("CountUsers = %d after failed calls, want 1", n)
	}
}

func testUpdateUser(t *testing.T, s auth.Store) {
	mkUser(t, s, "carol", auth.RoleReader)
	mkUser(t, s, "bystander", auth.RoleReader)
	editor, admin, yes, no := auth.RoleEditor, auth.RoleAdmin, true, false
	hash2, hash3 := "$2a$10$second", "$argon2id$v=19$m=19456,t=2,p=1$third$hash"
	steps := []struct {
		name string
		upd  auth.UserUpdate
		want func(u *auth.User) // applies the update to the expectation
	}{
		{"role", auth.UserUpdate{Role: &editor}, func(u *auth.User) { u.Role = editor }},
		{"disabled", auth.UserUpdate{Disabled: &yes}, func(u *auth.User) { u.Disabled = true }},
		{"password hash", auth.UserUpdate{PasswordHash: &hash2}, func(u *auth.User) { u.PasswordHash = hash2 }},
		{"enabled", auth.UserUpdate{Disabled: &no}, func(u *auth.User) { u.Disabled = false }},
		{"all together", auth.UserUpdate{Role: &admin, Disabled: &yes, PasswordHash: &hash3},
			func(u *auth.User) { u.Role, u.Disabled, u.PasswordHash = admin, true, hash3 }},
	}
	for _, st := range steps {
		prev, err := s.UserByName(ctx, "carol")
		if err != nil {
			t.Fatal(err)
		}
		want := *prev
		st.want(&want)
		start := time.Now()
		got, err := s.UpdateUser(ctx, "carol", st.upd)
		if err != nil {
			t.Fatalf("update %s: %v", st.name, err)
		}
		want.UpdatedAt = got.UpdatedAt
		if !sameUser(got, &want) || !got.CreatedAt.Equal(prev.CreatedAt) {
			t.Errorf("update %s returned %+v, want %+v", st.name, got, &want)
		}
		if got.UpdatedAt.Before(prev.UpdatedAt) || !between(got.UpdatedAt, start, time.Now()) {
			t.Errorf("update %s: UpdatedAt %v, was %v; want it to advance to now", st.name, got.UpdatedAt, prev.UpdatedAt)
		}
		stored, err := s.UserByID(ctx, got.ID)
		if err != nil || !sameUser(stored, got) {
			t.Errorf("update %s: stored %+v, %v; returned %+v", st.name, stored, err, got)
		}
	}
	if b, _ := s.UserByName(ctx, "bystander"); b.Role != auth.RoleReader || b.Disabled || b.PasswordHash != hash {
		t.Errorf("updating carol changed another user: %+v", b)
	}
}

func testUnknownRole(t *testing.T, s auth.Store) {
	mkUser(t, s, "erin", auth.RoleReader)
	before, _ := s.UserByName(ctx, "erin")
	bad, yes := auth.Role("root"), true
	if _, err := s.UpdateUser(ctx, "erin", auth.UserUpdate{Role: &bad, Disabled: &yes}); err == nil {
		t.Error("UpdateUser stored the role \"root\"")
	}
	if after, _ := s.UserByName(ctx, "erin"); !sameUser(after, before) {
		t.Errorf("a refused update changed the user: %+v, was %+v", after, before)
	}
	if err := s.CreateUser(ctx, &auth.User{Name: "root", Role: bad, PasswordHash: hash}); err == nil {
		t.Error("CreateUser stored the role \"root\"")
	}
	if n := count(t, s); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testListUsers(t *testing.T, s auth.Store) {
	if list, err := s.ListUsers(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListUsers of an empty store = %v, %v", list, err)
	}
	var made []*auth.User
	for _, name := range []string{"carol", "Bob", "dave", "alice", "Eve"} {
		made = append(made, mkUser(t, s, name, auth.RoleReader))
	}
	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Name)
	}
	if want := []string{"alice", "Bob", "carol", "dave", "Eve"}; !slices.Equal(names, want) {
		t.Fatalf("ListUsers names = %q, want %q (by name ignoring case)", names, want)
	}
	for _, want := range made {
		i := slices.IndexFunc(list, func(u *auth.User) bool { return u.ID == want.ID })
		if i < 0 || !sameUser(list[i], want) {
			t.Errorf("ListUsers has %+v for %+v", list[max(i, 0)], want)
		}
	}
}

func testCountUsers(t *testing.T, s auth.Store) {
	if n := count(t, s); n != 0 {
		t.Fatalf("CountUsers of an empty store = %d", n)
	}
	for i := range 3 {
		mkUser(t, s, fmt.Sprint("user", i), auth.RoleReader)
	}
	if n := count(t, s); n != 3 {
		t.Fatalf("CountUsers = %d, want 3", n)
	}
	if err := s.DeleteUser(ctx, "user1", nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != 2 {
		t.Fatalf("CountUsers after a delete = %d, want 2", n)
	}
}

func testDeleteUser(t *testing.T, s auth.Store) {
	frank := mkUser(t, s, "frank", auth.RoleEditor)
	gina := mkUser(t, s, "gina", auth.RoleEditor)
	f1, g1 := mkPost(t, s, frank, "f1"), mkPost(t, s, gina, "g1")
	f2, g2 := mkPost(t, s, frank, "f2"), mkPost(t, s, gina, "g2")
	if err := s.DeleteUser(ctx, "frank", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByName(ctx, "frank"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted user by name: %v, want ErrNotFound", err)
	}
	if _, err := s.UserByID(ctx, frank.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted user by id: %v, want ErrNotFound", err)
	}
	for _, p := range []*auth.Post{f1, f2} {
		if _, err := s.Post(ctx, p.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("post %d of the deleted user: %v, want ErrNotFound", p.ID, err)
		}
	}
	if got, want := postIDs(t, s), []int64{g2.ID, g1.ID}; !slices.Equal(got, want) {
		t.Errorf("posts left = %v, want gina's %v", got, want)
	}
	if err := s.DeleteUser(ctx, "frank", nil); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeleteUser twice: %v, want ErrNotFound", err)
	}
	if n := count(t, s); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testCreatePost(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "Dave", auth.RoleEditor)
	start := time.Now()
	p := &auth.Post{AuthorID: u.ID, Title: "Hello", Body: "line 1\nline 2"}
	if err := s.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ID <= 0 || p.Author != "Dave" || !between(p.CreatedAt, start, time.Now()) {
		t.Fatalf("CreatePost set ID %d, Author %q, CreatedAt %v; want an id, %q, now", p.ID, p.Author, p.CreatedAt, "Dave")
	}
	q := mkPost(t, s, u, "second")
	if q.ID == p.ID {
		t.Fatalf("two posts got id %d", p.ID)
	}
	got, err := s.Post(ctx, p.ID)
	if err != nil || !samePost(got, p) {
		t.Fatalf("Post(%d) = %+v, %v; want %+v", p.ID, got, err, p)
	}
}

func testPostUnknownAuthor(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "henry", auth.RoleEditor)
	mkPost(t, s, u, "kept")
	before := postIDs(t, s)
	for _, id := range []int64{u.ID + 1000, 0, -1} {
		err := s.CreatePost(ctx, &auth.Post{AuthorID: id, Title: "orphan"})
		if !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("CreatePost by unknown author %d: err = %v, want ErrInvalid", id, err)
		}
	}
	if after := postIDs(t, s); !slices.Equal(after, before) {
		t.Errorf("refused posts were stored: ids %v, were %v", after, before)
	}
}

func testDeletePost(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "ivy", auth.RoleEditor)
	p, q := mkPost(t, s, u, "doomed"), mkPost(t, s, u, "kept")
	if err := s.DeletePost(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, p.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Post after DeletePost: %v, want ErrNotFound", err)
	}
	if err := s.DeletePost(ctx, p.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeletePost twice: %v, want ErrNotFound", err)
	}
	if got, err := s.Post(ctx, q.ID); err != nil || got.Title != "kept" {
		t.Errorf("the other post: %+v, %v", got, err)
	}
	if _, err := s.UserByName(ctx, "ivy"); err != nil {
		t.Errorf("deleting a post touched its author: %v", err)
	}
}

// pageAll pages through ListPosts with the given page size and returns the
// ids seen and the sizes of the pages.
func pageAll(t *testing.T, s auth.Store, limit int) (ids []int64, sizes []int) {
	t.Helper()
	var before int64
	for range 100 {
		ps, err := s.ListPosts(ctx, limit, before)
		if err != nil {
			t.Fatalf("ListPosts(%d, %d): %v", limit, before, err)
		}
		if len(ps) > limit {
			t.Fatalf("ListPosts(%d, %d) returned %d posts", limit, before, len(ps))
		}
		if len(ps) == 0 {
			return ids, sizes
		}
		sizes = append(sizes, len(ps))
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		before = ps[len(ps)-1].ID
	}
	t.Fatal("ListPosts paging does not end")
	return nil, nil
}

func testPaging(t *testing.T, s auth.Store) {
	if ps, err := s.ListPosts(ctx, 10, 0); err != nil || len(ps) != 0 {
		t.Fatalf("ListPosts of no posts = %v, %v", ps, err)
	}
	a, b := mkUser(t, s, "jane", auth.RoleEditor), mkUser(t, s, "kurt", auth.RoleEditor)
	var made []*auth.Post // newest first
	for i := range 8 {
		p := mkPost(t, s, []*auth.User{a, b}[i%2], fmt.Sprint("post ", i))
		made = append([]*auth.Post{p}, made...)
	}
	want := make([]int64, len(made))
	for i, p := range made {
		want[i] = p.ID
	}
	if !slices.IsSortedFunc(want, func(x, y int64) int { return int(y - x) }) {
		t.Fatalf("post ids %v do not grow with creation", want)
	}
	ids, sizes := pageAll(t, s, 3)
	if !slices.Equal(ids, want) || !slices.Equal(sizes, []int{3, 3, 2}) {
		t.Fatalf("pages of 3: ids %v in pages %v; want %v in pages [3 3 2]", ids, sizes, want)
	}
	all, err := s.ListPosts(ctx, 100, 0)
	if err != nil || len(all) != len(made) {
		t.Fatalf("ListPosts(100, 0) = %d posts, %v", len(all), err)
	}
	for i, p := range all {
		if !samePost(p, made[i]) {
			t.Errorf("ListPosts[%d] = %+v, want %+v", i, p, made[i])
		}
	}
	ps, err := s.ListPosts(ctx, 2, want[2])
	if err != nil || len(ps) != 2 || ps[0].ID != want[3] || ps[1].ID != want[4] {
		t.Errorf("ListPosts(2, before %d) = %v, %v; want ids %v", want[2], ps, err, want[3:5])
	}
	if ps, err := s.ListPosts(ctx, 3, want[len(want)-1]); err != nil || len(ps) != 0 {
		t.Errorf("ListPosts before the oldest = %v, %v; want none", ps, err)
	}
	if ps, err := s.ListPosts(ctx, 3, want[0]+1000); err != nil || len(ps) != 3 || ps[0].ID != want[0] {
		t.Errorf("ListPosts before an id past the newest = %v, %v; want the first page", ps, err)
	}
}

func testCursorAfterDelete(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "lena", auth.RoleEditor)
	var ids []int64 // newest first
	for i := range 7 {
		ids = append([]int64{mkPost(t, s, u, fmt.Sprint("post ", i)).ID}, ids...)
	}
	page1, err := s.ListPosts(ctx, 3, 0)
	if err != nil || len(page1) != 3 {
		t.Fatalf("page 1: %v, %v", page1, err)
	}
	cursor := page1[2].ID
	// Between pages, the cursor's own post and the next one are deleted and
	// a new post is written: the next page goes on below the cursor.
	for _, id := range []int64{cursor, ids[3]} {
		if err := s.DeletePost(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	newest := mkPost(t, s, u, "newest")
	if newest.ID <= ids[0] {
		t.Errorf("a new post got id %d, not above the newest %d: ids are reused", newest.ID, ids[0])
	}
	page2, err := s.ListPosts(ctx, 3, cursor)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, p := range page2 {
		got = append(got, p.ID)
	}
	if want := ids[4:7]; !slices.Equal(got, want) {
		t.Fatalf("page 2 after deletes = %v, want %v", got, want)
	}
}

func testConcurrentCreate(t *testing.T, s auth.Store) {
	const n = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	distinct := make([]error, n)
	same := make([]error, n)
	ids := make([]int64, n)
	spellings := []string{"same", "SAME", "Same", "sAmE"}
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			u := &auth.User{Name: fmt.Sprint("distinct", i), Role: auth.RoleReader, PasswordHash: hash}
			distinct[i] = s.CreateUser(ctx, u)
			ids[i] = u.ID
		}()
		go func() {
			defer wg.Done()
			<-start
			same[i] = s.CreateUser(ctx, &auth.User{Name: spellings[i%len(spellings)], Role: auth.RoleReader, PasswordHash: hash})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range distinct {
		if err != nil {
			t.Errorf("concurrent CreateUser(distinct%d): %v", i, err)
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != n {
		t.Errorf("concurrent creations got ids %v, not %d distinct", ids, n)
	}
	ok := 0
	for i, err := range same {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, auth.ErrConflict):
			t.Errorf("concurrent CreateUser(%q): %v, want nil or ErrConflict", spellings[i%len(spellings)], err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent creations of one name succeeded, want exactly 1", ok)
	}
	if c := count(t, s); c != n+1 {
		t.Errorf("CountUsers = %d, want %d", c, n+1)
	}
}

func testContextCanceled(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "mona", auth.RoleEditor)
	p := mkPost(t, s, u, "still here")
	c, cancel := context.WithCancel(ctx)
	cancel()
	r := auth.RoleAdmin
	calls := map[string]func() error{
		"CreateUser": func() error {
			return s.CreateUser(c, &auth.User{Name: "never", Role: auth.RoleReader, PasswordHash: hash})
		},
		"UserByName": func() error { _, err := s.UserByName(c, "mona"); return err },
		"UserByID":   func() error { _, err := s.UserByID(c, u.ID); return err },
		"ListUsers":  func() error { _, err := s.ListUsers(c); return err },
		"CountUsers": func() error { _, err := s.CountUsers(c); return err },
		"UpdateUser": func() error { _, err := s.UpdateUser(c, "mona", auth.UserUpdate{Role: &r}); return err },
		"DeleteUser": func() error { return s.DeleteUser(c, "mona", nil) },
		"CreatePost": func() error { return s.CreatePost(c, &auth.Post{AuthorID: u.ID, Title: "never"}) },
		"Post":       func() error { _, err := s.Post(c, p.ID); return err },
		"ListPosts":  func() error { _, err := s.ListPosts(c, 10, 0); return err },
		"DeletePost": func() error { return s.DeletePost(c, p.ID) },
		"Ping":       func() error { return s.Ping(c) },
	}
	for op, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", op, err)
		}
	}
	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	if _, err := s.UserByName(expired, "mona"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("UserByName past the deadline: err = %v, want context.DeadlineExceeded", err)
	}
	// Nothing the cancelled calls would have written is there.
	if got, err := s.UserByName(ctx, "mona"); err != nil || got.Role != auth.RoleEditor {
		t.Errorf("after cancelled calls, mona = %+v, %v", got, err)
	}
	if n := count(t, s); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
	if ids := postIDs(t, s); !slices.Equal(ids, []int64{p.ID}) {
		t.Errorf("posts = %v, want just %d", ids, p.ID)
	}
}

func testPing(t *testing.T, s auth.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	mkUser(t, s, "nina", auth.RoleReader)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after a write: %v", err)
	}
}

func testClosed(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "oscar", auth.RoleEditor)
	p := mkPost(t, s, u, "before close")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := auth.RoleAdmin
	calls := []struct {
		op   string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"CreateUser", func() error {
			return s.CreateUser(ctx, &auth.User{Name: "x", Role: auth.RoleReader, PasswordHash: hash})
		}},
		{"UserByName", func() error { _, err := s.UserByName(ctx, "oscar"); return err }},
		{"UserByID", func() error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"ListUsers", func() error { _, err := s.ListUsers(ctx); return err }},
		{"CountUsers", func() error { _, err := s.CountUsers(ctx); return err }},
		{"UpdateUser", func() error { _, err := s.UpdateUser(ctx, "oscar", auth.UserUpdate{Role: &r}); return err }},
		{"DeleteUser", func() error { return s.DeleteUser(ctx, "oscar", nil) }},
		{"CreatePost", func() error { return s.CreatePost(ctx, &auth.Post{AuthorID: u.ID, Title: "x"}) }},
		{"Post", func() error { _, err := s.Post(ctx, p.ID); return err }},
		{"ListPosts", func() error { _, err := s.ListPosts(ctx, 10, 0); return err }},
		{"DeletePost", func() error { return s.DeletePost(ctx, p.ID) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, auth.ErrUnavailable) {
			t.Errorf("%s after Close: err = %v, want ErrUnavailable", c.op, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close twice: %v, want nil", err)
	}
}

// Look-alike names: a mixed-script name is refused (by the service's
// rules), width and normalisation variants are the existing user, both for
// the unique index and for lookups, login included.
func testLookalikeNames(t *testing.T, s auth.Store) {
	svc := &auth.Service{Store: s, Hasher: auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1, time.Minute)}
	admin, err := svc.CreateUser(ctx, "admin", "admin password", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	emile, err := svc.CreateUser(ctx, "émile", "emile password", auth.RoleReader)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"аdmin", "admіn", "ΑDMIN", "ａdmіn"} { // Cyrillic а, і; Greek Α
		if _, err := svc.CreateUser(ctx, name, "other password", auth.RoleAdmin); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("CreateUser(%q) = %v, want ErrInvalid (mixed scripts)", name, err)
		}
	}
	if _, err := svc.CreateUser(ctx, "ａｄｍｉｎ", "other password", auth.RoleAdmin); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("service CreateUser(ａｄｍｉｎ) with admin taken = %v, want ErrConflict", err)
	}
	for _, name := range []string{"ａｄｍｉｎ", "ＡＤＭＩＮ", "ａdmin", "E\u0301MILE", "e\u0301mile"} {
		if err := s.CreateUser(ctx, &auth.User{Name: name, Role: auth.RoleAdmin, PasswordHash: hash}); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateUser(%q) with admin and émile taken: %v, want ErrConflict", name, err)
		}
	}
	for name, want := range map[string]*auth.User{"ａｄｍｉｎ": admin, "ＡＤＭＩＮ": admin, "Ａdmin": admin, "E\u0301MILE": emile} {
		if got, err := s.UserByName(ctx, name); err != nil || got.ID != want.ID {
			t.Errorf("UserByName(%q) = %+v, %v; want %q", name, got, err, want.Name)
		}
	}
	if u, err := svc.Login(ctx, "192.0.2.1", "ＡＤＭＩＮ", "admin password"); err != nil || u.ID != admin.ID {
		t.Errorf("Login(ＡＤＭＩＮ) = %+v, %v; want admin", u, err)
	}
	if u, err := s.UserByName(ctx, "аdmin"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UserByName(аdmin) = %+v, %v; want ErrNotFound", u, err)
	}
	if n := count(t, s); n != 2 {
		t.Errorf("CountUsers = %d, want 2", n)
	}
	// Names are stored in their PRECIS form, case kept: fullwidth letters
	// become ordinary ones and a decomposed accent is composed.
	for typed, stored := range map[string]string{"ＴａｒｏＹ": "TaroY", "O\u0301scar": "Óscar"} {
		u, err := svc.CreateUser(ctx, typed, "some password", auth.RoleReader)
		if err != nil || u.Name != stored {
			t.Errorf("CreateUser(%q) = %+v, %v; want it stored as %q", typed, u, err, stored)
			continue
		}
		if got, err := s.UserByID(ctx, u.ID); err != nil || got.Name != stored {
			t.Errorf("UserByID after CreateUser(%q) = %+v, %v; want name %q", typed, got, err, stored)
		}
	}
}
