package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
)

// JWK is the JSON form of a JSON Web Key (RFC 7517, RFC 7518 section 6,
// RFC 8037). Key material members hold unpadded base64url strings exactly
// as they appear on the wire. It is what MarshalPublicJWK and
// MarshalPrivateJWK produce; ParseJWK reads the same members. A JWK with
// d or k set is secret.
type JWK struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	Alg    string   `json:"alg,omitempty"`
	Kid    string   `json:"kid,omitempty"`
	Crv    string   `json:"crv,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	D      string   `json:"d,omitempty"`
	P      string   `json:"p,omitempty"`
	Q      string   `json:"q,omitempty"`
	DP     string   `json:"dp,omitempty"`
	DQ     string   `json:"dq,omitempty"`
	QI     string   `json:"qi,omitempty"`
	K      string   `json:"k,omitempty"`
}

// maxJWKRSABits bounds the modulus of a parsed RSA JWK. A JWKS is often
// fetched from a remote server; without a ceiling a huge modulus would make
// every validation and verification arbitrarily slow.
const maxJWKRSABits = 16384

// jwkB64 is base64url without padding that also refuses non-zero trailing
// bits, so every value has exactly one accepted spelling. Without that, two
// different strings would parse to the same key and, for example, defeat
// duplicate detection done on the JSON text by other tools.
var jwkB64 = base64.RawURLEncoding.Strict()

// ParseJWK parses one JWK JSON object into a Key.
//
// The algorithm is the JWK's "alg" if present, which must be a supported
// algorithm consistent with kty and crv; otherwise it is DefaultAlgorithm
// of the key material (HS256 for kty "oct"). The kid comes from "kid".
// Supported: kty "RSA" (public, or private with d, p and q), "EC" on P-256,
// P-384 and P-521 (d optional), "OKP" with crv "Ed25519" (d optional, the
// 32-byte seed) and "oct" (through NewHMACKey, so short secrets are refused
// with ErrWeakKey). Anything else fails with ErrInvalidKey.
//
// Member names are matched exactly (encoding/json alone would also match
// "D" or "KTY") and a repeated member is refused, so that this parser and
// any other one cannot disagree about which key a document holds. Members
// this package does not use, such as x5c, are ignored.
//
// "use" and "key_ops" are not enforced here: the caller chose this one key
// explicitly. ParseJWKS uses them to pick signature keys out of a set.
func ParseJWK(data []byte) (*Key, error) {
	return ParseJWKFor(data, "")
}

// ParseJWKFor is ParseJWK for a caller that uses the key with alg. RFC
// 7517 makes a JWK's "alg" optional: a JWK without it serves any
// algorithm of its type the caller names (HS256/384/512 for kty "oct",
// RS* and PS* for "RSA", the ES* of its curve for "EC", EdDSA for "OKP"),
// while a JWK that names its "alg" serves that one alone. Anything else
// fails with ErrInvalidKey. alg "" lets the JWK decide, as ParseJWK.
func ParseJWKFor(data []byte, alg Algorithm) (*Key, error) {
	j, err := decodeJWK(data)
	if err != nil {
		return nil, err
	}
	return j.key(false, alg)
}

// ParseJWKInsecureWeakSecret is ParseJWK except that a kty "oct" key goes
// through NewInsecureWeakHMACKey, so secrets shorter than the hash output
// are accepted. It exists to verify legacy tokens signed with short
// secrets (the CLI's --allow-weak-secret); such secrets can be
// brute-forced offline from any single token. Never use it for new keys.
func ParseJWKInsecureWeakSecret(data []byte) (*Key, error) {
	return ParseJWKInsecureWeakSecretFor(data, "")
}

// ParseJWKInsecureWeakSecretFor is ParseJWKInsecureWeakSecret for a
// caller that uses the key with alg, as ParseJWKFor.
func ParseJWKInsecureWeakSecretFor(data []byte, alg Algorithm) (*Key, error) {
	j, err := decodeJWK(data)
	if err != nil {
		return nil, err
	}
	return j.key(true, alg)
}

// ParseJWKS parses a JWK Set, {"keys":[...]}, into its signature keys.
//
// Entries that are not signature keys for this package are skipped rather
// than refused, because real sets mix them in: "use":"enc", key_ops without
// "sign" or "verify", an unknown kty or curve (X25519, Ed448, ...), or an
// "alg" that is not a supported JWS algorithm (RSA-OAEP, A128KW, ...). An
// entry of a supported type that is invalid fails the whole set: a broken
// key in a set is a configuration error that must not go unnoticed. The
// set also fails if two keys share a kid (kid selection would be
// ambiguous) or if no usable key remains.
func ParseJWKS(data []byte) ([]*Key, error) {
	return ParseJWKSFor(data, "")
}

// ParseJWKSFor is ParseJWKS for a caller that uses the keys with alg
// ("" for any): it keeps the entries that name alg, and those that name
// no "alg" and whose type serves alg (see ParseJWKFor), bound to alg.
// It fails if none remains.
func ParseJWKSFor(data []byte, alg Algorithm) ([]*Key, error) {
	var entries []json.RawMessage
	seenKeys := false
	err := jwkWalkObject(data, func(name string, dec *json.Decoder) error {
		if name != "keys" {
			return jwkSkipValue(dec)
		}
		seenKeys = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if len(raw) == 0 || raw[0] != '[' {
			return errors.New(`"keys" is not an array`)
		}
		return json.Unmarshal(raw, &entries)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: JWKS: %w", ErrInvalidKey, err)
	}
	if !seenKeys {
		return nil, fmt.Errorf(`%w: JWKS has no "keys" member`, ErrInvalidKey)
	}
	keys := make([]*Key, 0, len(entries))
	kids := make(map[string]bool, len(entries))
	for i, e := range entries {
		j, err := decodeJWK(e)
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if !j.isSignatureKey() || alg != "" && !j.serves(alg) {
			continue
		}
		k, err := j.key(false, alg)
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if k.kid != "" {
			if kids[k.kid] {
				return nil, fmt.Errorf("%w: JWKS has two keys with kid %s", ErrInvalidKey, jwkQuote(k.kid))
			}
			kids[k.kid] = true
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		if alg != "" {
			return nil, fmt.Errorf("%w: no %s key in the set", ErrInvalidKey, algText(alg))
		}
		return nil, fmt.Errorf("%w: JWKS has no usable signature key", ErrInvalidKey)
	}
	return keys, nil
}

// MarshalPublicJWK returns the public JWK of an asymmetric key: kty, crv,
// x, y or n, e, plus alg, kid (if set) and "use":"sig". It never contains
// private members. An HMAC key fails with ErrInvalidKey: a secret has no
// public form.
func (k *Key) MarshalPublicJWK() ([]byte, error) {
	j, err := k.jwk(false)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// MarshalPrivateJWK returns the full JWK including private members (d, p,
// q, dp, dq, qi, or the oct secret k), for key generation output and
// backups. Treat the result as a secret. A verify-only key fails with
// ErrInvalidKey.
func (k *Key) MarshalPrivateJWK() ([]byte, error) {
	if !k.CanSign() {
		return nil, fmt.Errorf("%w: verify-only key has no private JWK", ErrInvalidKey)
	}
	j, err := k.jwk(true)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// MarshalJWKS returns {"keys":[...]} with the public JWK of every key, for
// publishing at a jwks_uri. It fails if any key is an HMAC secret, which
// must never be published, or if two keys share a kid, which ParseJWKS
// would refuse.
func MarshalJWKS(keys ...*Key) ([]byte, error) {
	set := struct {
		Keys []*JWK `json:"keys"`
	}{Keys: make([]*JWK, 0, len(keys))}
	kids := make(map[string]bool, len(keys))
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("%w: JWKS key %d is nil", ErrInvalidKey, i)
		}
		j, err := k.jwk(false)
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if k.kid != "" {
			if kids[k.kid] {
				return nil, fmt.Errorf("%w: two keys with kid %s", ErrInvalidKey, jwkQuote(k.kid))
			}
			kids[k.kid] = true
		}
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

// Thumbprint returns the RFC 7638 JWK thumbprint of the key: the unpadded
// base64url SHA-256 of its required members in lexicographic order without
// whitespace (RSA: e, kty, n; EC: crv, kty, x, y; OKP: crv, kty, x per
// RFC 8037 section 2; oct: k, kty). It is stable across private and public
// forms and ignores alg and kid, so it makes a good derived kid.
//
// For an HMAC key the thumbprint is a hash of the secret itself: publishing
// it (for instance as a kid) lets anyone test guesses of a weak secret
// offline.
func (k *Key) Thumbprint() (string, error) {
	j, err := k.jwk(k.fam == famHMAC)
	if err != nil {
		return "", err
	}
	var b []byte
	switch j.Kty {
	case "RSA":
		b = fmt.Appendf(nil, `{"e":"%s","kty":"RSA","n":"%s"}`, j.E, j.N)
	case "EC":
		b = fmt.Appendf(nil, `{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, j.Crv, j.X, j.Y)
	case "OKP":
		b = fmt.Appendf(nil, `{"crv":"%s","kty":"OKP","x":"%s"}`, j.Crv, j.X)
	case "oct":
		b = fmt.Appendf(nil, `{"k":"%s","kty":"oct"}`, j.K)
	default:
		return "", fmt.Errorf("%w: no thumbprint for kty %s", ErrInvalidKey, j.Kty)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// jwk converts k to its JWK form; private adds the private members.
