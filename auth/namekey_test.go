package auth

import (
	"strings"
	"testing"
)

func TestNameKeyMatchesEqualFold(t *testing.T) {
	names := []string{
		"alice", "Alice", "ALICE", "émile", "ÉMILE", "Émile", "kelvin", "\u212Aelvin", "KELVIN",
		"σοφία", "ΣΟΦΊΑ", "σοφίας", "ΣΟΦΊΑΣ", "straße", "STRASSE", "ſtraße", "İstanbul", "istanbul", "ǅ", "ǆ", "Ǆ",
		"a_b", "a-b", "日本", "", "1", "@",
	}
	for _, a := range names {
		for _, b := range names {
			if eq, same := strings.EqualFold(a, b), NameKey(a) == NameKey(b); eq != same {
				t.Errorf("%q vs %q: EqualFold %v, keys %q %q", a, b, eq, NameKey(a), NameKey(b))
			}
		}
	}
	// EqualFold takes every invalid byte for U+FFFD; keys keep them apart.
	if NameKey("x\xffy") == NameKey("x\xfey") || NameKey("X\xffY") != "x\xffy" {
		t.Error("invalid UTF-8 bytes are not kept as they are")
	}
	for in, want := range map[string]string{"Alice": "alice", "ÉMILE": "émile", "\u212Aelvin": "kelvin", "ΣΟΦΊΑΣ": "σοφίασ", "σοφίας": "σοφίασ", "İ": "İ", "ǅ": "ǆ"} {
		if got := NameKey(in); got != want {
			t.Errorf("NameKey(%q) = %q, want %q", in, got, want)
		}
	}
}
