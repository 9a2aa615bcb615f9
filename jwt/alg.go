package jwt

import "crypto"

// Algorithm is a JWS "alg" value (RFC 7518 section 3, RFC 8037).
// "none" is deliberately absent: it can be neither produced nor accepted.
type Algorithm string

// The algorithms this package signs and verifies.
const (
	HS256 Algorithm = "HS256"
	HS384 Algorithm = "HS384"
	HS512 Algorithm = "HS512"
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	EdDSA Algorithm = "EdDSA"
)

// Algorithms lists every supported algorithm, in a stable order.
func Algorithms() []Algorithm {
	return []Algorithm{HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA}
}

type family uint8

const (
	famNone family = iota
	famHMAC
	famRSA
	famPSS
	famECDSA
	famEdDSA
)

// info returns the algorithm's family and hash; famNone for anything unknown.
func (a Algorithm) info() (family, crypto.Hash) {
	switch a {
	case HS256:
		return famHMAC, crypto.SHA256
	case HS384:
		return famHMAC, crypto.SHA384
	case HS512:
		return famHMAC, crypto.SHA512
	case RS256:
		return famRSA, crypto.SHA256
	case RS384:
		return famRSA, crypto.SHA384
	case RS512:
		return famRSA, crypto.SHA512
	case PS256:
		return famPSS, crypto.SHA256
	case PS384:
		return famPSS, crypto.SHA384
	case PS512:
		return famPSS, crypto.SHA512
	case ES256:
		return famECDSA, crypto.SHA256
	case ES384:
		return famECDSA, crypto.SHA384
	case ES512:
		return famECDSA, crypto.SHA512
	case EdDSA:
		return famEdDSA, 0
	}
	return famNone, 0
}

// Valid reports whether a is an algorithm this package implements.
func (a Algorithm) Valid() bool {
	f, _ := a.info()
	return f != famNone
}

// IsHMAC reports whether a is a symmetric (shared secret) algorithm.
func (a Algorithm) IsHMAC() bool {
	f, _ := a.info()
	return f == famHMAC
}

// parseAlg maps header bytes to a known Algorithm without allocating.
func parseAlg(s string) (Algorithm, bool) {
	switch s {
	case "HS256":
		return HS256, true
	case "HS384":
		return HS384, true
	case "HS512":
		return HS512, true
	case "RS256":
		return RS256, true
	case "RS384":
		return RS384, true
	case "RS512":
		return RS512, true
	case "PS256":
		return PS256, true
	case "PS384":
		return PS384, true
	case "PS512":
		return PS512, true
	case "ES256":
		return ES256, true
	case "ES384":
		return ES384, true
	case "ES512":
		return ES512, true
	case "EdDSA":
		return EdDSA, true
	}
	return "", false
}
