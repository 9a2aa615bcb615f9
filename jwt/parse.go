package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxSize is the default limit on a token's length in bytes. It is
// checked before anything else so that hostile input costs nothing.
const DefaultMaxSize = 8 << 10

var b64strict = b64.Strict() // refuses non-zero trailing bits: one encoding per value

// segments is a token split and base64url-decoded into one scratch buffer.
type segments struct {
	input   []byte // header "." payload: the signing input
	rawHdr  []byte // header, still base64url
	header  []byte // decoded, once decodeHeader has run
	payload []byte // decoded
	sig     []byte // decoded
}

// split checks the token's shape and decodes its payload and signature
// into *buf, filling s. Nothing here trusts or interprets the content yet.
func split(token string, max int, buf *[]byte, s *segments) error {
	if len(token) > max {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(token), max)
	}
	d1 := strings.IndexByte(token, '.')
	d2 := -1
	if d1 >= 0 {
		if d2 = strings.IndexByte(token[d1+1:], '.'); d2 >= 0 {
			d2 += d1 + 1
		}
	}
	if d2 < 0 {
		return segmentsError(token)
	}
	if d1 == 0 || d2 == d1+1 {
		return fmt.Errorf("%w: empty header or payload", ErrMalformed)
	}
	if d2 == len(token)-1 {
		return fmt.Errorf("%w: no signature", ErrSignature)
	}
	need := len(token) * 2
	if cap(*buf) < need {
		*buf = make([]byte, 0, need)
	}
	b := append((*buf)[:0], token...)
	tok := b[:len(token):len(token)]
	s.input, s.rawHdr = tok[:d2], tok[:d1]
	// The payload, then the signature, decoded after the token. The
	// decoder may write a few bytes of slack past each: the signature
	// overwrites the payload's, and the buffer has room for both.
	rest := b[len(token):cap(b)]
	pay, sig := tok[d1+1:d2], tok[d2+1:]
	n, ok := decodeB64URL(rest, pay)
	if !ok {
		return fmt.Errorf("%w: payload is not unpadded base64url: %w", ErrMalformed, b64Error(pay))
	}
	s.payload, rest = rest[:n:n], rest[n:]
	if n, ok = decodeB64URL(rest, sig); !ok {
		if strings.IndexByte(token[d2+1:], '.') >= 0 {
			return segmentsError(token)
		}
		return fmt.Errorf("%w: signature is not unpadded base64url: %w", ErrMalformed, b64Error(sig))
	}
	s.sig = rest[:n:n]
	return nil
}

func segmentsError(token string) error {
	return fmt.Errorf("%w: %d segments, want 3 (header.payload.signature)", ErrMalformed, strings.Count(token, ".")+1)
}

// decodeHeader decodes and parses the header, after split.
func (s *segments) decodeHeader() (header, error) {
	var err error
	if s.header, _, err = decodeSeg(make([]byte, 0, len(s.rawHdr)), s.rawHdr); err != nil {
		return header{}, fmt.Errorf("%w: header is not unpadded base64url: %w", ErrMalformed, err)
	}
	return parseHeader(s.header)
}

// errLineBreak: encoding/base64 rejects everything outside the URL
// alphabet, padding included, except CR and LF, which it skips.
var errLineBreak = errors.New("line break in base64 data")

// decodeSeg appends the decoding of src to b and returns it as its own slice.
func decodeSeg(b, src []byte) (out, grown []byte, err error) {
	n := len(b)
	need := decodedLen(len(src))
	// Up to 8 bytes of slack past the result let the decoder use wide stores.
	if m, ok := decodeB64URL(b[n:min(n+max(need, 0)+8, cap(b))], src); ok {
		return b[n : n+m : n+m], b[:n+m], nil
	}
	return nil, b, b64Error(src)
}

// b64Error says why src, which decodeB64URL refused, is not unpadded
// base64url: encoding/base64 says where, except for the line breaks it
// skips.
func b64Error(src []byte) error {
	if _, err := b64strict.Decode(make([]byte, b64.DecodedLen(len(src))), src); err != nil {
		return err
	}
	return errLineBreak
}

// header is what the JOSE header says. alg and kid point into the decoded
// header (or are fresh copies when escaped).
type header struct {
	alg, kid []byte
	hasKID   bool
	typ, cty []byte
	hasAlg   bool
	crit     string // why a verifier must refuse the header, if it must
}

const maxHeaderMembers = 16

