package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/auth/storetest"
	"github.com/jwtgate/jwtgate/internal/migrations"
)

var ctx = context.Background()

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) auth.Store {
		return open(t, filepath.Join(t.TempDir(), "test.db"))
	})
}

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func embeddedVersions(t *testing.T) []string {
	t.Helper()
	ms, err := migrations.List("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs
}

func appliedVersions(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY applied_at, rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	vs := embeddedVersions(t)
	if len(vs) < 2 || vs[0] != "001_init" || vs[1] != "002_name_key" {
		t.Fatalf("embedded migrations %v, want 001_init, 002_name_key, ...", vs)
	}
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	u := &auth.User{Name: "kept", Role: auth.RoleAdmin, PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePost(ctx, &auth.Post{AuthorID: u.ID, Title: "kept too"}); err != nil {
		t.Fatal(err)
	}
	want := embeddedVersions(t)
	if got := appliedVersions(t, db.db); !slices.Equal(got, want) {
		t.Fatalf("first open applied %v, want %v", got, want)
	}
	db.Close()

	for range 2 {
		db = open(t, path)
		if got, err := db.UserByName(ctx, "KEPT"); err != nil || got.ID != u.ID {
			t.Fatalf("user lost on reopen: %+v, %v", got, err)
		}
		if ps, err := db.ListPosts(ctx, 10, 0); err != nil || len(ps) != 1 || ps[0].Author != "kept" {
			t.Fatalf("post lost on reopen: %v, %v", ps, err)
		}
		if got := appliedVersions(t, db.db); !slices.Equal(got, want) {
			t.Fatalf("after reopening, schema_migrations lists %v, want %v", got, want)
		}
		db.Close()
	}
}

func TestConnectionSettings(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"))
	// Several connections at once, so more than the first is checked.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "1", // NORMAL
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, pragma, got, want)
			}
		}
	}
}

func TestTimesAreUTCMilliseconds(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "t.db"))
	u := &auth.User{Name: "tim", Role: auth.RoleEditor, PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := &auth.Post{AuthorID: u.ID, Title: "t"}
	if err := db.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, _ := db.UserByID(ctx, u.ID)
	gp, _ := db.Post(ctx, p.ID)
	for name, pair := range map[string][2]time.Time{
		"user created": {u.CreatedAt, got.CreatedAt}, "user updated": {u.UpdatedAt, got.UpdatedAt},
		"post created": {p.CreatedAt, gp.CreatedAt},
	} {
		set, read := pair[0], pair[1]
		if !set.Equal(read) || set.Location() != time.UTC || read.Location() != time.UTC || set.Nanosecond()%int(time.Millisecond) != 0 {
			t.Errorf("%s: set %v, read %v; want the same UTC millisecond", name, set, read)
		}
	}
}

func TestUpdatedAtNeverGoesBack(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "u.db"))
	if err := db.CreateUser(ctx, &auth.User{Name: "vera", Role: auth.RoleReader, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).UnixMilli() // as if the clock was set back since
	if _, err := db.db.Exec(`UPDATE users SET updated_at = ?`, future); err != nil {
		t.Fatal(err)
	}
	yes := true
	u, err := db.UpdateUser(ctx, "vera", auth.UserUpdate{Disabled: &yes})
	if err != nil || !u.Disabled || u.UpdatedAt.UnixMilli() != future {
		t.Fatalf("UpdateUser = %+v, %v; want disabled with UpdatedAt kept at %v", u, err, time.UnixMilli(future).UTC())
	}
	// An empty update writes nothing and returns the user.
	same, err := db.UpdateUser(ctx, "VERA", auth.UserUpdate{})
	if err != nil || same.ID != u.ID || !same.UpdatedAt.Equal(u.UpdatedAt) {
		t.Fatalf("empty UpdateUser = %+v, %v", same, err)
	}
	if _, err := db.UpdateUser(ctx, "nobody", auth.UserUpdate{}); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("empty UpdateUser of an unknown user: %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "e.db"))
	if err := db.CreateUser(ctx, &auth.User{Name: "walt", Role: auth.RoleReader, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	err := db.CreateUser(ctx, &auth.User{Name: "Walt", Role: auth.RoleReader, PasswordHash: "x"})
	if !errors.Is(err, auth.ErrConflict) || !strings.HasPrefix(err.Error(), "sqlite: create user: ") {
		t.Errorf("duplicate: %v", err)
	}
	// ErrInvalid texts reach API clients: no driver details.
	err = db.CreatePost(ctx, &auth.Post{AuthorID: 4242, Title: "x"})
	if !errors.Is(err, auth.ErrInvalid) || err.Error() != "invalid input: unknown author" {
		t.Errorf("unknown author: %q", err)
	}
	bad := auth.Role("root")
	_, err = db.UpdateUser(ctx, "walt", auth.UserUpdate{Role: &bad})
	if !errors.Is(err, auth.ErrInvalid) || strings.Contains(err.Error(), "CHECK") {
		t.Errorf("unknown role: %q", err)
	}
	for _, limit := range []int{0, -1} {
		if _, err := db.ListPosts(ctx, limit, 0); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("ListPosts limit %d: %v, want ErrInvalid", limit, err)
		}
	}
	if _, err := db.ListPosts(ctx, 10, -5); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("ListPosts before -5: %v, want ErrInvalid", err)
	}
}

func TestPingNoticesTheFileIsGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db := open(t, filepath.Join(dir, "gone.db"))
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Ping with the directory deleted: %v, want ErrUnavailable", err)
	}
	// A new file at the same path is not the database Open opened.
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db.abs, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Ping with the file replaced: %v, want ErrUnavailable", err)
	}
}

