package jwt

import (
	"crypto/ecdsa"
	"crypto/rand"
	"math/big"
)

func ecdsaSign(p *ecdsa.PrivateKey, digest []byte) (*big.Int, *big.Int, error) {
	return ecdsa.Sign(rand.Reader, p, digest)
}

// ecdsaVerify checks a JWS ECDSA signature, the fixed-size concatenation
// R||S of RFC 7518 section 3.4. Go's ecdsa.Verify would re-encode big.Ints
// to ASN.1 anyway, so we build the DER directly and call VerifyASN1.
// Zero or oversized R or S never verify.
func ecdsaVerify(p *ecdsa.PublicKey, size int, digest, sig []byte) bool {
	if len(sig) != 2*size {
		return false
	}
	r, s := trimZeros(sig[:size]), trimZeros(sig[size:])
	if len(r) == 0 || len(s) == 0 {
		return false
	}
	var bodyBuf [2 * (2 + 67)]byte // two INTEGERs of up to 67 bytes
	var der [3 + len(bodyBuf)]byte // inside a SEQUENCE
	body := appendDERInt(appendDERInt(bodyBuf[:0], r), s)
	out := der[:0]
	out = append(out, 0x30)
	out = appendDERLen(out, len(body))
	out = append(out, body...)
	return ecdsa.VerifyASN1(p, digest, out)
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func appendDERInt(b, v []byte) []byte {
	n := len(v)
	if v[0]&0x80 != 0 {
		n++
	}
	b = append(b, 0x02)
	b = appendDERLen(b, n)
	if n > len(v) {
		b = append(b, 0)
	}
	return append(b, v...)
}

func appendDERLen(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	return append(b, 0x81, byte(n))
}
