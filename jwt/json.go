package jwt

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// A small, strict JSON scanner for headers and claims. It exists for two
// reasons: encoding/json silently keeps the last of duplicate members (a
// parser-differential hazard in a security header), and reflection-based
// decoding costs dozens of allocations per token. It validates RFC 8259
// syntax exactly (fuzzed against encoding/json.Valid) and hands out spans
// into the input instead of copies.

const maxDepth = 64

// span is a byte range [start, end) of the input. The span of a member
// name or of a string's contents excludes the quotes; a value's span
// (objIter.next) includes them.
type span struct {
	start, end int
	esc        bool // has backslash escapes
	high       bool // has non-ASCII bytes
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialIn8 returns, for 8 bytes read little-endian, a mask with the high
// bit set in each byte that needs a closer look inside a string: a quote, a
// backslash, a control character or a non-ASCII byte (SWAR: one test for
// eight bytes). Bits above the first flagged byte may be spurious (borrows
// propagate upwards), so only the lowest set bit is meaningful.
func specialIn8(x uint64) uint64 {
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x | (q-lsb)&^q | (bs-lsb)&^bs | x) & msb
}

// plain marks the bytes that stand for themselves inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// shortString is scanString's fast path for what most member names
// are, at most eight plain ASCII characters: one eight-byte test
// finds the closing quote (or, when all eight are plain, it must be the
// ninth byte). It returns the index after that quote, or 0 when the string
// at b[i] is anything else and needs scanString.
func shortString(b []byte, i int) int {
	if i+10 > len(b) {
		return 0
	}
	k := i + 1 + bits.TrailingZeros64(specialIn8(binary.LittleEndian.Uint64(b[i+1:])))>>3
	if b[k] == '"' {
		return k + 1
	}
	return 0
}

// scanString scans a string starting at the opening quote b[i]. It returns
// the index after the closing quote and the span of the contents.
func scanString(b []byte, i int) (int, span, bool) {
	i++ // opening quote
	start := i
	esc, high := false, false
	for {
		// Jump to the next byte that is not plain text.
		for {
			if i+8 <= len(b) {
				if m := specialIn8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					break
				}
				i += 8
				continue
			}
			for i < len(b) && plain[b[i]] {
				i++
			}
			break
		}
		if i >= len(b) {
			return 0, span{}, false
		}
		switch c := b[i]; {
		case c == '"':
			if high && !utf8.Valid(b[start:i]) {
				return 0, span{}, false
			}
			return i + 1, span{start, i, esc, high}, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, span{}, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, span{}, false
				}
				for _, h := range b[i+2 : i+6] {
					if unhex(h) < 0 {
						return 0, span{}, false
					}
				}
				i += 6
			default:
				return 0, span{}, false
			}
		case c < 0x20:
			return 0, span{}, false
		default: // non-ASCII: checked as UTF-8 at the end
			high = true
			i++
		}
	}
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// unescape decodes the contents of a scanned string that contains escapes.
// The input has already been validated by scanString. Lone surrogates
// become U+FFFD, as encoding/json does.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(s[i+2:]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(s[i+2:]))); r2 != utf8.RuneError {
						out = utf8.AppendRune(out, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, s[i+1])
		}
		i += 2
	}
	return out
}

func hex4(b []byte) int {
	return unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3])
}

// scanNumber scans an RFC 8259 number starting at b[i].
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	return i, true
}

// scanValue scans any JSON value starting at b[i] (no leading space) and
// returns the index just after it.
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; c {
	case '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case '{':
		if depth >= maxDepth {
			return 0, false
		}
		it := objIter{b: b, i: i + 1, depth: depth + 1}
		for {
			_, _, more, ok := it.next()
			if !ok {
				return 0, false
			}
			if !more {
				return it.i, true
			}
		}
	case '[':
		if depth >= maxDepth {
			return 0, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = scanValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			return scanNumber(b, i)
		}
	}
	return 0, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// objIter walks the members of an object. i starts just after '{'.
type objIter struct {
	b     []byte
	i     int
	n     int
	depth int
	num   date // the last value as a time claim, when it was a number in range
}

// next returns the next member's name span and the raw value span (value
// spans include quotes for strings, and esc tells whether a string value
// has escapes). more is false after the closing brace.
func (it *objIter) next() (name, val span, more, ok bool) {
	b := it.b
	i := it.i
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i >= len(b) {
		return
	}
	if b[i] == '}' {
		it.i = i + 1
		return span{}, span{}, false, true
	}
	if it.n > 0 {
		if b[i] != ',' {
			return
		}
		if i++; i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i >= len(b) || b[i] == '}' {
			return // trailing comma
		}
	}
	if b[i] != '"' {
		return
	}
	if k := shortString(b, i); k > 0 {
		name = span{start: i + 1, end: k - 1}
		i = k
	} else if i, name, ok = scanString(b, i); !ok {
		return
	}
	ok = false
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i >= len(b) || b[i] != ':' {
		return
	}
	if i++; i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	start := i
	it.num = date{}
	switch {
	case i >= len(b):
		return
	case b[i] == '"': // most values: keep the escape flag
		var sv span
		if i, sv, ok = scanString(b, i); !ok {
			return
		}
		val.esc = sv.esc
	case '0' <= b[i] && b[i] <= '9': // read time claims in the same pass
		if i, it.num, ok = scanNumberDate(b, i); !ok {
			return
		}
	default:
		if i, ok = scanValue(b, i, it.depth); !ok {
			return
		}
	}
	it.i = i
	it.n++
	val.start, val.end = start, i
	return name, val, true, true
}

// openObject checks that b is a JSON object (surrounding white space
// allowed) and returns an iterator over its members.
func openObject(b []byte) (objIter, bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return objIter{}, false
	}
	return objIter{b: b, i: i + 1, depth: 1}, true
}

// validObject reports whether b is exactly one JSON object.
func validObject(b []byte) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	end, ok := scanValue(b, i, 0)
	return ok && skipWS(b, end) == len(b)
}

// nameIs compares a member name with a plain ASCII name, unescaping only
// when the raw name contains escapes.
func nameIs(b []byte, n span, want string) bool {
	if !n.esc {
		return string(b[n.start:n.end]) == want
	}
	return string(unescape(b[n.start:n.end])) == want
}

// nameBytes returns the member name, unescaped.
func nameBytes(b []byte, n span) []byte {
	if !n.esc {
		return b[n.start:n.end]
	}
	return unescape(b[n.start:n.end])
}
