package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jwtgate/jwtgate/jwt"
)

// ErrRevoked means a token's id (jti) or session (sid) was revoked by a
// logout, a password or role change, or refresh-token reuse.
var ErrRevoked = errors.New("token revoked")

// AccessClaims are the claims of a jwtgate access token: sub (the user id
// as a string), name, role, sid (the session, absent on tokens not made by
// a login), auth_time (when the session's user entered the password), iss,
// aud, iat, exp, jti. They encode and decode without
// reflection (jwt.ClaimAppender, jwt.ClaimDecoder).
//
// An access token issued to an OAuth client also carries client_id, azp
// (both the client's id) and scope (space-separated), its aud is the
// client's id, and it has no name or role.
type AccessClaims struct {
	jwt.Claims
	Name            string `json:"name"`
	Role            Role   `json:"role"`
	SessionID       string `json:"sid,omitempty"`
	AuthTime        int64  `json:"auth_time,omitempty"` // Unix seconds
	ClientID        string `json:"client_id,omitempty"`
	AuthorizedParty string `json:"azp,omitempty"`
	Scope           string `json:"scope,omitempty"`
	// AMR and ACR say how the user authenticated (RFC 8176 values, see
	// AMRPassword; ACRMFA with a second factor).
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
	// MFAEnroll marks a token that may only enrol a second factor: its
	// user's role requires one they do not have yet.
	MFAEnroll bool `json:"mfa_enroll,omitempty"`
}

// DecodeClaim implements jwt.ClaimDecoder.
func (c *AccessClaims) DecodeClaim(name string, v jwt.Value) error {
	var err error
	switch name {
	case "name":
		c.Name, err = v.String()
	case "role":
		var s string
		s, err = v.String()
		c.Role = Role(s)
	case "sid":
		c.SessionID, err = v.String()
	case "auth_time":
		c.AuthTime, err = v.Int64()
	case "client_id":
		c.ClientID, err = v.String()
	case "azp":
		c.AuthorizedParty, err = v.String()
	case "scope":
		c.Scope, err = v.String()
	case "amr":
		err = v.Decode(&c.AMR)
	case "acr":
		c.ACR, err = v.String()
	case "mfa_enroll":
		c.MFAEnroll, err = v.Bool()
	}
	return err
}

// AppendJSON implements jwt.ClaimAppender.
func (c *AccessClaims) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst, comma := c.Claims.AppendMembers(dst, false)
	if c.ClientID == "" {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"name":`...)
		dst = jwt.AppendJSONString(dst, c.Name)
		dst = append(dst, `,"role":`...)
		dst = jwt.AppendJSONString(dst, string(c.Role))
		comma = true
	}
	dst = appendMember(dst, &comma, "sid", c.SessionID)
	if c.AuthTime != 0 {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"auth_time":`...)
		dst = strconv.AppendInt(dst, c.AuthTime, 10)
		comma = true
	}
	dst = appendMember(dst, &comma, "client_id", c.ClientID)
	dst = appendMember(dst, &comma, "azp", c.AuthorizedParty)
	dst = appendMember(dst, &comma, "scope", c.Scope)
	if len(c.AMR) > 0 {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"amr":[`...)
		for i, a := range c.AMR {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jwt.AppendJSONString(dst, a)
		}
		dst = append(dst, ']')
		comma = true
	}
	dst = appendMember(dst, &comma, "acr", c.ACR)
	if c.MFAEnroll {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"mfa_enroll":true`...)
	}
	return append(dst, '}')
}

