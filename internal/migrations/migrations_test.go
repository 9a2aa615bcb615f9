package migrations

import (
	"slices"
	"testing"
)

// Every backend must reach the same schema version: a migration added to
// one dialect only would leave the other behind.
func TestDialectsInLockstep(t *testing.T) {
	versions := func(d string) []string {
		ms, err := List(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, m := range ms {
			if m.Num != i+1 {
				t.Errorf("%s: migration %s is number %d, want %d (no gaps)", d, m.Version, m.Num, i+1)
			}
			if m.SQL == "" {
				t.Errorf("%s: %s is empty", d, m.Version)
			}
			out = append(out, m.Version)
		}
		return out
	}
	s, p := versions("sqlite"), versions("postgres")
	if len(s) < 3 || !slices.Equal(s, p) {
		t.Fatalf("sqlite %v, postgres %v: want the same versions", s, p)
	}
	if _, err := List("oracle"); err == nil {
		t.Fatal("unknown dialect accepted")
	}
}
