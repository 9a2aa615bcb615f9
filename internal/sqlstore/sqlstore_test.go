package sqlstore

import (
	"strings"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	sqlite := strings.NewReplacer("GREATEST(", "max(", " FOR SHARE", "", ` COLLATE "C"`, "")
	for _, tc := range []struct {
		name string
		d    Dialect
		in   string
		want string
	}{
		{"dollar", Dialect{Dollar: true}, `SELECT a FROM t WHERE b = ? AND c < ? LIMIT ?`, `SELECT a FROM t WHERE b = $1 AND c < $2 LIMIT $3`},
		{"dollar without placeholders", Dialect{Dollar: true}, `SELECT 1`, `SELECT 1`},
		{"question marks kept", Dialect{}, `SELECT a FROM t WHERE b = ?`, `SELECT a FROM t WHERE b = ?`},
		{"replaced", Dialect{Replace: sqlite}, `SELECT GREATEST(a, ?) FROM t WHERE id = ? FOR SHARE`, `SELECT max(a, ?) FROM t WHERE id = ?`},
		{"collation", Dialect{Replace: sqlite}, `SELECT a FROM t ORDER BY k COLLATE "C"`, `SELECT a FROM t ORDER BY k`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{d: tc.d}
			for range 2 { // the second answer comes from the cache
				if got := s.rebind(tc.in); got != tc.want {
					t.Fatalf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
				}
			}
		})
	}
}

func TestTimeCol(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for _, tc := range []struct {
		name    string
		v       any
		want    time.Time
		wantErr bool
	}{
		{"NULL", nil, time.Time{}, false},
		{"Unix milliseconds", at.UnixMilli(), at, false},
		{"time in another zone", at.In(time.FixedZone("x", 3600)), at, false},
		{"text", "2026-01-02", time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := time.Unix(1, 0)
			err := timeCol{&got}.Scan(tc.v)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Scan(%v): %v", tc.v, err)
			}
			if err == nil && (!got.Equal(tc.want) || got.Location() != time.UTC) {
				t.Fatalf("Scan(%v) = %v, want %v in UTC", tc.v, got, tc.want)
			}
		})
	}
}
