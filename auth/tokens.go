package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// AccessClaims are the claims of a jwtgate access token: sub (the user id
// as a string), name, role, iss, aud, iat, exp, jti. They encode and decode
// without reflection (jwt.ClaimAppender, jwt.ClaimDecoder).
type AccessClaims struct {
	jwt.Claims
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// DecodeClaim implements jwt.ClaimDecoder.
func (c *AccessClaims) DecodeClaim(name string, v jwt.Value) error {
	switch name {
	case "name":
		s, err := v.String()
		c.Name = s
		return err
	case "role":
		s, err := v.String()
		c.Role = Role(s)
		return err
	}
	return nil
}

// AppendJSON implements jwt.ClaimAppender.
func (c *AccessClaims) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst, comma := c.Claims.AppendMembers(dst, false)
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, `"name":`...)
	dst = jwt.AppendJSONString(dst, c.Name)
	dst = append(dst, `,"role":`...)
	dst = jwt.AppendJSONString(dst, string(c.Role))
	return append(dst, '}')
}

// Principal is who a verified token says the caller is.
type Principal struct {
	UserID int64
	Name   string
	Role   Role
	Claims AccessClaims
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	key      *jwt.Key
	verifier *jwt.Verifier
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// TokenConfig configures Tokens.
type TokenConfig struct {
	SigningKey *jwt.Key
	VerifyKeys []*jwt.Key // defaults to the signing key
	Issuer     string
	Audience   string
	TTL        time.Duration
	Leeway     time.Duration
	Now        func() time.Time
}

// NewTokens checks the configuration and prepares a verifier.
func NewTokens(c TokenConfig) (*Tokens, error) {
	if c.SigningKey == nil || !c.SigningKey.CanSign() {
		return nil, fmt.Errorf("%w: a signing key is required", ErrInvalid)
	}
	if c.TTL <= 0 {
		return nil, fmt.Errorf("%w: token lifetime must be positive", ErrInvalid)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	keys := c.VerifyKeys
	if len(keys) == 0 {
		keys = []*jwt.Key{c.SigningKey}
	}
	opts := []jwt.Option{jwt.WithLeeway(c.Leeway), jwt.WithClock(c.Now)}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	v, err := jwt.NewVerifier(keys, opts...)
	if err != nil {
		return nil, err
	}
	return &Tokens{key: c.SigningKey, verifier: v, issuer: c.Issuer, audience: c.Audience, ttl: c.TTL, now: c.Now}, nil
}

// TTL returns the access-token lifetime.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for u.
func (t *Tokens) Issue(u *User) (token string, claims AccessClaims, err error) {
	now := t.now()
	var jti [16]byte
	rand.Read(jti[:])
	claims = AccessClaims{
		Claims: jwt.Claims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		Name: u.Name,
		Role: u.Role,
	}
	if t.audience != "" {
		claims.Audience = jwt.Audience{t.audience}
	}
	token, err = jwt.Sign(t.key, &claims)
	return token, claims, err
}

// Verify checks a token and returns its principal. Errors wrap the jwt
// package's sentinels (jwt.ErrExpired, jwt.ErrSignature, ...).
func (t *Tokens) Verify(token string) (*Principal, error) {
	p := &Principal{}
	if err := t.verifier.Verify(token, &p.Claims); err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(p.Claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%w: sub is not a user id", jwt.ErrMalformed)
	}
	if _, err := ParseRole(string(p.Claims.Role)); err != nil {
		return nil, fmt.Errorf("%w: unknown role", jwt.ErrMalformed)
	}
	p.UserID, p.Name, p.Role = id, p.Claims.Name, p.Claims.Role
	return p, nil
}
