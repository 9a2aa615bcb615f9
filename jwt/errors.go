package jwt

import (
	"errors"
	"reflect"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// these, so callers switch with errors.Is. Messages describe what was wrong
// with a token or key but never echo secrets or whole tokens.
var (
	// ErrMalformed: the token is not a well-formed compact JWS/JWT
	// (segments, base64url, JSON, header members, claim types).
	ErrMalformed = errors.New("jwt: malformed token")
	// ErrTooLarge: the token is longer than the verifier's size limit.
	// It is checked before anything else is looked at.
	ErrTooLarge = errors.New("jwt: token too large")
	// ErrUnsupportedAlgorithm: the header names an algorithm this package
	// does not implement (including every spelling of "none").
	ErrUnsupportedAlgorithm = errors.New("jwt: unsupported algorithm")
	// ErrAlgorithmMismatch: the header's alg differs from the algorithm of
	// the key chosen to verify it. The header never chooses the key type.
	ErrAlgorithmMismatch = errors.New("jwt: algorithm does not match key")
	// ErrKeyNotFound: no key matches the token's kid (or there is no kid
	// and more than one key).
	ErrKeyNotFound = errors.New("jwt: key not found")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("jwt: signature invalid")
	// ErrCritical: the header lists a "crit" extension this package does
	// not understand (RFC 7515 section 4.1.11).
	ErrCritical = errors.New("jwt: unsupported critical header")
	// ErrExpired: the exp claim is in the past (beyond the leeway).
	ErrExpired = errors.New("jwt: token expired")
	// ErrNotYetValid: the nbf claim is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("jwt: token not valid yet")
	// ErrIssuedInFuture: the iat claim is in the future (beyond the leeway).
	ErrIssuedInFuture = errors.New("jwt: token issued in the future")
	// ErrMissingExp: the token has no exp claim and the verifier requires one.
	ErrMissingExp = errors.New("jwt: token has no expiry")
	// ErrIssuer: the iss claim is missing or not the expected issuer.
	ErrIssuer = errors.New("jwt: issuer not accepted")
	// ErrAudience: the aud claim is missing or does not contain the
	// expected audience.
	ErrAudience = errors.New("jwt: audience not accepted")
	// ErrWeakKey: a key was refused at construction because it is too weak
	// for its algorithm (short HMAC secret, small RSA modulus, wrong curve).
	ErrWeakKey = errors.New("jwt: key too weak")
	// ErrInvalidKey: a key is unusable: wrong type for the algorithm,
	// a private operation on a public key, unparsable key material.
	ErrInvalidKey = errors.New("jwt: invalid key")
)

// InvalidTargetError is returned when the claims argument of
// Verifier.Verify or Unverified.Claims cannot be written to: not a
// pointer, or a nil pointer. It is a bug in the caller, not a bad token,
// so it wraps none of the sentinel errors above and is returned before
// the token is looked at.
type InvalidTargetError struct {
	Type reflect.Type // the argument's type
}

func (e *InvalidTargetError) Error() string {
	if e.Type == nil {
		return "jwt: claims target is nil, want a non-nil pointer"
	}
	if e.Type.Kind() == reflect.Pointer {
		return "jwt: claims target is a nil " + e.Type.String() + ", want a non-nil pointer"
	}
	return "jwt: claims target is a non-pointer " + e.Type.String() + ", want a non-nil pointer"
}

// checkTarget returns an *InvalidTargetError unless claims is nil (only
// check the token), a non-nil *Claims, a ClaimDecoder that is not a nil
// pointer, or a non-nil pointer for encoding/json.
func checkTarget(claims any) error {
	switch c := claims.(type) {
	case nil:
		return nil
	case *Claims:
		if c != nil {
			return nil
		}
	case ClaimDecoder:
		if rv := reflect.ValueOf(c); rv.Kind() != reflect.Pointer || !rv.IsNil() {
			return nil
		}
	default:
		if rv := reflect.ValueOf(c); rv.Kind() == reflect.Pointer && !rv.IsNil() {
			return nil
		}
	}
	return &InvalidTargetError{Type: reflect.TypeOf(claims)}
}
