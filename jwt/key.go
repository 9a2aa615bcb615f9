package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"sync"
)

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 section 3.3).
const MinRSABits = 2048

// Key is a signing or verification key bound to one algorithm at
// construction. A token's header can never make a Key act as another
// algorithm: verification fails unless the header's alg equals the key's.
// A Key is immutable and safe for concurrent use.
type Key struct {
	alg  Algorithm
	fam  family
	hash crypto.Hash
	kid  string

	secret []byte     // HMAC
	macs   *sync.Pool // *macState, reused HMAC states for secret

	priv crypto.Signer    // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey; nil for verify-only
	pub  crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey

	ecSize int // bytes of each of R and S in an ECDSA signature

	// Precomputed base64url headers: hdrJWT has "typ":"JWT", hdrJWS none.
	hdrJWT, hdrJWS string
}

type macState struct {
	h   hash.Hash
	sum [64]byte
	buf []byte // Verify's scratch buffer, when it took this state first
}

// NewHMACKey returns an HS256/384/512 key. The secret must be at least as
// long as the hash output (32, 48 or 64 bytes, RFC 7518 section 3.2);
// shorter secrets are refused with ErrWeakKey. The secret is copied.
func NewHMACKey(alg Algorithm, secret []byte) (*Key, error) {
	return newHMACKey(alg, secret, false)
}

// NewInsecureWeakHMACKey is NewHMACKey without the minimum length check,
// for verifying legacy tokens and teaching examples signed with short
// secrets such as "my_super_secret_key". Such a secret can be brute-forced
// offline from any single token. Never use it for new tokens. An empty
// secret is still refused.
func NewInsecureWeakHMACKey(alg Algorithm, secret []byte) (*Key, error) {
	return newHMACKey(alg, secret, true)
}

func newHMACKey(alg Algorithm, secret []byte, allowWeak bool) (*Key, error) {
	fam, h := alg.info()
	if fam != famHMAC {
		return nil, fmt.Errorf("%w: %s is not an HMAC algorithm", ErrInvalidKey, algName(alg))
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty HMAC secret", ErrWeakKey)
	}
	if !allowWeak && len(secret) < h.Size() {
		return nil, fmt.Errorf("%w: %s needs a secret of at least %d bytes, got %d", ErrWeakKey, alg, h.Size(), len(secret))
	}
	k := &Key{alg: alg, fam: fam, hash: h, secret: append([]byte(nil), secret...)}
	return k.init(), nil
}

// NewSigningKey returns a key that signs (and verifies) with alg using an
// *rsa.PrivateKey (RS*, PS*), an *ecdsa.PrivateKey on the algorithm's
// curve (ES*), or an ed25519.PrivateKey (EdDSA).
func NewSigningKey(alg Algorithm, priv crypto.Signer) (*Key, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrInvalidKey)
	}
	if ep, ok := priv.(*ed25519.PrivateKey); ok { // accept both forms
		priv = *ep
	}
	k, err := newPublicKey(alg, priv.Public())
	if err != nil {
		return nil, err
	}
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: RSA private key: %w", ErrInvalidKey, err)
		}
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrInvalidKey, priv)
	}
	if ek, ok := priv.(ed25519.PrivateKey); ok && len(ek) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key has %d bytes", ErrInvalidKey, len(ek))
	}
	k.priv = priv
	return k, nil
}

// NewVerificationKey returns a verify-only key for alg: an *rsa.PublicKey,
// an *ecdsa.PublicKey on the algorithm's curve or an ed25519.PublicKey.
// A private key is accepted too; only its public half is kept.
func NewVerificationKey(alg Algorithm, pub crypto.PublicKey) (*Key, error) {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	return newPublicKey(alg, pub)
}

func newPublicKey(alg Algorithm, pub crypto.PublicKey) (*Key, error) {
	fam, h := alg.info()
	k := &Key{alg: alg, fam: fam, hash: h}
	switch fam {
	case famNone:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedAlgorithm, algName(alg))
	case famHMAC:
		return nil, fmt.Errorf("%w: %s takes a secret; use NewHMACKey", ErrInvalidKey, alg)
	case famRSA, famPSS:
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s needs an RSA key, got %s", ErrInvalidKey, alg, keyTypeName(pub))
		}
		if p.N == nil || p.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("%w: RSA key has %d bits, need at least %d", ErrWeakKey, bitLen(p), MinRSABits)
		}
		if p.E < 3 || p.E%2 == 0 {
			return nil, fmt.Errorf("%w: RSA public exponent", ErrInvalidKey)
		}
		k.pub = p
	case famECDSA:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s needs an ECDSA key, got %s", ErrInvalidKey, alg, keyTypeName(pub))
		}
		want := curveFor(alg)
		if p.Curve != want {
			return nil, fmt.Errorf("%w: %s needs curve %s, key is on %s", ErrWeakKey, alg, want.Params().Name, curveName(p.Curve))
		}
		if _, err := p.ECDH(); err != nil { // rejects points not on the curve
			return nil, fmt.Errorf("%w: ECDSA public key: %w", ErrInvalidKey, err)
		}
		k.pub = p
		k.ecSize = (want.Params().BitSize + 7) / 8
	case famEdDSA:
		switch p := pub.(type) {
		case ed25519.PublicKey:
			if len(p) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("%w: Ed25519 public key has %d bytes", ErrInvalidKey, len(p))
			}
			k.pub = p
		case *ed25519.PublicKey:
			return newPublicKey(alg, *p)
		default:
			return nil, fmt.Errorf("%w: EdDSA needs an Ed25519 key, got %s", ErrInvalidKey, keyTypeName(pub))
		}
	}
	return k.init(), nil
}

