package jwt

import (
	"encoding/binary"
	"math/bits"
)

// scanClaimsFast is scanClaims for the payloads that jwtgate and nearly
// every peer write: compact JSON, member names of one to seven plain ASCII
// characters, string values of plain printable ASCII, and integer values
// without a leading zero. In one pass it does the work for which the
// general scanner needs an iterator, spans with flags and a call per
// member.
//
// It never refuses anything. It returns true when it has recorded the
// whole payload into rc, exactly as scanClaims would have, and false as
// soon as it meets anything outside that subset, or anything that would
// need a judgement: a repeated name (or two names that nameBit does not
// tell apart), a name a registered claim folds to, a registered claim of
// the wrong type, a number out of date range. Then rc holds partial
// results and scanClaimsFull starts over. FuzzScanClaimsFast holds it to
// this: whatever it accepts, the general scanner must accept with the
// same result.
//
// p ends with '}', which is none of '"', ':', ',' or a digit: every loop
// of the helpers below stops at or before it, so they stay in range.
func scanClaimsFast(p []byte, rc *scanned) bool {
	n := len(p)
	if n < 2 || p[0] != '{' || p[n-1] != '}' {
		return false
	}
	if n == 2 {
		return true
	}
	var reg uint8    // the registered claims seen
	var names uint64 // nameBit of the other names seen
	for i := 0; ; {  // i is at the '{' or ',' before a member
		// A registered claim with its quotes and colon is one eight-byte
		// word from the '{' or ',' on: `,"exp":1}` is the shortest such
		// member, so the word is there whenever the claim is.
		id, name, vi := notRegistered, span{}, i+7
		if i+8 <= n {
			id = registeredWord(binary.LittleEndian.Uint64(p[i : i+8]))
		}
		if id == notRegistered {
			if name, vi = otherName(p, i); vi == 0 {
				return false
			}
		}
		var end int
		var sec int64
		switch c := p[vi]; {
		case c == '"':
			end = fastString(p, vi)
		case '1' <= c && c <= '9':
			end, sec = fastInt(p, vi)
		}
		if end == 0 || p[end] != ',' && p[end] != '}' {
			// Arrays, objects, literals, zero, negative numbers, strings
			// that are not plain, dates out of range; a fraction, an
			// exponent, white space or junk after the value.
			return false
		}
		val := span{start: vi, end: end}
		if id != notRegistered {
			if reg&id.bit() != 0 || id.isDate() != (p[vi] != '"') {
				return false // repeated, or of the wrong type
			}
			reg |= id.bit()
			rc.record(id, val, date{sec: sec, set: true})
		} else if !rc.addExtra(&names, p, name, val) {
			return false
		}
		if p[end] == '}' {
			return end == n-1
		}
		i = end
	}
}

// addExtra records a member with another name, unless the name may
// repeat one (names holds nameBit of those seen) or rc has no room left.
func (rc *scanned) addExtra(names *uint64, p []byte, name, val span) bool {
	h := nameBit(p[name.start:name.end])
	if *names&h != 0 || rc.nExtra == len(rc.extra) {
		return false
	}
	*names |= h
	rc.extra[rc.nExtra] = member{name, val}
	rc.nExtra++
	return true
}

// otherName reads a member name that is not a registered claim's, after
// the '{' or ',' at p[i], and the colon after it. It returns the name's
// span and the index of the value; 0 when the name is outside
// scanClaimsFast's subset. One eight-byte test finds the closing quote.
func otherName(p []byte, i int) (span, int) {
	n := len(p)
	i++
	if p[i] != '"' {
		return span{}, 0
	}
	start, k := i+1, 0
	if start+8 <= n {
		k = bits.TrailingZeros64(specialIn8(binary.LittleEndian.Uint64(p[start:start+8]))) >> 3
	} else { // near the end
		for start+k < n-1 && plain[p[start+k]] {
			k++
		}
	}
	if k == 0 || k == 8 || p[start+k] != '"' || p[start+k+1] != ':' {
		return span{}, 0 // empty, eight or more characters, not plain, or no colon
	}
	if k == 3 && registeredFold(p[start:start+3], false) {
		return span{}, 0 // ISS and the like; exact names were matched before
	}
	return span{start: start, end: start + k}, start + k + 2
}

// fastString returns the index after the string at p[i] when it holds
// only plain printable ASCII, else 0.
func fastString(p []byte, i int) int {
	n := len(p)
	j := i + 1
	for {
		if j+8 > n { // the last few bytes, the closing brace among them
			for j < n-1 && plain[p[j]] {
				j++
			}
			break
		}
		if m := specialIn8(binary.LittleEndian.Uint64(p[j : j+8])); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			break
		}
		j += 8 // may reach n: eight plain bytes can end with the brace
	}
	if j >= n || p[j] != '"' {
		return 0 // unterminated, an escape, a control character or non-ASCII
	}
	return j + 1
}

// fastInt reads the integer at p[i], which starts with a non-zero digit:
// it returns the index after it and its value, or 0 when it is out of
// date range.
func fastInt(p []byte, i int) (int, int64) {
	var sec int64
	if i+8 <= len(p) {
		if x := binary.LittleEndian.Uint64(p[i : i+8]); allDigits8(x) {
			sec, i = parse8Digits(x), i+8
		}
	}
	for '0' <= p[i] && p[i] <= '9' {
		if sec > maxNumericDate/10 {
			return 0, 0
		}
		sec = sec*10 + int64(p[i]-'0')
		i++
	}
	if sec > maxNumericDate {
		return 0, 0
	}
	return i, sec
}
