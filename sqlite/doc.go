// Package sqlite implements auth.Store on an embedded SQLite database
// (modernc.org/sqlite: pure Go, no cgo), jwtgate's zero-setup default.
// The database runs in WAL mode so readers never wait for the writer, and
// migrations embedded in the binary are applied at Open.
package sqlite