// appendMember appends "name":"v" unless v is empty, after a comma if
// *comma, and sets *comma.
func appendMember(dst []byte, comma *bool, name, v string) []byte {
	if v == "" {
		return dst
	}
	if *comma {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	*comma = true
	return jwt.AppendJSONString(dst, v)
}

// Principal is who a verified token says the caller is. Principals returned
// by Tokens.Verify may be shared between requests: treat them as read-only.
type Principal struct {
	UserID int64
	Name   string
	Role   Role
	Claims AccessClaims
}

// Tokens issues and verifies access tokens. Its keys can be replaced while
// it is in use (SetKeys), which is how key rotation reaches a running
// server.
type Tokens struct {
	keys     atomic.Pointer[keyState]
	opts     []jwt.Option
	base     []jwt.Option // clock and leeway, no issuer or audience
	issuer   string
	audience string
	oidcIss  string
	ttl      time.Duration
	leeway   time.Duration
	now      func() time.Time
	cache    verifiedCache
	revoked  Revocations
	unknown  atomic.Pointer[func()]
}

// OnUnknownKey registers fn to be called when a token names a kid this
// Tokens does not hold: another instance may have rotated the keys. fn may
// block briefly while it reloads them (SetKeys); if the keys changed by the
// time it returns, the token is verified again with the new ones, so the
// first token signed with another instance's new key is already accepted.
func (t *Tokens) OnUnknownKey(fn func()) { t.unknown.Store(&fn) }

// keyState is one generation of keys; cache entries remember the
// generation they were verified under, so replacing the keys drops them.
type keyState struct {
	sign     *jwt.Key
	verify   []*jwt.Key
	verifier *jwt.Verifier
	// client verifies tokens issued to OAuth clients: the OIDC issuer,
	// any audience; hint verifies ID tokens given back as
	// id_token_hint, expired or not.
	client, hint *jwt.Verifier
}

// TokenConfig configures Tokens.
type TokenConfig struct {
	SigningKey *jwt.Key
	VerifyKeys []*jwt.Key // defaults to the signing key
	Issuer     string
	Audience   string
	// OIDCIssuer is the iss of ID tokens and of access tokens issued to
	// OAuth clients: the provider's public URL. Defaults to Issuer.
	OIDCIssuer string
	TTL        time.Duration
	Leeway     time.Duration
	Now        func() time.Time
}

// NewTokens checks the configuration and prepares a verifier.
func NewTokens(c TokenConfig) (*Tokens, error) {
	if c.TTL <= 0 {
		return nil, fmt.Errorf("%w: token lifetime must be positive", ErrInvalid)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OIDCIssuer == "" {
		c.OIDCIssuer = c.Issuer
	}
	base := []jwt.Option{jwt.WithLeeway(c.Leeway), jwt.WithClock(c.Now)}
	opts := append([]jwt.Option(nil), base...)
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	t := &Tokens{opts: opts, base: base, oidcIss: c.OIDCIssuer, issuer: c.Issuer, audience: c.Audience, ttl: c.TTL, leeway: c.Leeway, now: c.Now}
	t.cache.seed = maphash.MakeSeed()
	if err := t.SetKeys(c.SigningKey, c.VerifyKeys); err != nil {
		return nil, err
	}
	return t, nil
}

// SetKeys replaces the signing key and the keys tokens are verified with
// (the signing key is always among them). Tokens verified under the old
// keys are verified again on their next use.
func (t *Tokens) SetKeys(sign *jwt.Key, verify []*jwt.Key) error {
	if sign == nil || !sign.CanSign() {
		return fmt.Errorf("%w: a signing key is required", ErrInvalid)
	}
	keys := []*jwt.Key{sign}
	for _, k := range verify {
		if k != nil && k != sign && (k.KeyID() == "" || k.KeyID() != sign.KeyID()) {
			keys = append(keys, k)
		}
	}
	v, err := jwt.NewVerifier(keys, t.opts...)
	if err != nil {
		return err
	}
	ks := &keyState{sign: sign, verify: keys, verifier: v}
	clientOpts := append(t.base[:len(t.base):len(t.base)], jwt.WithIssuer(t.oidcIss))
	if ks.client, err = jwt.NewVerifier(keys, clientOpts...); err != nil {
		return err
	}
	if ks.hint, err = jwt.NewVerifier(keys, append(clientOpts, jwt.WithLeeway(hintLeeway))...); err != nil {
		return err
	}
	t.keys.Store(ks)
	return nil
}

// SigningKey returns the key new tokens are signed with.
func (t *Tokens) SigningKey() *jwt.Key { return t.keys.Load().sign }

// VerifyKeys returns every key a token may be verified with, the signing
// key first.
func (t *Tokens) VerifyKeys() []*jwt.Key { return t.keys.Load().verify }

// TTL returns the access-token lifetime.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Leeway returns the clock-skew allowance of verification.
func (t *Tokens) Leeway() time.Duration { return t.leeway }

// Issuer returns the iss claim of issued tokens.
func (t *Tokens) Issuer() string { return t.issuer }

// Revocations returns the set of revoked token and session ids that Verify
// consults.
func (t *Tokens) Revocations() *Revocations { return &t.revoked }

// Issue signs an access token for u, in session sid ("" for none).
func (t *Tokens) Issue(u *User, sid string) (token string, claims AccessClaims, err error) {
	return t.IssueAuth(u, sid, time.Time{})
}

// IssueAuth is Issue with the auth_time claim: when the user of session
// sid entered the password (omitted when zero). The OpenID provider reads
// it from the browser's token to answer max_age and to put auth_time in
// ID tokens.
func (t *Tokens) IssueAuth(u *User, sid string, authTime time.Time) (token string, claims AccessClaims, err error) {
	return t.IssueSession(u, sid, authTime, nil, false)
}

// IssueSession is IssueAuth with how the user authenticated: the amr
// claim, and acr when amr has a second factor; enroll marks a token that
// may only enrol a second factor (AccessClaims.MFAEnroll).
func (t *Tokens) IssueSession(u *User, sid string, authTime time.Time, amr []string, enroll bool) (token string, claims AccessClaims, err error) {
	now := t.now()
	claims = AccessClaims{
		Claims: jwt.Claims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomID(16),
		},
		Name:      u.Name,
		Role:      u.Role,
		SessionID: sid,
		AMR:       amr,
		ACR:       ACRFor(amr),
		MFAEnroll: enroll,
	}
	if !authTime.IsZero() {
		claims.AuthTime = authTime.Unix()
	}
	if t.audience != "" {
		claims.Audience = jwt.Audience{t.audience}
	}
	token, err = jwt.Sign(t.keys.Load().sign, &claims)
	return token, claims, err
}

// Verify checks a token and returns its principal. Errors wrap the jwt
// package's sentinels (jwt.ErrExpired, jwt.ErrSignature, ...) or
// ErrRevoked.
//
// A token verified once is remembered (bounded, per key generation) so
// that a client calling again with the same token costs a hash lookup and
// a constant-time comparison instead of a signature check and a parse;
// expiry and revocation are checked on every call.
func (t *Tokens) Verify(token string) (*Principal, error) {
	ks := t.keys.Load()
	now := t.now()
	slot := t.cache.slot(token)
	if e := slot.Load(); e != nil && e.keys == ks && e.matches(token) {
		if !now.Before(e.expires) {
			return nil, fmt.Errorf("%w at %s", jwt.ErrExpired, e.p.Claims.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if now.Before(e.notBefore) { // only if the clock went back
			return nil, jwt.ErrNotYetValid
		}
		return t.checkRevoked(e.p)
	}
	p := &Principal{}
	if err := ks.verifier.Verify(token, &p.Claims); err != nil {
		fn := t.unknown.Load()
		if fn == nil || !errors.Is(err, jwt.ErrKeyNotFound) {
			return nil, err
		}
		(*fn)()
		if next := t.keys.Load(); next != ks {
			ks = next
			err = ks.verifier.Verify(token, &p.Claims)
		}
		if err != nil {
			return nil, err
		}
	}
	// A token issued to an OAuth client is for that client's audience:
	// the server's own API takes it only if its aud names the server.
	if p.Claims.ClientID != "" && (t.audience == "" || !p.Claims.Audience.Contains(t.audience)) {
		return nil, fmt.Errorf("%w: a token issued to an OAuth client", jwt.ErrAudience)
	}
	id, err := strconv.ParseInt(p.Claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%w: sub is not a user id", jwt.ErrMalformed)
	}
	if _, err := ParseRole(string(p.Claims.Role)); err != nil {
		return nil, fmt.Errorf("%w: unknown role", jwt.ErrMalformed)
	}
	p.UserID, p.Name, p.Role = id, p.Claims.Name, p.Claims.Role
	if !p.Claims.ExpiresAt.IsZero() {
		e := &cacheEntry{token: token, sigAt: strings.LastIndexByte(token, '.') + 1, keys: ks, p: p, expires: p.Claims.ExpiresAt.Add(t.leeway)}
		for _, d := range []jwt.NumericDate{p.Claims.NotBefore, p.Claims.IssuedAt} {
			if !d.IsZero() && d.Add(-t.leeway).After(e.notBefore) {
				e.notBefore = d.Add(-t.leeway)
			}
		}
		slot.Store(e)
	}
	return t.checkRevoked(p)
}

func (t *Tokens) checkRevoked(p *Principal) (*Principal, error) {
	if t.revoked.Has(p.Claims.ID) || t.revoked.Has(p.Claims.SessionID) {
		return nil, ErrRevoked
	}
	return p, nil
}

// verifiedCache is a direct-mapped cache of verified tokens: fixed size,
// lock-free, a newer token simply replaces an older one in its slot. The
// slot comes from a per-process random hash seed and the stored token's
// signature is compared in constant time, so lookups reveal nothing secret
// about other callers' tokens.
type verifiedCache struct {
	seed  maphash.Seed
	slots [cacheSlots]atomic.Pointer[cacheEntry]
}

const cacheSlots = 4096 // ~2.5 MB at most with jwtgate-sized tokens

type cacheEntry struct {
	token     string
	sigAt     int // where the signature starts in token
	keys      *keyState
	p         *Principal
	expires   time.Time // exp + leeway
	notBefore time.Time // max(nbf, iat) - leeway
}

func (c *verifiedCache) slot(token string) *atomic.Pointer[cacheEntry] {
	return &c.slots[maphash.String(c.seed, token)%cacheSlots]
}

// matches compares the signature, the part of a token that makes it
// valid, in constant time. The signing input before it is header and
// claims that anyone holding the token can read, so a plain comparison
// (several times cheaper on a 380-byte token) reveals nothing secret.
func (e *cacheEntry) matches(token string) bool {
	if len(e.token) != len(token) || e.token[:e.sigAt] != token[:e.sigAt] {
		return false
	}
	return subtle.ConstantTimeCompare(bytesOf(e.token[e.sigAt:]), bytesOf(token[e.sigAt:])) == 1
}

// bytesOf views s as bytes without copying; the bytes are only read.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
