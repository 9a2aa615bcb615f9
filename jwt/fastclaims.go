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
		return true
	}
	// p ends with '}', which is none of '"', ':', ',' or a digit: every
	// loop below stops at or before it, so p[i] stays in range.
	var reg uint8
	var seen uint64 // extra names by length and first and last letter, as scanClaims hashes them
	i := 1
	for {
		// The name: one eight-byte test finds its closing quote.
		if p[i] != '"' {
			return false
		}
		nameStart := i + 1
		k := 0
		if i+9 <= n {
			k = bits.TrailingZeros64(specialIn8(binary.LittleEndian.Uint64(p[nameStart:]))) >> 3
		} else { // near the end
			for nameStart+k < n-1 && plain[p[nameStart+k]] {
				k++
			}
		}
		if k == 0 || k == 8 || p[nameStart+k] != '"' {
			return false // empty, eight or more characters, or not plain
		}
		i = nameStart + k + 1
		if p[i] != ':' {
			return false
		}
		i++
		// The value.
		valStart := i
		var sec int64
		isStr := false
		switch c := p[i]; {
		case c == '"':
			j := i + 1
			for j+8 < n { // stop short of the closing brace, which is plain
				m := specialIn8(binary.LittleEndian.Uint64(p[j:]))
				if m != 0 {
					j += bits.TrailingZeros64(m) >> 3
					break
				}
				j += 8
			}
			for j < n-1 && plain[p[j]] {
				j++
			}
			if p[j] != '"' {
				return false // an escape, a control character or non-ASCII
			}
			i, isStr = j+1, true
		case '1' <= c && c <= '9':
			if i+8 <= n {
				if x := binary.LittleEndian.Uint64(p[i:]); allDigits8(x) {
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
		if p[i] != ',' && p[i] != '}' {
			return false // a fraction, an exponent, white space or junk
		}
		// What the member is. Registered claims are three letters.
		var bit uint8
		if k == 3 {
			switch uint32(p[nameStart]) | uint32(p[nameStart+1])<<8 | uint32(p[nameStart+2])<<16 {
			case 'i' | 's'<<8 | 's'<<16:
				bit = 1 << 0
				rc.iss, rc.hasIss = span{start: valStart + 1, end: i - 1}, true
			case 's' | 'u'<<8 | 'b'<<16:
				bit = 1 << 1
				rc.sub, rc.hasSub = span{start: valStart + 1, end: i - 1}, true
			case 'j' | 't'<<8 | 'i'<<16:
				bit = 1 << 2
				rc.jti, rc.hasJTI = span{start: valStart + 1, end: i - 1}, true
			case 'a' | 'u'<<8 | 'd'<<16:
				bit = 1 << 3
				rc.aud, rc.hasAud = span{start: valStart, end: i}, true
			case 'e' | 'x'<<8 | 'p'<<16:
				bit = 1 << 4
				rc.exp = date{sec: sec, set: true}
			case 'n' | 'b'<<8 | 'f'<<16:
				bit = 1 << 5
				rc.nbf = date{sec: sec, set: true}
			case 'i' | 'a'<<8 | 't'<<16:
				bit = 1 << 6
				rc.iat = date{sec: sec, set: true}
			default:
				if registeredFold(p[nameStart:nameStart+3], false) {
					return false
				}
			}
		}
		if bit != 0 {
			// Strings for iss, sub, jti and aud; numbers for the dates.
			if reg&bit != 0 || isStr != (bit < 1<<4) {
				return false
			}
			reg |= bit
		} else {
			h := uint64(1) << ((uint(k) + uint(p[nameStart]|0x20)*3 + uint(p[nameStart+k-1]|0x20)*5) & 63)
			if seen&h != 0 || rc.nExtra == len(rc.extra) {
				return false // perhaps a repeat; or more than fit
			}
			seen |= h
			rc.extra[rc.nExtra] = member{span{start: nameStart, end: nameStart + k}, span{start: valStart, end: i}}
			rc.nExtra++
		}
		if p[i] == '}' {
			return i == n-1
		}
		i++
	}
}
