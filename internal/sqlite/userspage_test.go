package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// With 100k users, a page of the admin search reads the users_name_key
// index: the plan searches it and builds no temporary B-tree to sort.
func TestUsersPageUsesIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 100k users")
	}
	db := open(t, filepath.Join(t.TempDir(), "test.db"))
	if _, err := db.db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
		INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at)
		SELECT 'user' || i, 'user' || i, 'reader', 'x', 0, 0, 0 FROM n`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{
		{"", "\U0010FFFF", "", 21},
		{"user5", "user5\U0010FFFF", "user5123", 21},
	} {
		rows, err := db.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+db.UsersPageSQL(), args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "INDEX users_name_key") || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("plan for %v does not search users_name_key in order:\n%s", args, text)
		}
	}
	if page, err := db.UsersPage(ctx, "user99", "user9950", 3); err != nil || len(page) != 3 || page[0].Name != "user99500" {
		t.Errorf("UsersPage = %v, %v", page, err)
	}
}