// headerNames are the registered JOSE header parameters a JWS may meet
// (RFC 7515 section 4.1, RFC 7797, and RFC 7516's zip and enc, which
// parseHeader refuses).
var headerNames = [...]string{"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "b64", "zip", "enc"}

// parseHeader validates the JOSE header by the rules of the claims: a
// JSON object, no two member names that encoding/json would match to one
// another (it folds case, Unicode included), registered names spelled
// exactly, string alg/kid/typ/cty. zip and enc, which only a JWE has, are
// refused. It notes crit (we implement no extensions, so RFC 7515 section
// 4.1.11 says a verifier must reject) for the caller. jku, x5u, jwk and
// x5c are ignored: keys never come from the token.
func parseHeader(b []byte) (header, error) {
	var h header
	it, ok := openObject(b)
	if !ok {
		return h, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	var names [maxHeaderMembers]span
	for {
		name, val, more, ok := it.next()
		if !ok {
			return h, fmt.Errorf("%w: header is not valid JSON", ErrMalformed)
		}
		if !more {
			break
		}
		if it.n > maxHeaderMembers {
			return h, fmt.Errorf("%w: header has more than %d members", ErrMalformed, maxHeaderMembers)
		}
		nm := b[name.start:name.end]
		if name.esc {
			nm = unescape(nm)
		}
		for _, prev := range names[:it.n-1] {
			if bytes.EqualFold(nameBytes(b, prev), nm) {
				return h, fmt.Errorf("%w: duplicate header member %q", ErrMalformed, short(nm))
			}
		}
		names[it.n-1] = name
		switch string(nm) {
		case "alg":
			s, ok := stringValue(b, val)
			if !ok {
				return h, fmt.Errorf("%w: alg is not a string", ErrMalformed)
			}
			h.alg, h.hasAlg = s, true
		case "kid":
			s, ok := stringValue(b, val)
			if !ok {
				return h, fmt.Errorf("%w: kid is not a string", ErrMalformed)
			}
			h.kid, h.hasKID = s, true
		case "typ", "cty":
			s, ok := stringValue(b, val)
			if !ok {
				return h, fmt.Errorf("%w: %s is not a string", ErrMalformed, nm)
			}
			if nm[0] == 't' {
				h.typ = s
			} else {
				h.cty = s
			}
		case "crit":
			h.crit = "crit lists extensions this verifier does not implement"
		case "b64":
			h.crit = "b64 (RFC 7797) is not supported"
		case "zip", "enc":
			return h, fmt.Errorf("%w: header member %s belongs to a JWE, not a JWS", ErrMalformed, nm)
		case "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256":
		default:
			for _, r := range headerNames {
				if bytes.EqualFold(nm, []byte(r)) {
					return h, fmt.Errorf("%w: header member %q must be spelled %s", ErrMalformed, short(nm), r)
				}
			}
		}
	}
	if skipWS(b, it.i) != len(b) {
		return h, fmt.Errorf("%w: data after the header object", ErrMalformed)
	}
	if !h.hasAlg {
		return h, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	return h, nil
}

// stringValue returns the contents of a string value, unescaped.
func stringValue(b []byte, val span) ([]byte, bool) {
	if b[val.start] != '"' {
		return nil, false
	}
	_, sp, _ := scanString(b, val.start)
	if sp.esc {
		return unescape(b[sp.start:sp.end]), true
	}
	return b[sp.start:sp.end], true
}

// short keeps attacker-chosen text in error messages short.
func short(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}

// verifySignature checks sig over input with k.
func (k *Key) verifySignature(input, sig []byte) bool {
	switch k.fam {
	case famHMAC:
		m := k.macs.Get().(*macState)
		ok := macEqual(m, input, sig)
		k.macs.Put(m)
		return ok
	case famEdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.pub.(ed25519.PublicKey), input, sig)
	}
	h := k.hash.New()
	h.Write(input)
	var d [64]byte
	digest := h.Sum(d[:0])
	switch k.fam {
	case famRSA:
		p := k.pub.(*rsa.PublicKey)
		return len(sig) == p.Size() && rsa.VerifyPKCS1v15(p, k.hash, digest, sig) == nil
	case famPSS:
		p := k.pub.(*rsa.PublicKey)
		return len(sig) == p.Size() && rsa.VerifyPSS(p, k.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case famECDSA:
		return ecdsaVerify(k.pub.(*ecdsa.PublicKey), k.ecSize, digest, sig)
	}
	return false
}

// macEqual reports whether sig is the HMAC of input, in constant time (a
// length mismatch is simply false).
func macEqual(m *macState, input, sig []byte) bool {
	m.h.Reset()
	m.h.Write(input)
	return hmac.Equal(m.h.Sum(m.sum[:0]), sig)
}
