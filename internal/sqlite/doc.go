// Package sqlite implements auth.Store on an embedded SQLite database with
// modernc.org/sqlite (pure Go, no cgo): jwtgate's zero-setup default.
// The queries and method bodies are internal/sqlstore's, run as
// statements prepared once per connection; this package opens the file,
// checks its permissions, runs the migrations and gives sqlstore SQLite's
// dialect.
//
// Open creates the file if needed and applies the migrations embedded from
// migrations/NNN_name.sql that schema_migrations does not list yet, each in
// its own transaction, in the order of their numbers. The database runs in
// WAL mode with synchronous=NORMAL (see Open for what that guarantees).
//
// Schema (see migrations/):
//
//	users(id INTEGER PRIMARY KEY, name TEXT UNIQUE COLLATE NOCASE,
//	      name_key TEXT UNIQUE, role TEXT CHECK IN (admin, editor, reader),
//	      password_hash TEXT, disabled INTEGER 0/1,
//	      created_at INTEGER, updated_at INTEGER)
//	posts(id INTEGER PRIMARY KEY AUTOINCREMENT,
//	      author_id INTEGER REFERENCES users ON DELETE CASCADE,
//	      title TEXT, body TEXT, created_at INTEGER), index on author_id
//
// Usernames keep the case they were created with but are unique, and looked
// up, ignoring case in every script, width and normalisation: name_key is
// auth.NameKey of the name, so "Alice"/"alice", "Émile"/"ÉMILE" and
// "admin"/"ａｄｍｉｎ" are one user. Open brings the keys of names that are
// not ASCII up to date with the binary's NameKey. Users are listed in
// name_key order.
//
// Times are stored as Unix milliseconds and returned in UTC with
// millisecond precision; the values CreateUser and CreatePost set are the
// stored ones. Post ids are never reused, so paging cursors stay valid
// after deletions.
//
// Errors wrap auth's sentinels: ErrNotFound, ErrConflict (a name taken
// ignoring case), ErrInvalid (a post by an unknown author, a value outside
// a CHECK), ErrUnavailable (store closed, file missing or unreadable,
// database busy past the 5 s busy_timeout, I/O errors), or the context's
// error when it is cancelled.
package sqlite
