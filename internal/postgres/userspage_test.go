package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
)

// With 100k users, a page of the admin search reads the COLLATE "C" index
// of name_key: the plan names it and sorts nothing.
func TestUsersPageUsesIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 100k users")
	}
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, url)
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, `INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at)
		SELECT 'user' || i, 'user' || i, 'reader', 'x', false, now(), now() FROM generate_series(1, 100000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(ctx, `ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{
		{"", "\U0010FFFF", "", 21},                   // first page, no search
		{"user5", "user5\U0010FFFF", "user5123", 21}, // a search, a later page
	} {
		rows, err := raw.Query(ctx, "EXPLAIN "+db.UsersPageSQL(), args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "users_name_key_bytes") || strings.Contains(text, "Sort") || strings.Contains(text, "Seq Scan") {
			t.Errorf("plan for %v does not read users_name_key_bytes in order:\n%s", args, text)
		}
	}
	if page, err := db.UsersPage(ctx, "user99", "user9950", 3); err != nil || len(page) != 3 || page[0].Name != "user99500" {
		t.Errorf("UsersPage = %v, %v", page, err)
	}
}