func TestOpenFailures(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{filepath.Join(dir, "no", "such", "dir", "x.db"), auth.ErrUnavailable},
		{notDB, auth.ErrUnavailable},
		{"", auth.ErrInvalid},
		{":memory:", auth.ErrInvalid},
	} {
		db, err := Open(ctx, tc.path)
		if !errors.Is(err, tc.want) {
			t.Errorf("Open(%q) = %v, %v; want %v", tc.path, db, err, tc.want)
		}
		if db != nil {
			db.Close()
		}
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Open(c, filepath.Join(dir, "cancelled.db")); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}
}

func TestOddPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "we?ird #dir %41 ü")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a?b#c%20.db")
	db := open(t, path)
	if err := db.CreateUser(ctx, &auth.User{Name: "x", Role: auth.RoleReader, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at its path: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "a?b#c%20.db") {
			t.Errorf("stray file %q next to the database", e.Name())
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// A database that the first release (001 only, names unique by ASCII
// NOCASE) wrote is migrated: keys are filled so lookups ignore case in
// every script.
func TestMigrateFrom001(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old := oldDB(t, path, "Émile", "Alice")
	old.Close()

	db := open(t, path)
	for _, name := range []string{"émile", "ÉMILE", "alice"} {
		if _, err := db.UserByName(ctx, name); err != nil {
			t.Errorf("UserByName(%q) after migration: %v", name, err)
		}
	}
	if err := db.CreateUser(ctx, &auth.User{Name: "éMILE", Role: auth.RoleReader, PasswordHash: "x"}); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("CreateUser(éMILE) beside Émile: %v, want ErrConflict", err)
	}
	// The triggers stand in for NOT NULL on the added column.
	if _, err := db.db.Exec(`INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES ('nokey', 'reader', 'x', 0, 0)`); err == nil {
		t.Error("inserted a user without name_key")
	}
}

// If two names differ only in non-ASCII case, 002 cannot build its unique
// index: Open fails and the database stays as it was.
func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clash.db")
	oldDB(t, path, "Émile", "émile").Close()
	if db, err := Open(ctx, path); err == nil {
		db.Close()
		t.Fatal("Open migrated a database with names equal ignoring case")
	} else if !strings.Contains(err.Error(), "002_name_key") {
		t.Errorf("error does not name the migration: %v", err)
	}
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if got := appliedVersions(t, raw); !slices.Equal(got, []string{"001_init"}) {
		t.Errorf("schema_migrations = %v, want only 001_init", got)
	}
	var n int
	raw.QueryRow(`SELECT count(*) FROM pragma_table_info('users') WHERE name = 'name_key'`).Scan(&n)
	if n != 0 {
		t.Error("the failed migration left the name_key column behind")
	}
}

