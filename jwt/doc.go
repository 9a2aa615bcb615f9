// Package jwt signs and verifies JSON Web Tokens (RFC 7519) in the compact
// JWS serialization (RFC 7515), using only Go's standard library crypto.
//
// Security properties, by construction:
//
//   - A Key is bound to one Algorithm when it is made. A token's header
//     never chooses the key type: verification fails with
//     ErrAlgorithmMismatch unless the header's alg equals the key's, so
//     HS256 tokens "signed" with an RSA public key, and alg "none" in any
//     spelling, are refused.
//   - Weak keys are refused at construction (ErrWeakKey): HMAC secrets
//     shorter than the hash, RSA under 2048 bits, EC keys on the wrong
//     curve. NewInsecureWeakHMACKey is the one, loudly named, way around.
//   - Parsing is strict. Before any crypto: a length limit, exactly three
//     unpadded base64url segments, a header without duplicate members or
//     crit extensions. After the signature: a payload object without
//     duplicate members, with typed registered claims. Keys are never
//     taken from the token (jku, x5u, jwk, x5c are ignored).
//   - exp is required unless the Verifier is told otherwise.
//
// Errors wrap sentinel values (ErrExpired, ErrSignature, ...) for
// errors.Is. DecodeUnverified takes a token apart for inspection only.
//
// Verify decodes *Claims and types implementing ClaimDecoder without
// reflection, allocating one string for all claim values; other types go
// through encoding/json.
package jwt
