// Package migrations holds the database schema of every storage backend
// in one place: migrations/sqlite and migrations/postgres, numbered in
// lockstep (a test checks that both have the same versions), embedded in
// the binary. Each backend applies them in order under its own lock and
// records them in a schema_migrations table.
package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Migration is one schema change.
type Migration struct {
	Num     int
	Version string // file name without .sql, as recorded in schema_migrations
	SQL     string
}

var name = regexp.MustCompile(`^([0-9]+)_[a-z0-9_]+\.sql$`)

// List returns the migrations of a dialect ("sqlite" or "postgres") in
// the order of their numbers.
func List(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q: %w", dialect, err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations: file %s/%s: name is not NNN_name.sql", dialect, e.Name())
		}
		num, _ := strconv.Atoi(m[1])
		if prev, dup := seen[num]; dup {
			return nil, fmt.Errorf("migrations: %s and %s have the same number", prev, e.Name())
		}
		seen[num] = e.Name()
		body, err := files.ReadFile(dialect + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Num: num, Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Num < ms[j].Num })
	return ms, nil
}

// ErrSchemaTooNew is returned by CheckApplied for a database that a newer
// jwtgate has migrated: this binary does not know its schema, and running
// on it could misread or damage data that the newer version relies on.
var ErrSchemaTooNew = errors.New("database schema is newer than this jwtgate")

// SchemaTooNewError says which schema the database has and which this
// binary knows. It matches ErrSchemaTooNew with errors.Is.
type SchemaTooNewError struct {
	Database int    // the highest migration number recorded in the database
	Known    int    // the highest number this binary has
	Version  string // a recorded version this binary does not have
}

func (e *SchemaTooNewError) Error() string {
	if e.Database > e.Known {
		return fmt.Sprintf("database schema %d is newer than this jwtgate (%d); upgrade jwtgate", e.Database, e.Known)
	}
	return fmt.Sprintf("database has migration %s, which this jwtgate (schema %d) does not know; it was migrated by another jwtgate build: run that one, or a newer jwtgate", e.Version, e.Known)
}

func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// CheckApplied compares the versions a database records (its
// schema_migrations) with the dialect's migrations: a version this binary
// does not have means a newer (or other) jwtgate migrated the database,
// and it returns a *SchemaTooNewError.
func CheckApplied(dialect string, applied []string) error {
	ms, err := List(dialect)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(ms))
	for _, m := range ms {
		known[m.Version] = true
	}
	e := &SchemaTooNewError{Known: ms[len(ms)-1].Num}
	for _, v := range applied {
		if known[v] {
			continue
		}
		n := 0
		if m := version.FindStringSubmatch(v); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if e.Version == "" || n > e.Database {
			e.Database, e.Version = n, v
		}
	}
	if e.Version == "" {
		return nil
	}
	return e
}

var version = regexp.MustCompile(`^([0-9]+)_`)
