// Package storetest is a conformance suite for auth.Store implementations:
// every backend runs the same tests, so they behave the same way.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/auth"
)

// Run runs the suite; open must return a fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) auth.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s auth.Store)
	}{
		{"Users", testUsers},
		{"DuplicateNames", testDuplicates},
		{"NotFound", testNotFound},
		{"Update", testUpdate},
		{"Posts", testPosts},
		{"Paging", testPaging},
		{"DeleteUserDeletesPosts", testCascade},
		{"ConcurrentCreate", testConcurrent},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func mkUser(t *testing.T, s auth.Store, name string, role auth.Role) *auth.User {
	t.Helper()
	u := &auth.User{Name: name, Role: role, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func testUsers(t *testing.T, s auth.Store) {
	before := time.Now().Add(-time.Second)
	u := mkUser(t, s, "Zoë \"quotes\" ünicode", auth.RoleEditor)
	if u.ID <= 0 || u.CreatedAt.Before(before) || u.UpdatedAt.Before(before) {
		t.Fatalf("CreateUser did not set ID/times: %+v", u)
	}
	mkUser(t, s, "alice", auth.RoleAdmin)
	got, err := s.UserByName(ctx, u.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.Name != u.Name || got.Role != auth.RoleEditor || got.PasswordHash != u.PasswordHash || got.Disabled ||
		!got.CreatedAt.Truncate(time.Second).Equal(u.CreatedAt.Truncate(time.Second)) {
		t.Fatalf("UserByName = %+v, want %+v", got, u)
	}
	byID, err := s.UserByID(ctx, u.ID)
	if err != nil || byID.Name != u.Name {
		t.Fatalf("UserByID = %+v, %v", byID, err)
	}
	if got, err := s.UserByName(ctx, "ALICE"); err != nil || got.Name != "alice" {
		t.Fatalf("lookup ignoring case: %+v, %v", got, err)
	}
	list, err := s.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "Zoë \"quotes\" ünicode" && list[0].Name != "alice" {
		t.Fatalf("ListUsers = %v, %v", list, err)
	}
	if list[0].Name > list[1].Name && list[0].Name != "alice" {
		t.Fatalf("ListUsers not ordered by name: %q, %q", list[0].Name, list[1].Name)
	}
	if n, err := s.CountUsers(ctx); n != 2 || err != nil {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
}

func testDuplicates(t *testing.T, s auth.Store) {
	mkUser(t, s, "bob", auth.RoleReader)
	for _, name := range []string{"bob", "BOB", "Bob"} {
		err := s.CreateUser(ctx, &auth.User{Name: name, Role: auth.RoleAdmin, PasswordHash: "x"})
		if !errors.Is(err, auth.ErrConflict) {
			t.Errorf("duplicate %q: err = %v, want ErrConflict", name, err)
		}
	}
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Fatalf("a refused duplicate changed the user count to %d", n)
	}
	if u, _ := s.UserByName(ctx, "bob"); u.Role != auth.RoleReader {
		t.Fatalf("a refused duplicate changed the user: %+v", u)
	}
}

func testNotFound(t *testing.T, s auth.Store) {
	r := auth.RoleAdmin
	checks := map[string]error{}
	_, checks["UserByName"] = s.UserByName(ctx, "nobody")
	_, checks["UserByID"] = s.UserByID(ctx, 424242)
	_, checks["UpdateUser"] = s.UpdateUser(ctx, "nobody", auth.UserUpdate{Role: &r})
	checks["DeleteUser"] = s.DeleteUser(ctx, "nobody")
	_, checks["Post"] = s.Post(ctx, 424242)
	checks["DeletePost"] = s.DeletePost(ctx, 424242)
	for op, err := range checks {
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", op, err)
		}
	}
}

func testUpdate(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "carol", auth.RoleReader)
	editor, yes, hash := auth.RoleEditor, true, "$2a$10$newhash"
	got, err := s.UpdateUser(ctx, "carol", auth.UserUpdate{Role: &editor})
	if err != nil || got.Role != auth.RoleEditor || got.Disabled || got.PasswordHash != u.PasswordHash {
		t.Fatalf("role update: %+v, %v", got, err)
	}
	got, err = s.UpdateUser(ctx, "CAROL", auth.UserUpdate{Disabled: &yes, PasswordHash: &hash})
	if err != nil || !got.Disabled || got.PasswordHash != hash || got.Role != auth.RoleEditor || got.UpdatedAt.Before(u.UpdatedAt) {
		t.Fatalf("disabled+hash update: %+v, %v", got, err)
	}
	again, _ := s.UserByID(ctx, u.ID)
	if !again.Disabled || again.PasswordHash != hash {
		t.Fatalf("update not stored: %+v", again)
	}
	bad := auth.Role("root")
	if _, err := s.UpdateUser(ctx, "carol", auth.UserUpdate{Role: &bad}); err == nil {
		t.Fatal("stored an unknown role")
	}
}

func testPosts(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "dave", auth.RoleEditor)
	p := &auth.Post{AuthorID: u.ID, Title: "Hello \"world\" ☃", Body: "line 1\nline 2"}
	if err := s.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ID <= 0 || p.Author != "dave" || p.CreatedAt.IsZero() {
		t.Fatalf("CreatePost did not fill ID/Author/CreatedAt: %+v", p)
	}
	got, err := s.Post(ctx, p.ID)
	if err != nil || got.Title != p.Title || got.Body != p.Body || got.Author != "dave" || got.AuthorID != u.ID {
		t.Fatalf("Post = %+v, %v", got, err)
	}
	if err := s.CreatePost(ctx, &auth.Post{AuthorID: 999999, Title: "orphan"}); err == nil {
		t.Fatal("stored a post by an unknown author")
	}
	if err := s.DeletePost(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, p.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("deleted post: %v", err)
	}
}

func testPaging(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "erin", auth.RoleEditor)
	const n = 7
	for i := 0; i < n; i++ {
		if err := s.CreatePost(ctx, &auth.Post{AuthorID: u.ID, Title: fmt.Sprint("post ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	var before int64
	for page := 0; page < 5; page++ {
		ps, err := s.ListPosts(ctx, 3, before)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			seen = append(seen, p.ID)
		}
		before = ps[len(ps)-1].ID
	}
	if len(seen) != n {
		t.Fatalf("paged %d posts, want %d: %v", len(seen), n, seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first or duplicated: %v", seen)
		}
	}
}

func testCascade(t *testing.T, s auth.Store) {
	u := mkUser(t, s, "frank", auth.RoleEditor)
	p := &auth.Post{AuthorID: u.ID, Title: "gone soon"}
	if err := s.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "frank"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, p.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("post of a deleted user: %v", err)
	}
}

func testConcurrent(t *testing.T, s auth.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			errs <- s.CreateUser(ctx, &auth.User{Name: fmt.Sprint("distinct", i), Role: auth.RoleReader, PasswordHash: "x"})
		}(i)
		go func() {
			defer wg.Done()
			err := s.CreateUser(ctx, &auth.User{Name: "same", Role: auth.RoleReader, PasswordHash: "x"})
			if err == nil {
				errs <- nil
			} else if errors.Is(err, auth.ErrConflict) {
				errs <- errSkip
			} else {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case err != errSkip:
			t.Errorf("concurrent create: %v", err)
		}
	}
	if ok != 9 {
		t.Fatalf("%d creations succeeded, want 8 distinct + 1 of the same name", ok)
	}
}

var errSkip = errors.New("conflict")

func testClosed(t *testing.T, s auth.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	s.Close()
	if err := s.Ping(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Ping after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.UserByName(ctx, "x"); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("read after Close: %v, want ErrUnavailable", err)
	}
	if err := s.CreateUser(ctx, &auth.User{Name: "x", Role: auth.RoleReader, PasswordHash: "x"}); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("write after Close: %v, want ErrUnavailable", err)
	}
}