func bitLen(p *rsa.PublicKey) int {
	if p.N == nil {
		return 0
	}
	return p.N.BitLen()
}

func curveFor(alg Algorithm) elliptic.Curve {
	switch alg {
	case ES256:
		return elliptic.P256()
	case ES384:
		return elliptic.P384()
	case ES512:
		return elliptic.P521()
	}
	return nil
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "no curve"
	}
	return c.Params().Name
}

func keyTypeName(k any) string {
	switch k.(type) {
	case *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PublicKey:
		return "an ECDSA key"
	case ed25519.PublicKey:
		return "an Ed25519 key"
	case nil:
		return "no key"
	}
	return fmt.Sprintf("%T", k)
}

// algName keeps attacker-chosen alg values short in error messages.
func algName(a Algorithm) string {
	if len(a) > 16 {
		return fmt.Sprintf("%q…", string(a[:16]))
	}
	return fmt.Sprintf("%q", string(a))
}

// init precomputes everything that does not depend on the token.
func (k *Key) init() *Key {
	k.hdrJWS = encodeHeader(k.alg, k.kid, false)
	k.hdrJWT = encodeHeader(k.alg, k.kid, true)
	if k.fam == famHMAC {
		secret, h := k.secret, k.hash
		k.macs = &sync.Pool{New: func() any { return &macState{h: hmac.New(h.New, secret)} }}
	}
	return k
}

func encodeHeader(alg Algorithm, kid string, jwt bool) string {
	b := []byte(`{"alg":"` + string(alg) + `"`)
	if kid != "" {
		q, _ := json.Marshal(kid) // a string always marshals
		b = append(append(b, `,"kid":`...), q...)
	}
	if jwt {
		b = append(b, `,"typ":"JWT"`...)
	}
	b = append(b, '}')
	return base64.RawURLEncoding.EncodeToString(b)
}

// WithKeyID returns a copy of k carrying kid, which Sign puts in the header
// and a Verifier matches against the token's kid.
func (k *Key) WithKeyID(kid string) *Key {
	c := &Key{alg: k.alg, fam: k.fam, hash: k.hash, kid: kid, secret: k.secret, priv: k.priv, pub: k.pub, ecSize: k.ecSize}
	return c.init()
}

// Algorithm returns the one algorithm the key is used with.
func (k *Key) Algorithm() Algorithm { return k.alg }

// KeyID returns the key's kid, or "" if it has none.
func (k *Key) KeyID() string { return k.kid }

// CanSign reports whether the key holds private or secret material.
func (k *Key) CanSign() bool { return k.fam == famHMAC || k.priv != nil }

// IsSymmetric reports whether the key is an HMAC secret.
func (k *Key) IsSymmetric() bool { return k.fam == famHMAC }

// PublicKey returns the public key of an asymmetric key, nil for HMAC.
func (k *Key) PublicKey() crypto.PublicKey { return k.pub }

// Public returns a verify-only copy of an asymmetric key (same alg and kid),
// or nil for an HMAC key, which has no public half.
func (k *Key) Public() *Key {
	if k.fam == famHMAC {
		return nil
	}
	c := *k
	c.priv = nil
	return &c
}

// DefaultAlgorithm returns the algorithm a key naturally implies: HS256 for
// a secret ([]byte), RS256 for RSA, ES256/384/512 for P-256/384/521,
// EdDSA for Ed25519. Private and public keys are both accepted.
func DefaultAlgorithm(key any) (Algorithm, error) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	switch k := key.(type) {
	case []byte:
		return HS256, nil
	case *rsa.PublicKey:
		return RS256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		case elliptic.P521():
			return ES512, nil
		}
		return "", fmt.Errorf("%w: unsupported curve %s", ErrInvalidKey, curveName(k.Curve))
	case ed25519.PublicKey:
		return EdDSA, nil
	}
	return "", fmt.Errorf("%w: unsupported key type %T", ErrInvalidKey, key)
}
