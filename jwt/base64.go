package jwt

import "encoding/binary"

// A strict base64url decoder for the hot path of Verify. encoding/base64
// is correct but spends most of a token's decoding time on generality
// (padding, skipped line breaks, an indirect decode map); JWS needs none of
// that. This one accepts exactly what b64strict accepts minus CR and LF
// (RFC 7515 forbids both), which FuzzBase64 checks against encoding/base64.

// b64dec maps a base64url character to its six bits, pre-shifted for each
// of the four positions in a quantum. Every other byte has bit 31 set, so
// one OR over all lookups tells whether any input byte was invalid.
var b64dec = func() (t [4][256]uint32) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for pos := range t {
		for c := range t[pos] {
			t[pos][c] = 1 << 31
		}
		for v := range len(alphabet) {
			t[pos][alphabet[v]] = uint32(v) << (18 - 6*pos)
		}
	}
	return t
}()

// decodedLen is the decoded size of n unpadded base64url characters, or
// -1 when no input has that length.
func decodedLen(n int) int {
	if n%4 == 1 {
		return -1
	}
	return n/4*3 + max(n%4-1, 0)
}

// decodeB64URL decodes src (unpadded base64url, unused trailing bits
// zero) into dst, which must have room for decodedLen(len(src)) bytes, and
// reports whether src was valid. On failure dst holds garbage.
func decodeB64URL(dst, src []byte) (int, bool) {
	n := decodedLen(len(src))
	if n < 0 || len(dst) < n {
		return 0, false
	}
	t0, t1, t2, t3 := &b64dec[0], &b64dec[1], &b64dec[2], &b64dec[3]
	var bad uint32
	si, di := 0, 0
	// Eight characters make six bytes, written as one 8-byte store while
	// dst has room for the two bytes of slack (the next store overwrites
	// them). Thirty-two and sixteen at a time first: less loop overhead,
	// and independent chains of lookups for the CPU to overlap.
	// Each round slices out exactly what it reads and writes: with
	// lengths known and never zero, the compiler checks nothing more.
	for si+32 <= len(src) && di+26 <= len(dst) {
		s, d := src[si:si+32], dst[di:di+26]
		x := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		y := t0[s[4]] | t1[s[5]] | t2[s[6]] | t3[s[7]]
		z := t0[s[8]] | t1[s[9]] | t2[s[10]] | t3[s[11]]
		w := t0[s[12]] | t1[s[13]] | t2[s[14]] | t3[s[15]]
		x2 := t0[s[16]] | t1[s[17]] | t2[s[18]] | t3[s[19]]
		y2 := t0[s[20]] | t1[s[21]] | t2[s[22]] | t3[s[23]]
		z2 := t0[s[24]] | t1[s[25]] | t2[s[26]] | t3[s[27]]
		w2 := t0[s[28]] | t1[s[29]] | t2[s[30]] | t3[s[31]]
		bad |= x | y | z | w | x2 | y2 | z2 | w2
		binary.BigEndian.PutUint64(d[0:8], uint64(x)<<40|uint64(y)<<16)
		binary.BigEndian.PutUint64(d[6:14], uint64(z)<<40|uint64(w)<<16)
		binary.BigEndian.PutUint64(d[12:20], uint64(x2)<<40|uint64(y2)<<16)
		binary.BigEndian.PutUint64(d[18:26], uint64(z2)<<40|uint64(w2)<<16)
		si, di = si+32, di+24
	}
	for si+16 <= len(src) && di+14 <= len(dst) {
		s, d := src[si:si+16], dst[di:di+14]
		x := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		y := t0[s[4]] | t1[s[5]] | t2[s[6]] | t3[s[7]]
		z := t0[s[8]] | t1[s[9]] | t2[s[10]] | t3[s[11]]
		w := t0[s[12]] | t1[s[13]] | t2[s[14]] | t3[s[15]]
		bad |= x | y | z | w
		binary.BigEndian.PutUint64(d[0:8], uint64(x)<<40|uint64(y)<<16)
		binary.BigEndian.PutUint64(d[6:14], uint64(z)<<40|uint64(w)<<16)
		si, di = si+16, di+12
	}
	for ; len(src)-si >= 8 && len(dst)-di >= 8; si, di = si+8, di+6 {
		s := src[si : si+8]
		x := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		y := t0[s[4]] | t1[s[5]] | t2[s[6]] | t3[s[7]]
		bad |= x | y
		binary.BigEndian.PutUint64(dst[di:di+8], uint64(x)<<40|uint64(y)<<16)
	}
	for ; len(src)-si >= 4; si, di = si+4, di+3 { // the rest, a quantum at a time
		s, d := src[si:si+4], dst[di:di+3]
		x := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		bad |= x
		d[0], d[1], d[2] = byte(x>>16), byte(x>>8), byte(x)
	}
	switch s := src[si:]; len(s) {
	case 2:
		x := t0[s[0]] | t1[s[1]]
		bad |= x
		if x&0xf000 != 0 { // the last character's low 4 bits are unused and must be 0
			bad |= 1 << 31
		}
		dst[di] = byte(x >> 16)
	case 3:
		x := t0[s[0]] | t1[s[1]] | t2[s[2]]
		bad |= x
		if x&0xc0 != 0 { // the last character's low 2 bits are unused and must be 0
			bad |= 1 << 31
		}
		d := dst[di : di+2]
		d[0], d[1] = byte(x>>16), byte(x>>8)
	}
	return n, bad>>31 == 0
}
