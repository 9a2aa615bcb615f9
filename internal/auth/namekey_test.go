package auth

import (
	"errors"
	"strings"
	"testing"
)

// Names strings.EqualFold calls equal share a key, in every script.
func TestNameKeyFoldsCase(t *testing.T) {
	names := []string{
		"alice", "Alice", "ALICE", "émile", "ÉMILE", "Émile", "kelvin", "\u212Aelvin", "KELVIN",
		"σοφία", "ΣΟΦΊΑ", "σοφίας", "ΣΟΦΊΑΣ", "straße", "STRASSE", "ſtraße", "İstanbul", "istanbul", "ǅ", "ǆ", "Ǆ",
		"a_b", "a-b", "日本", "", "1", "@", "µ", "Μ", "ﬀ", "ｱ",
	}
	for _, a := range names {
		for _, b := range names {
			if strings.EqualFold(a, b) && NameKey(a) != NameKey(b) {
				t.Errorf("%q and %q are equal ignoring case but have keys %q and %q", a, b, NameKey(a), NameKey(b))
			}
		}
	}
	// EqualFold takes every invalid byte for U+FFFD; keys keep them apart.
	if NameKey("x\xffy") == NameKey("x\xfey") || NameKey("X\xffY") != "x\xffy" {
		t.Error("invalid UTF-8 bytes are not kept as they are")
	}
}

func TestNameKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Alice", "alice"},
		{"a.b_c-d@e", "a.b_c-d@e"},
		{"ÉMILE", "émile"},
		{"E\u0301mile", "émile"}, // NFD and NFC spellings are one name
		{"\u212Aelvin", "kelvin"},
		{"ΣΟΦΊΑΣ", "σοφίασ"},
		{"σοφίας", "σοφίασ"},
		{"ǅ", "ǆ"},
		{"ａｄｍｉｎ", "admin"}, // fullwidth
		{"ＡＤＭＩＮ", "admin"},
		{"ａdmin", "admin"},
		{"ｶﾀｶﾅ", "カタカナ"},   // halfwidth
		{"аdmin", "аdmin"}, // Cyrillic а stays Cyrillic: ValidateUsername refuses the mix
		{"ΑDMIN", "αdmin"}, // Greek Α likewise
		{"İ", "i\u0307"},
		{"a b", "a b"}, // PRECIS refuses it: case folding only
		{"ſ x", "s x"},
	} {
		if got := NameKey(tc.in); got != tc.want {
			t.Errorf("NameKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := NameKey(NameKey(tc.in)); got != NameKey(tc.in) {
			t.Errorf("NameKey(NameKey(%q)) = %q, want %q", tc.in, got, NameKey(tc.in))
		}
	}
	// Look-alikes in other scripts keep distinct keys.
	for _, name := range []string{"аdmin", "ΑDMIN", "admіn", "аdmіn", "ａdmіn"} {
		if NameKey(name) == NameKey("admin") {
			t.Errorf("NameKey(%q) = NameKey(admin)", name)
		}
	}
}

func TestValidateUsername(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"admin", true},
		{"Alice.Smith_2@example-1", true},
		{"émile", true},
		{"E\u0301mile", true},
		{"ａｄｍｉｎ", true}, // the same name as admin: the store refuses it if admin exists
		{"σοφία", true},
		{"иван", true},
		{"иван_2", true},
		{"山田たろう", true}, // Han and Hiragana: Japanese
		{"ヤマダ太郎", true},
		{"tanaka太郎", true}, // Latin with Japanese
		{"김철수", true},
		{"이李", true},  // Hangul with Han: Korean
		{"ㄅㄆ中", true}, // Bopomofo with Han: Chinese
		{"שלום", true},
		{"محمد", true},
		{"аdmin", false}, // Cyrillic а + Latin
		{"admіn", false}, // Cyrillic і
		{"ΑDMIN", false}, // Greek Α + Latin
		{"pаypal", false},
		{"иванi", false},
		{"ｐａｙｐаｌ", false}, // fullwidth Latin + Cyrillic
		{"admin٣", false}, // Arabic-Indic digit: Arabic script
		{"김ヤ", false},     // Hangul with Katakana
		{"иван太郎", false},
		{"ǅungla", false}, // a compatibility character PRECIS refuses
		{"ſtraße", false},
		{"a b", false},
		{"a\u200db", false}, // zero-width joiner
		{"emoji😀", false},
		{"", false},
		{strings.Repeat("a", MaxUsernameLen), true},
		{strings.Repeat("a", MaxUsernameLen+1), false},
		{"a\xff", false},
	} {
		err := ValidateUsername(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateUsername(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateUsername(%q) = %v, want ErrInvalid", tc.name, err)
		}
	}
	err := ValidateUsername("аdmin")
	if err == nil || !strings.Contains(err.Error(), "mix") || !strings.Contains(err.Error(), "Latin") || !strings.Contains(err.Error(), "Cyrillic") {
		t.Errorf("the error for a mixed-script name does not say the rule and the scripts: %v", err)
	}
}

func TestMixedScriptsNamesTheMix(t *testing.T) {
	for name, want := range map[string][2]string{
		"аdmin":        {"Cyrillic", "Latin"},
		"tanaka太郎иван": {"Latin", "Cyrillic"},
		"이李ヤ":          {"Hangul", "Katakana"},
		"たろう김":         {"Hiragana", "Hangul"},
	} {
		a, b, mixed := mixedScripts(name)
		if !mixed || a != want[0] || b != want[1] {
			t.Errorf("mixedScripts(%q) = %q, %q, %v; want %q", name, a, b, mixed, want)
		}
	}
}