func (k *Key) jwk(private bool) (*JWK, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	j := &JWK{Use: "sig", Alg: string(k.alg), Kid: k.kid}
	enc := base64.RawURLEncoding.EncodeToString
	switch k.fam {
	case famHMAC:
		if !private {
			return nil, fmt.Errorf("%w: an HMAC secret has no public JWK", ErrInvalidKey)
		}
		j.Kty, j.K = "oct", enc(k.secret)
	case famRSA, famPSS:
		pub, ok := k.pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: RSA key without RSA public key", ErrInvalidKey)
		}
		// big.Int.Bytes is minimal big-endian, as Base64urlUInt requires
		// (RFC 7518 section 2): no leading zero octets.
		j.Kty, j.N, j.E = "RSA", enc(pub.N.Bytes()), enc(big.NewInt(int64(pub.E)).Bytes())
		if private {
			priv, ok := k.priv.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: RSA key without RSA private key", ErrInvalidKey)
			}
			if len(priv.Primes) != 2 {
				// JWK would need "oth", which ParseJWK refuses.
				return nil, fmt.Errorf("%w: multi-prime RSA keys have no JWK form here", ErrInvalidKey)
			}
			p, q := priv.Primes[0], priv.Primes[1]
			dp, dq, qi := priv.Precomputed.Dp, priv.Precomputed.Dq, priv.Precomputed.Qinv
			if dp == nil || dq == nil || qi == nil {
				one := big.NewInt(1)
				dp = new(big.Int).Mod(priv.D, new(big.Int).Sub(p, one))
				dq = new(big.Int).Mod(priv.D, new(big.Int).Sub(q, one))
				qi = new(big.Int).ModInverse(q, p)
				if qi == nil {
					return nil, fmt.Errorf("%w: RSA primes are not coprime", ErrInvalidKey)
				}
			}
			j.D, j.P, j.Q = enc(priv.D.Bytes()), enc(p.Bytes()), enc(q.Bytes())
			j.DP, j.DQ, j.QI = enc(dp.Bytes()), enc(dq.Bytes()), enc(qi.Bytes())
		}
	case famECDSA:
		pub, ok := k.pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: ECDSA key without ECDSA public key", ErrInvalidKey)
		}
		// Bytes is 0x04 || X || Y with each coordinate left-padded to the
		// curve size, which RFC 7518 section 6.2.1.2 requires.
		pt, err := pub.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: ECDSA public key: %w", ErrInvalidKey, err)
		}
		size := (len(pt) - 1) / 2
		j.Kty, j.Crv = "EC", curveName(pub.Curve)
		j.X, j.Y = enc(pt[1:1+size]), enc(pt[1+size:])
		if private {
			priv, ok := k.priv.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: ECDSA key without ECDSA private key", ErrInvalidKey)
			}
			d, err := priv.Bytes() // fixed length, RFC 7518 section 6.2.2.1
			if err != nil {
				return nil, fmt.Errorf("%w: ECDSA private key", ErrInvalidKey)
			}
			j.D = enc(d)
		}
	case famEdDSA:
		pub, ok := k.pub.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: EdDSA key without Ed25519 public key", ErrInvalidKey)
		}
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", enc(pub)
		if private {
			priv, ok := k.priv.(ed25519.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: EdDSA key without Ed25519 private key", ErrInvalidKey)
			}
			j.D = enc(priv.Seed()) // RFC 8037 section 2: d is the seed
		}
	default:
		return nil, fmt.Errorf("%w: key has no algorithm", ErrInvalidKey)
	}
	return j, nil
}

