package auth

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// NameKey returns the form of a username that stores index and compare,
// and that login rate limits count by. A name that the PRECIS profile
// UsernameCaseMapped (RFC 8265) accepts is first mapped by it: fullwidth
// and halfwidth forms to their ordinary ones, lower case, NFC. Then each
// rune becomes one canonical member of its Unicode simple case-folding
// orbit (the runes that unicode.SimpleFold cycles through): the lower case
// of its smallest member when that is in the orbit, else its smallest
// lower-case member, else its smallest member. So "Alice" → "alice",
// "ＡＤＭＩＮ" → "admin", "ÉMILE" and "E\u0301mile" → "émile",
// "ΣΟΦΊΑΣ" and "σοφίας" → "σοφίασ", the Kelvin sign K → "k": two names
// strings.EqualFold calls equal always get one key. A name PRECIS refuses
// (with a space, a symbol, bytes that are not UTF-8, which
// ValidateUsername refuses too) is only case-folded; bytes that are not
// UTF-8 are kept as they are.
//
// An ASCII name's key is its ASCII lower case. Keys of other names depend
// on the Unicode tables of golang.org/x/text, so stores bring the keys they
// hold up to date when they open.
func NameKey(name string) string {
	if !isASCII(name) {
		if k, err := precis.UsernameCaseMapped.String(name); err == nil {
			name = k
		}
	}
	return foldCase(name)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func foldCase(name string) string {
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