// oldDB writes a database as the release with only 001_init did, then
// makes its files private.
func oldDB(t *testing.T, path string, names ...string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.List("sqlite")
	if err != nil || ms[0].Version != "001_init" {
		t.Fatal(err)
	}
	body := ms[0].SQL
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		string(body),
		`INSERT INTO schema_migrations VALUES ('001_init', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		if _, err := raw.Exec(`INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, 'reader', 'x', 0, 0)`, name); err != nil {
			t.Fatal(err)
		}
	}
	chmodPrivate(t, path)
	return raw
}

// chmodPrivate makes a database built outside Open private, as an operator
// does when Open refuses files others may read.
func chmodPrivate(t *testing.T, path string) {
	t.Helper()
	for _, p := range files(path) {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

// Keys written by a jwtgate that did not map names with PRECIS are brought
// up to date on open, so their users are found by every spelling; a
// look-alike of an existing name keeps its old key and cannot take over
// the name.
func TestOpenRekeysNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db := open(t, path)
	for _, name := range []string{"admin", "ｔａｒｏ", "E\u0301mile", "ǅungla"} {
		if err := db.CreateUser(ctx, &auth.User{Name: name, Role: auth.RoleReader, PasswordHash: "x"}); err != nil {
			t.Fatal(name, err)
		}
	}
	// The keys of the earlier version: case folding only.
	for name, key := range map[string]string{"ｔａｒｏ": "ｔａｒｏ", "E\u0301mile": "e\u0301mile", "ǅungla": "ǆungla"} {
		if _, err := db.db.ExecContext(ctx, `UPDATE users SET name_key = ? WHERE name = ?`, key, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at)
		VALUES ('ＡＤＭＩＮ', 'ａｄｍｉｎ', 'admin', 'x', 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	for spelling, want := range map[string]string{
		"ｔａｒｏ": "ｔａｒｏ", "taro": "ｔａｒｏ", "TARO": "ｔａｒｏ",
		"émile": "E\u0301mile", "E\u0301mile": "E\u0301mile",
		"admin": "admin", "ＡＤＭＩＮ": "admin", "ａｄｍｉｎ": "admin",
		"ǅungla": "ǅungla", "ǆungla": "ǅungla",
	} {
		if u, err := db.UserByName(ctx, spelling); err != nil || u.Name != want {
			t.Errorf("UserByName(%q) = %+v, %v; want %q", spelling, u, err, want)
		}
	}
	var key string
	if err := db.db.QueryRowContext(ctx, `SELECT name_key FROM users WHERE name = 'ＡＤＭＩＮ'`).Scan(&key); err != nil || key != "ａｄｍｉｎ" {
		t.Errorf("the look-alike's key = %q, %v; want it kept", key, err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 5 {
		t.Errorf("CountUsers = %d, %v; want 5", n, err)
	}
}

// 005 rebuilds users (for AUTOINCREMENT): the rows that refer to users,
// posts and sessions with their refresh tokens, must all survive it, and
// foreign keys must work as before on the rebuilt table.
func TestMigrate005KeepsWhatRefersToUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "at004.db")
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.List("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Num >= 5 {
			break
		}
		if _, err := raw.Exec(m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Version, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, 0)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO users (id, name, name_key, role, password_hash, created_at, updated_at) VALUES
			(1, 'Ann', 'ann', 'admin', 'x', 0, 0), (7, 'bo', 'bo', 'editor', 'y', 0, 0)`,
		`INSERT INTO posts (author_id, title, body, created_at) VALUES (1, 'a', '', 0), (7, 'b', '', 0)`,
		`INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s1', 1, 0, 1), ('s7', 7, 0, 1)`,
		`INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (x'01', 's1', 1), (x'07', 's7', 1)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	chmodPrivate(t, path)

	db := open(t, path)
	for table, want := range map[string]int{"users": 2, "posts": 2, "sessions": 2, "refresh_tokens": 2} {
		if n, err := db.CountRows(ctx, table); err != nil || n != want {
			t.Errorf("%s after the migration: %d rows, %v; want %d", table, n, err, want)
		}
	}
	if u, err := db.UserByName(ctx, "ANN"); err != nil || u.ID != 1 || u.Version != 1 {
		t.Errorf("Ann after the migration: %+v, %v; want id 1, version 1", u, err)
	}
	u := &auth.User{Name: "cy", Role: auth.RoleReader, PasswordHash: "z"}
	if err := db.CreateUser(ctx, u); err != nil || u.ID != 8 {
		t.Errorf("new user: id %d, %v; want 8", u.ID, err)
	}
	if err := db.DeleteUser(ctx, "bo", nil); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"posts": 1, "sessions": 1, "refresh_tokens": 1} {
		if n, err := db.CountRows(ctx, table); err != nil || n != want {
			t.Errorf("%s after deleting bo: %d rows, %v; want %d (ON DELETE CASCADE)", table, n, err, want)
		}
	}
	if err := db.CreatePost(ctx, &auth.Post{AuthorID: 7, Title: "orphan"}); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("post by the deleted user: %v, want ErrInvalid (foreign key)", err)
	}
}