// decodeJWK reads one JWK object. See ParseJWK for why it does not simply
// use json.Unmarshal into a JWK.
func decodeJWK(data []byte) (*JWK, error) {
	j := new(JWK)
	err := jwkWalkObject(data, func(name string, dec *json.Decoder) error {
		var dst *string
		switch name {
		case "kty":
			dst = &j.Kty
		case "use":
			dst = &j.Use
		case "alg":
			dst = &j.Alg
		case "kid":
			dst = &j.Kid
		case "crv":
			dst = &j.Crv
		case "x":
			dst = &j.X
		case "y":
			dst = &j.Y
		case "n":
			dst = &j.N
		case "e":
			dst = &j.E
		case "d":
			dst = &j.D
		case "p":
			dst = &j.P
		case "q":
			dst = &j.Q
		case "dp":
			dst = &j.DP
		case "dq":
			dst = &j.DQ
		case "qi":
			dst = &j.QI
		case "k":
			dst = &j.K
		case "key_ops":
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if len(raw) == 0 || raw[0] != '[' {
				return errors.New(`"key_ops" is not an array`)
			}
			if err := json.Unmarshal(raw, &j.KeyOps); err != nil {
				return errors.New(`"key_ops" is not an array of strings`)
			}
			return nil
		case "oth":
			return errors.New("multi-prime RSA keys (oth) are not supported")
		default:
			return jwkSkipValue(dec)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if len(raw) == 0 || raw[0] != '"' {
			return fmt.Errorf("member %q is not a string", name)
		}
		return json.Unmarshal(raw, dst)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: JWK: %w", ErrInvalidKey, err)
	}
	return j, nil
}

// jwkWalkObject calls fn for each member of the single JSON object in
// data; fn must consume the value from dec. Repeated names and trailing
// data are errors.
func jwkWalkObject(data []byte, fn func(name string, dec *json.Decoder) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("malformed JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("malformed JSON")
		}
		if seen[name] {
			return fmt.Errorf("duplicate member %s", jwkQuote(name))
		}
		seen[name] = true
		if err := fn(name, dec); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return errors.New("malformed JSON")
			}
			return err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func jwkSkipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// isSignatureKey reports whether a JWKS entry is meant for, and usable as,
// a JWS key of this package. Entries for which it is false are skipped.
func (j *JWK) isSignatureKey() bool {
	if j.Use == "enc" {
		return false
	}
	if j.KeyOps != nil {
		ok := false
		for _, op := range j.KeyOps {
			ok = ok || op == "sign" || op == "verify"
		}
		if !ok {
			return false
		}
	}
	if j.Alg != "" && !Algorithm(j.Alg).Valid() {
		return false
	}
	switch j.Kty {
	case "RSA", "oct":
		return true
	case "EC":
		return jwkCurve(j.Crv) != nil
	case "OKP":
		return j.Crv == "Ed25519"
	}
	return false
}

func jwkCurve(crv string) elliptic.Curve {
	switch crv {
	case "P-256":
		return elliptic.P256()
	case "P-384":
		return elliptic.P384()
	case "P-521":
		return elliptic.P521()
	}
	return nil
}

// serves reports whether a signature key of the JWK's type can be used
// with alg: the JWK names alg, or names none and its kty (and crv) suit
// alg. It looks at no key material.
func (j *JWK) serves(alg Algorithm) bool {
	if j.Alg != "" {
		return Algorithm(j.Alg) == alg
	}
	f, _ := alg.info()
	switch j.Kty {
	case "oct":
		return f == famHMAC
	case "RSA":
		return f == famRSA || f == famPSS
	case "EC":
		c := jwkCurve(j.Crv)
		return f == famECDSA && c != nil && curveFor(alg) == c
	case "OKP":
		return f == famEdDSA && j.Crv == "Ed25519"
	}
	return false
}

// alg resolves the algorithm of the key: the JWK's "alg" if present, which
// the caller's want ("" for any) must equal; else want, or natural when
// want is "". The result must be a supported algorithm of one of fams
// (and, for EC, on curve).
func (j *JWK) alg(want, natural Algorithm, curve elliptic.Curve, fams ...family) (Algorithm, error) {
	a, what := Algorithm(j.Alg), "JWK alg"
	switch {
	case a != "" && want != "" && a != want:
		return "", fmt.Errorf("%w: the JWK is for %s, not %s", ErrInvalidKey, algText(a), algText(want))
	case a == "" && want == "":
		return natural, nil
	case a == "":
		a, what = want, "algorithm"
	}
	f, _ := a.info()
	if f == famNone {
		return "", fmt.Errorf("%w: %s %s", ErrUnsupportedAlgorithm, what, algName(a))
	}
	for _, fam := range fams {
		if f == fam && (curve == nil || curveFor(a) == curve) {
			return a, nil
		}
	}
	if curve != nil {
		return "", fmt.Errorf("%w: %s %s does not match kty %s crv %s", ErrInvalidKey, what, a, j.Kty, j.Crv)
	}
	return "", fmt.Errorf("%w: %s %s does not match kty %s", ErrInvalidKey, what, a, j.Kty)
}

// algText names a supported algorithm as it is, anything else quoted and
// kept short.
func algText(a Algorithm) string {
	if a.Valid() {
		return string(a)
	}
	return algName(a)
}

// key builds the Key for want ("" lets the JWK decide). allowWeak applies
// to oct secrets only.
func (j *JWK) key(allowWeak bool, want Algorithm) (*Key, error) {
	var (
		k   *Key
		err error
	)
	switch j.Kty {
	case "oct":
		k, err = j.octKey(allowWeak, want)
	case "RSA":
		k, err = j.rsaKey(want)
	case "EC":
		k, err = j.ecKey(want)
	case "OKP":
		k, err = j.okpKey(want)
	case "":
		return nil, fmt.Errorf(`%w: JWK has no "kty"`, ErrInvalidKey)
	default:
		return nil, fmt.Errorf("%w: unsupported JWK kty %s", ErrInvalidKey, jwkQuote(j.Kty))
	}
	if err != nil {
		return nil, err
	}
	if j.Kid != "" {
		k = k.WithKeyID(j.Kid)
	}
	return k, nil
}

func (j *JWK) octKey(allowWeak bool, want Algorithm) (*Key, error) {
	alg, err := j.alg(want, HS256, nil, famHMAC)
	if err != nil {
		return nil, err
	}
	secret, err := jwkBytes("k", j.K, false)
	if err != nil {
		return nil, err
	}
	if allowWeak {
		return NewInsecureWeakHMACKey(alg, secret)
	}
	return NewHMACKey(alg, secret)
}

func (j *JWK) rsaKey(want Algorithm) (*Key, error) {
	alg, err := j.alg(want, RS256, nil, famRSA, famPSS)
	if err != nil {
		return nil, err
	}
	n, err := jwkUint("n", j.N)
	if err != nil {
		return nil, err
	}
	if n.BitLen() > maxJWKRSABits {
		return nil, fmt.Errorf("%w: RSA modulus has %d bits, at most %d are accepted", ErrInvalidKey, n.BitLen(), maxJWKRSABits)
	}
	e, err := jwkUint("e", j.E)
	if err != nil {
		return nil, err
	}
	if e.BitLen() > 31 {
		return nil, fmt.Errorf("%w: RSA public exponent too large", ErrInvalidKey)
	}
	pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
	// The public checks (size, exponent) run before any private-key work,
	// so a weak key is refused cheaply and with ErrWeakKey.
	vk, err := NewVerificationKey(alg, pub)
	if err != nil {
		return nil, err
	}
	if j.D == "" {
		if j.P != "" || j.Q != "" || j.DP != "" || j.DQ != "" || j.QI != "" {
			return nil, fmt.Errorf(`%w: RSA JWK has private members but no "d"`, ErrInvalidKey)
		}
		return vk, nil
	}
	if j.P == "" || j.Q == "" {
		// Go's RSA needs the primes; recovering them from d is possible
		// but no real JWK omits them.
		return nil, fmt.Errorf(`%w: RSA private JWK needs "p" and "q"`, ErrInvalidKey)
	}
	var d, p, q *big.Int
	for _, m := range []struct {
		name, val string
		dst       **big.Int
	}{{"d", j.D, &d}, {"p", j.P, &p}, {"q", j.Q, &q}} {
		if *m.dst, err = jwkUint(m.name, m.val); err != nil {
			return nil, err
		}
		if (*m.dst).BitLen() > n.BitLen() {
			return nil, fmt.Errorf("%w: RSA %q is larger than the modulus", ErrInvalidKey, m.name)
		}
	}
	// Validate tests p and q for primality, which takes seconds for large
	// bogus values; a product check first keeps junk cheap to refuse.
	if new(big.Int).Mul(p, q).Cmp(n) != 0 {
		return nil, fmt.Errorf("%w: RSA p * q != n", ErrInvalidKey)
	}
	priv := &rsa.PrivateKey{PublicKey: *pub, D: d, Primes: []*big.Int{p, q}}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("%w: RSA private key: %w", ErrInvalidKey, err)
	}
	priv.Precompute()
	for _, m := range []struct {
		name, val string
		want      *big.Int
	}{{"dp", j.DP, priv.Precomputed.Dp}, {"dq", j.DQ, priv.Precomputed.Dq}, {"qi", j.QI, priv.Precomputed.Qinv}} {
		if m.val == "" {
			continue // optional: computed above
		}
		got, err := jwkUint(m.name, m.val)
		if err != nil {
			return nil, err
		}
		if m.want == nil || got.BitLen() > n.BitLen() {
			return nil, fmt.Errorf("%w: RSA %q does not match the key", ErrInvalidKey, m.name)
		}
		size := (n.BitLen() + 7) / 8
		if subtle.ConstantTimeCompare(got.FillBytes(make([]byte, size)), m.want.FillBytes(make([]byte, size))) != 1 {
			return nil, fmt.Errorf("%w: RSA %q does not match the key", ErrInvalidKey, m.name)
		}
	}
	return NewSigningKey(alg, priv)
}

func (j *JWK) ecKey(want Algorithm) (*Key, error) {
	curve := jwkCurve(j.Crv)
	if curve == nil {
		return nil, fmt.Errorf("%w: unsupported EC curve %s", ErrInvalidKey, jwkQuote(j.Crv))
	}
	natural, _ := DefaultAlgorithm(&ecdsa.PublicKey{Curve: curve})
	alg, err := j.alg(want, natural, curve, famECDSA)
	if err != nil {
		return nil, err
	}
	size := (curve.Params().BitSize + 7) / 8
	x, err := jwkFixed("x", j.X, size)
	if err != nil {
		return nil, err
	}
	y, err := jwkFixed("y", j.Y, size)
	if err != nil {
		return nil, err
	}
	pt := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
	if err != nil {
		return nil, fmt.Errorf("%w: EC point is not on %s", ErrInvalidKey, j.Crv)
	}
	if j.D == "" {
		return NewVerificationKey(alg, pub)
	}
	d, err := jwkFixed("d", j.D, size)
	if err != nil {
		return nil, err
	}
	priv, err := ecdsa.ParseRawPrivateKey(curve, d)
	if err != nil {
		return nil, fmt.Errorf("%w: EC private key out of range", ErrInvalidKey)
	}
	if !priv.PublicKey.Equal(pub) {
		return nil, fmt.Errorf(`%w: EC "d" does not match "x" and "y"`, ErrInvalidKey)
	}
	return NewSigningKey(alg, priv)
}

func (j *JWK) okpKey(want Algorithm) (*Key, error) {
	if j.Crv != "Ed25519" {
		// X25519 is for key agreement; Ed448 is not in the standard library.
		return nil, fmt.Errorf("%w: unsupported OKP curve %s", ErrInvalidKey, jwkQuote(j.Crv))
	}
	alg, err := j.alg(want, EdDSA, nil, famEdDSA)
	if err != nil {
		return nil, err
	}
	x, err := jwkFixed("x", j.X, ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	if j.D == "" {
		return NewVerificationKey(alg, ed25519.PublicKey(x))
	}
	seed, err := jwkFixed("d", j.D, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), x) {
		return nil, fmt.Errorf(`%w: OKP "d" does not match "x"`, ErrInvalidKey)
	}
	return NewSigningKey(alg, priv)
}

// jwkBytes decodes a base64url member; empty values are refused unless
// allowEmpty.
func jwkBytes(name, s string, allowEmpty bool) ([]byte, error) {
	if s == "" && !allowEmpty {
		return nil, fmt.Errorf("%w: JWK member %q is missing", ErrInvalidKey, name)
	}
	b, err := jwkB64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK member %q is not canonical unpadded base64url", ErrInvalidKey, name)
	}
	return b, nil
}

