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
// need a judgement: a repeated name, a name a registered claim folds to, a
// registered claim of the wrong type, a number out of date range. Then rc
// holds partial results and scanClaims starts over. FuzzScanClaimsFast
// holds it to this: whatever it accepts, the general scanner must accept
// with the same result.
func scanClaimsFast(p []byte, rc *scanned) bool {
	n := len(p)
	if n < 2 || p[0] != '{' || p[n-1] != '}' {
		return false
	}
	if n == 2 {
		rc.plain = true
		return true
	}
	// p ends with '}', which is none of '"', ':', ',' or a digit: every
	// loop below stops at or before it, so p[i] stays in range.
	var reg uint8
	var seen uint64 // extra names by length and first and last letter, as scanClaimsFull hashes them
	i := 0          // at the '{' or ',' before each member
	for {
		// The name. A registered claim with its quotes and colon is one
		// eight-byte word from the '{' or ',' on: `,"exp":1}` is the
		// shortest member that can follow, so the word is always there.
		var nameStart, k int
		var bit uint8
		if i+8 <= n {
			bit = registeredWord(binary.LittleEndian.Uint64(p[i : i+8]))
		}
		if bit != 0 {
			nameStart, k = i+2, 3
			i += 7
		} else {
			// Any other name: one eight-byte test finds its closing quote.
			i++
			if p[i] != '"' {
				return false
			}
			nameStart = i + 1
			if i+9 <= n {
				k = bits.TrailingZeros64(specialIn8(binary.LittleEndian.Uint64(p[nameStart:nameStart+8]))) >> 3
			} else { // near the end
				for nameStart+k < n-1 && plain[p[nameStart+k]] {
					k++
				}
			}
			if k == 0 || k == 8 || p[nameStart+k] != '"' {
				return false // empty, eight or more characters, or not plain
			}
			if k == 3 && registeredFold(p[nameStart:nameStart+3], false) {
				return false // ISS and the like; exact names were matched above
			}
			i = nameStart + k + 1
			if p[i] != ':' {
				return false
			}
			i++
		}
		// The value.
		valStart := i
		var sec int64
		isStr := false
		switch c := p[i]; {
		case c == '"':
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
				return false // unterminated, an escape, a control character or non-ASCII
			}
			i, isStr = j+1, true
		case '1' <= c && c <= '9':
			if i+8 <= n {
				if x := binary.LittleEndian.Uint64(p[i : i+8]); allDigits8(x) {
					sec, i = parse8Digits(x), i+8
				}
			}
			for '0' <= p[i] && p[i] <= '9' {
				if sec > maxNumericDate/10 {
					return false // out of date range, or no date at all
				}
				sec = sec*10 + int64(p[i]-'0')
				i++
			}
			if sec > maxNumericDate {
				return false
			}
		default:
			return false // arrays, objects, literals, zero, negative numbers
		}
		sep := p[i]
		if sep != ',' && sep != '}' {
			return false // a fraction, an exponent, white space or junk
		}
		if bit != 0 {
			// Strings for iss, sub, jti and aud; numbers for the dates.
			if reg&bit != 0 || isStr != (bit < 1<<4) {
				return false
			}
			reg |= bit
			switch bit {
			case 1 << 0:
				rc.iss, rc.hasIss = span{start: valStart + 1, end: i - 1}, true
			case 1 << 1:
				rc.sub, rc.hasSub = span{start: valStart + 1, end: i - 1}, true
			case 1 << 2:
				rc.jti, rc.hasJTI = span{start: valStart + 1, end: i - 1}, true
			case 1 << 3:
				rc.aud, rc.hasAud = span{start: valStart, end: i}, true
			case 1 << 4:
				rc.exp = date{sec: sec, set: true}
			case 1 << 5:
				rc.nbf = date{sec: sec, set: true}
			case 1 << 6:
				rc.iat = date{sec: sec, set: true}
			}
		} else {
			h := uint64(1) << ((uint(k) + uint(p[nameStart]|0x20)*3 + uint(p[nameStart+k-1]|0x20)*5) & 63)
			if seen&h != 0 || rc.nExtra == len(rc.extra) {
				return false // perhaps a repeat; or more than fit
			}
			seen |= h
			rc.extra[rc.nExtra] = member{span{start: nameStart, end: nameStart + k}, span{start: valStart, end: i}}
			rc.nExtra++
		}
		if sep == '}' {
			rc.plain = true
			return i == n-1
		}
	}
}

// registeredWord reads the eight bytes from a member's '{' or ',': when
// they spell a registered claim's name, in quotes, and a colon, it
// returns the claim's bit (as scanClaimsFull numbers them), else 0. The
// first byte and the value's first byte are not looked at.
//
// One multiplication sends each of the seven words to its own slot of
// eight, so one load and one comparison decide, where a switch would
// compare a word with up to three 64-bit constants.
func registeredWord(w uint64) uint8 {
	w &= 0x00ffffffffffff00
	if e := &registeredSlots[w*registeredHash>>61]; e.word == w {
		return e.bit
	}
	return 0
}

// registeredHash was found by a search for a multiplier whose top three
// bits differ for the seven registered words; the table's construction
// panics if it ever does not.
const registeredHash = 0xf8130c4237730edf

var registeredSlots = func() (t [8]struct {
	word uint64
	bit  uint8
}) {
	for i, name := range [...]string{"iss", "sub", "jti", "aud", "exp", "nbf", "iat"} {
		w := uint64('"'<<8|'"'<<40|':'<<48) | uint64(name[0])<<16 | uint64(name[1])<<24 | uint64(name[2])<<32
		e := &t[w*registeredHash>>61]
		if e.bit != 0 {
			panic("jwt: registeredHash sends two claim names to one slot")
		}
		e.word, e.bit = w, 1<<i
	}
	return t
}()
