package jwt

import "bytes"

// claimID is a registered claim of RFC 7519 section 4.1 that Verify
// reads and validates. The scanners keep the set of claims seen as a
// uint8 with bit 1<<id for each; every other list of the claims derives
// from registeredNames.
type claimID uint8

const (
	claimIss claimID = iota
	claimSub
	claimJTI
	claimAud
	claimExp // exp, nbf and iat, the NumericDates, come last: see isDate
	claimNbf
	claimIat
	notRegistered // any other name
)

var registeredNames = [notRegistered]string{
	claimIss: "iss",
	claimSub: "sub",
	claimJTI: "jti",
	claimAud: "aud",
	claimExp: "exp",
	claimNbf: "nbf",
	claimIat: "iat",
}

func (id claimID) bit() uint8 { return 1 << id }

// isDate reports whether the claim is a NumericDate. The others are
// strings, aud also an array of strings.
func (id claimID) isDate() bool { return id >= claimExp }

// registeredClaim returns the claim named exactly nm, or notRegistered.
func registeredClaim(nm []byte) claimID {
	if len(nm) != 3 {
		return notRegistered
	}
	return registeredWord(nameWord(nm[0], nm[1], nm[2]))
}

// registeredFold reports whether nm, not itself a registered claim name,
// would still match one in encoding/json's case-insensitive matching.
// high says that nm may hold non-ASCII bytes (or came from escapes), which
// need Unicode folding: "iſs", with a long s, matches iss.
func registeredFold(nm []byte, high bool) bool {
	if !high {
		// x|0x20 is a lower-case letter exactly when x is an ASCII letter.
		return len(nm) == 3 && registeredWord(nameWord(nm[0]|0x20, nm[1]|0x20, nm[2]|0x20)) != notRegistered
	}
	for _, r := range registeredNames {
		if bytes.EqualFold(nm, []byte(r)) {
			return true
		}
	}
	return false
}

// nameWord is the eight bytes, read little-endian, that registeredWord
// looks at when a three-letter member name a, b, c starts at the second:
// x"abc":x, with the first and last byte zero.
func nameWord(a, b, c byte) uint64 {
	return '"'<<8 | '"'<<40 | ':'<<48 | uint64(a)<<16 | uint64(b)<<24 | uint64(c)<<32
}

// registeredWord reads the eight bytes from a member's '{' or ','
// (little-endian): when they spell a registered claim's name, in quotes,
// and a colon, it returns the claim, else notRegistered. The first byte
// and the value's first byte are not looked at.
//
// One multiplication sends each claim's word to its own slot of eight, so
// one load and one comparison decide.
func registeredWord(w uint64) claimID {
	w &= 0x00ffffffffffff00
	if e := &registeredSlots[w*registeredHash>>61]; e.word == w {
		return e.id
	}
	return notRegistered
}

// registeredHash was found by a search for a multiplier whose top three
// bits differ for the seven registered words; the table's construction
// panics if it ever does not.
const registeredHash = 0xf8130c4237730edf

var registeredSlots = func() (t [8]struct {
	word uint64 // all ones in an empty slot: no masked word matches it
	id   claimID
}) {
	for i := range t {
		t[i].word, t[i].id = ^uint64(0), notRegistered
	}
	for id, name := range registeredNames {
		w := nameWord(name[0], name[1], name[2])
		e := &t[w*registeredHash>>61]
		if e.id != notRegistered {
			panic("jwt: registeredHash sends two claim names to one slot")
		}
		e.word, e.id = w, claimID(id)
	}
	return t
}()

// record stores claim id into rc: val is its raw value (a string with its
// quotes, or an aud array), d its value when it is a date. The caller has
// checked the type.
func (rc *scanned) record(id claimID, val span, d date) {
	str := span{start: val.start + 1, end: val.end - 1, esc: val.esc}
	switch id {
	case claimIss:
		rc.iss, rc.hasIss = str, true
	case claimSub:
		rc.sub, rc.hasSub = str, true
	case claimJTI:
		rc.jti, rc.hasJTI = str, true
	case claimAud:
		rc.aud, rc.hasAud = val, true
	case claimExp:
		rc.exp = d
	case claimNbf:
		rc.nbf = d
	case claimIat:
		rc.iat = d
	}
}