// jwkFixed decodes a member that must have exactly size bytes, such as an
// EC coordinate, which RFC 7518 section 6.2.1.2 requires to be left-padded
// to the full curve size.
func jwkFixed(name, s string, size int) ([]byte, error) {
	b, err := jwkBytes(name, s, false)
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: JWK member %q has %d bytes, want %d", ErrInvalidKey, name, len(b), size)
	}
	return b, nil
}

// jwkUint decodes a positive Base64urlUInt (RFC 7518 section 2), which
// must use the minimum number of octets: a leading zero octet is refused so
// that each integer has one encoding.
func jwkUint(name, s string) (*big.Int, error) {
	b, err := jwkBytes(name, s, false)
	if err != nil {
		return nil, err
	}
	if b[0] == 0 {
		return nil, fmt.Errorf("%w: JWK member %q has a leading zero octet or is zero", ErrInvalidKey, name)
	}
	return new(big.Int).SetBytes(b), nil
}

// jwkQuote quotes a value from untrusted input for an error message,
// truncated so that a hostile document cannot flood logs. Only use it on
// non-secret members (kty, crv, kid, member names).
func jwkQuote(s string) string {
	const maxLen = 32
	if len(s) > maxLen {
		return strconv.Quote(s[:maxLen]) + "…"
	}
	return strconv.Quote(s)
}
