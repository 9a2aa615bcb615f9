// Package migrations holds the database schema of every storage backend
// in one place: migrations/sqlite and migrations/postgres, numbered in
// lockstep (a test checks that both have the same versions), embedded in
// the binary. Each backend applies them in order under its own lock and
// records them in a schema_migrations table.
package migrations

import (
	"embed"
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
