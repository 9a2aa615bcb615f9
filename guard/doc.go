// Package guard is net/http middleware for Go services that sit behind
// jwtgate: it admits requests that carry a valid jwtgate access token and
// puts the token's claims in the request context.
//
//	g, err := guard.New(guard.Config{JWKSURL: "https://auth.example/.well-known/jwks.json"})
//	...
//	mux.Handle("GET /reports", g.Require(reports))
//	mux.Handle("POST /reports", g.RequireRole("editor", createReport))
//	// in a handler:
//	c, _ := guard.ClaimsFrom(r.Context()) // c.Subject, c.Name, c.Role
//
// Keys come either from the jwtgate server's JWKS document (asymmetric
// keys: EdDSA, ES256, RS256), fetched on first use, re-read every few
// minutes (in the background: requests go on with the keys at hand) and
// at once when a token names a key id the set does not hold
// (key rotation), at most once per MinRefreshInterval so forged key ids
// cannot turn the service into a request amplifier; or from keys given
// in Config.Keys (a public key, or the server's HS256 secret when both
// sides share it). Only public keys are taken from a JWKS document: a
// symmetric or private key found there is dropped, because a key
// published in a document cannot be a secret.
//
// Tokens are read from the Authorization: Bearer header, else from the
// cookie that jwtgate sets in cookie mode: __Host-access_token, or
// access_token from a server run with --insecure-cookies. A request
// authenticated by cookie that changes state (anything but GET, HEAD,
// OPTIONS) must repeat the matching CSRF cookie (__Host-csrf_token or
// csrf_token) in exactly one X-CSRF-Token header (double-submit), exactly
// as on jwtgate itself. As there, an
// empty Authorization header or another scheme (Basic, ...) counts as no
// token, so the cookie is tried next.
//
// Second factors: RequireMFA admits tokens whose login used one (acr
// "urn:jwtgate:mfa"), RequireAMR tokens whose amr has given RFC 8176
// methods ("otp" for an authenticator app, "hwk" or "swk" for a passkey):
//
//	mux.Handle("POST /payouts", g.RequireRole("admin", g.RequireMFA(payout)))
//
// Every handler refuses a token that jwtgate issued only to enrol a
// second factor (its mfa_enroll claim: the user's role requires a factor
// they have not set up) with 403 mfa_enrollment_required.
//
// Refusals are RFC 9457 problems with the same codes jwtgate uses:
// 401 token_missing, token_invalid or token_expired (with an RFC 6750
// WWW-Authenticate challenge), 403 forbidden, csrf_failed, mfa_required or
// mfa_enrollment_required, and 503 unavailable when no key could be
// loaded.
//
// The guard is stateless: it does not see revocations. A token revoked by
// a logout stays valid here until its exp (15 minutes by default). Where a
// logout must take effect at once, put the service behind a proxy that asks
// jwtgate's /auth/verify instead.
package guard
