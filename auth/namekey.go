package auth

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NameKey returns the form of a username that stores index and compare,
// and that login rate limits count by: two valid UTF-8 names get the same key exactly when
// strings.EqualFold says they are equal, for every script and not only ASCII (which is all
// SQLite's NOCASE folds). Each rune becomes one canonical member of its
// Unicode simple case-folding orbit (the runes that unicode.SimpleFold
// cycles through): the lower case of its smallest member when that is in
// the orbit, else its smallest lower-case member, else its smallest member.
// So "Alice" → "alice", "ÉMILE" → "émile", "ΣΟΦΊΑΣ" → "σοφίασ", the Kelvin
// sign K → "k". Bytes that are not UTF-8 are kept as they are.
// The key is not normalised: NFC "é" and NFD "e\u0301" stay distinct.
func NameKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(name[i])
		} else {
			b.WriteRune(foldRune(r))
		}
		i += size
	}
	return b.String()
}

func foldRune(r rune) rune {
	orbit := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		orbit = append(orbit, f)
	}
	if len(orbit) == 1 {
		return r
	}
	least := slices.Min(orbit)
	if l := unicode.ToLower(least); slices.Contains(orbit, l) {
		return l
	}
	leastLower := rune(-1)
	for _, f := range orbit {
		if unicode.IsLower(f) && (leastLower < 0 || f < leastLower) {
			leastLower = f
		}
	}
	if leastLower >= 0 {
		return leastLower
	}
	return least
}
