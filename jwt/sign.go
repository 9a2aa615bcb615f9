package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
)

var b64 = base64.RawURLEncoding

// bufPool holds scratch buffers so that signing and verifying allocate
// only their result.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns b to the pool. Users reslice it to [:0], so its length
// is not reset here: a pointer written to the heap costs a write barrier.
func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 { // do not pin the odd huge buffer
		bufPool.Put(b)
	}
}

// Sign returns a compact JWT signed with key. Its header is
// {"alg":…,"kid":…,"typ":"JWT"} (kid only when the key has one). claims
// must encode to a JSON object: Claims and ClaimAppenders encode
// themselves, json.RawMessage is used as given (compacted), anything else
// (a struct embedding Claims, a map) goes through encoding/json. Sign adds
// nothing to the claims: set exp yourself.
func Sign(key *Key, claims any) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	return sign(key, key.hdrJWT, claims)
}

// SignJWS returns a compact JWS (RFC 7515) of an arbitrary payload, with
// the header {"alg":…,"kid":…} and no "typ".
func SignJWS(key *Key, payload []byte) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	return sign(key, key.hdrJWS, payload)
}

func sign(key *Key, header string, claims any) (string, error) {
	if !key.CanSign() {
		return "", fmt.Errorf("%w: %s key has no private half", ErrInvalidKey, key.alg)
	}
	pb := getBuf()
	defer putBuf(pb)
	var payload []byte
	switch c := claims.(type) {
	case []byte: // SignJWS: any payload
		payload = c
	case json.RawMessage: // as given: json.Marshal would rewrite <, > and &
		var b bytes.Buffer
		if err := json.Compact(&b, c); err != nil || !validObject(b.Bytes()) {
			return "", fmt.Errorf("%w: claims must be one JSON object", ErrMalformed)
		}
		payload = b.Bytes()
	case *Claims:
		if c == nil {
			return "", fmt.Errorf("%w: nil claims", ErrMalformed)
		}
		payload = c.appendJSON((*pb)[:0])
		*pb = payload[:0]
	case Claims:
		payload = c.appendJSON((*pb)[:0])
		*pb = payload[:0]
	case ClaimAppender:
		payload = c.AppendJSON((*pb)[:0])
		*pb = payload[:0]
	default:
		var err error
		if payload, err = json.Marshal(claims); err != nil {
			return "", fmt.Errorf("jwt: encoding claims: %w", err)
		}
		if !validObject(payload) {
			return "", fmt.Errorf("%w: claims must encode to a JSON object", ErrMalformed)
		}
	}

	bb := getBuf()
	defer putBuf(bb)
	b := append((*bb)[:0], header...)
	b = append(b, '.')
	b = b64.AppendEncode(b, payload)
	b, err := key.appendSignature(b)
	*bb = b[:0]
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// appendSignature signs b (the signing input) and appends "." and the
// base64url signature.
func (k *Key) appendSignature(b []byte) ([]byte, error) {
	n := len(b)
	if k.fam == famHMAC {
		m := k.macs.Get().(*macState)
		m.h.Reset()
		m.h.Write(b)
		sum := m.h.Sum(m.sum[:0])
		b = append(b, '.')
		b = b64.AppendEncode(b, sum)
		k.macs.Put(m)
		return b, nil
	}
	var sig []byte
	var err error
	switch k.fam {
	case famEdDSA:
		sig = ed25519.Sign(k.priv.(ed25519.PrivateKey), b[:n])
	case famRSA, famPSS, famECDSA:
		h := k.hash.New()
		h.Write(b[:n])
		digest := h.Sum(nil)
		switch p := k.priv.(type) {
		case *rsa.PrivateKey:
			if k.fam == famPSS {
				sig, err = rsa.SignPSS(rand.Reader, p, k.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			} else {
				sig, err = rsa.SignPKCS1v15(nil, p, k.hash, digest)
			}
		case *ecdsa.PrivateKey:
			r, s, serr := ecdsaSign(p, digest)
			if err = serr; err == nil {
				sig = make([]byte, 2*k.ecSize)
				r.FillBytes(sig[:k.ecSize])
				s.FillBytes(sig[k.ecSize:])
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: signing: %w", err)
	}
	b = append(b, '.')
	return b64.AppendEncode(b, sig), nil
}
