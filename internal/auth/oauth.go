package auth

import (
	"context"
	"errors"
	"time"
)

// Client is an application registered to log its users in through
// jwtgate (an OAuth 2.0 client, an OpenID Connect relying party).
type Client struct {
	ID   string // random, 22 characters of base64url
	Name string // shown on the login page: "NAME asks you to sign in"
	// SecretHash is the SHA-256 of the client secret; nil for a public
	// client (a native or single-page app, which cannot keep a secret).
	SecretHash []byte
	// RedirectURIs are matched exactly (RFC 9700 section 4.1).
	RedirectURIs []string
	// PostLogoutRedirectURIs are where RP-initiated logout may return to,
	// matched exactly.
	PostLogoutRedirectURIs []string
	CreatedAt, UpdatedAt   time.Time
}

// Public reports whether the client has no secret: it authenticates with
// PKCE alone.
func (c *Client) Public() bool { return len(c.SecretHash) == 0 }

// HasRedirectURI reports whether uri is one of the client's redirect URIs,
// compared as strings.
func (c *Client) HasRedirectURI(uri string) bool { return hasString(c.RedirectURIs, uri) }

// HasPostLogoutRedirectURI reports whether uri is one of the client's
// post-logout redirect URIs, compared as strings.
func (c *Client) HasPostLogoutRedirectURI(uri string) bool {
	return hasString(c.PostLogoutRedirectURIs, uri)
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ClientSpec is what an operator gives to register a client.
type ClientSpec struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool // no secret: PKCE only
}

// AuthCode is a stored authorization code. Only the SHA-256 of the code
// is kept. It is bound to the client, the redirect URI and the PKCE
// challenge it was issued for, and can be redeemed once, before
// ExpiresAt.
type AuthCode struct {
	Hash          []byte
	ClientID      string
	UserID        int64
	RedirectURI   string
	Scope         []string
	Nonce         string    // "" when the request had none
	CodeChallenge string    // base64url SHA-256 of the verifier (S256); "" without PKCE
	AuthTime      time.Time // when the user logged in (the browser session's auth_time)
	// SessionID is the id of the session its redemption creates, known
	// in advance so that a second redemption can revoke it.
	SessionID string
	ExpiresAt time.Time
	UsedAt    time.Time // zero until redeemed
}

// ClientStore keeps OAuth clients and authorization codes.
// Implementations return errors wrapping ErrNotFound, ErrConflict, ErrStale
// or ErrUnavailable, and never leave a half-done write. The sqlite and
// postgres stores implement it; the Service finds it on its Store.
type ClientStore interface {
	// CreateClient stores c and sets CreatedAt and UpdatedAt; an id that
	// exists is ErrConflict.
	CreateClient(ctx context.Context, c *Client) error
	// Client returns the client with this id, or ErrNotFound.
	Client(ctx context.Context, id string) (*Client, error)
	// ListClients returns every client, ordered by name then id.
	ListClients(ctx context.Context) ([]*Client, error)
	// SetClientSecret replaces the client's secret hash (nil makes it
	// public) and returns the client as stored, or ErrNotFound.
	SetClientSecret(ctx context.Context, id string, hash []byte) (*Client, error)
	// DeleteClient removes the client, its codes and its sessions,
	// recording end (if not nil) for the sessions first, in the same
	// transaction (end.ClientID is set to id). ErrNotFound if none.
	DeleteClient(ctx context.Context, id string, end *Revoke) error
	// CreateAuthCode stores c; ErrInvalid if its client or user does not
	// exist.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// AuthCode returns the code with this hash, used or not, or
	// ErrNotFound.
	AuthCode(ctx context.Context, hash []byte) (*AuthCode, error)
	// RedeemAuthCode marks the code used at usedAt and stores sess (with
	// sess.ClientID, Scope and AuthTime) and its first refresh token
	// (none if first is nil), in one transaction. Of concurrent
	// redemptions of one code exactly one succeeds; the others, and any
	// later one, fail with ErrConflict, storing nothing. An unknown code is
	// ErrNotFound; a user whose Version is no longer sess.UserVersion is
	// ErrStale, and the code stays unused.
	RedeemAuthCode(ctx context.Context, hash []byte, usedAt time.Time, sess *Session, first *RefreshToken) error
}

// AuthRequest is a validated authorization request (OpenID Connect Core
// section 3.1.2.1) for which the user is logged in.
type AuthRequest struct {
	ClientID    string
	RedirectURI string   // exactly one of the client's
	Scope       []string // must contain "openid"
	Nonce       string
	// CodeChallenge and CodeChallengeMethod are PKCE's (RFC 7636); only
	// S256 is accepted.
	CodeChallenge       string
	CodeChallengeMethod string
	// AuthTime is when the user last entered their password (the
	// browser session's start); zero means now.
	AuthTime time.Time
}

// Scopes understood by the provider. Others are ignored: the granted
// scope says which were granted (RFC 6749 section 3.3).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeOfflineAccess = "offline_access"
)

// AuthCodeTTL is how long an authorization code can be redeemed.
const AuthCodeTTL = 60 * time.Second

// Introspection is the answer of RFC 7662 about one token. An inactive
// token has only Active false.
type Introspection struct {
	Active    bool
	TokenType string // "access_token" or "refresh_token"
	Scope     []string
	ClientID  string
	Username  string
	Subject   string
	Audience  []string
	Issuer    string
	TokenID   string
	ExpiresAt time.Time
	IssuedAt  time.Time
}

var errNotImplemented = errors.New("auth: not implemented yet")

// RegisterClient validates spec and stores a new client. A confidential
// client's secret is returned here only; it is stored as a SHA-256.
// Redirect URIs must be absolute, without fragment, user info or
// wildcard: https, http on a loopback host (127.0.0.1, [::1], localhost),
// or a private-use scheme with a dot (com.example.app:/cb, RFC 8252).
func (s *Service) RegisterClient(ctx context.Context, spec ClientSpec) (c *Client, secret string, err error) {
	return nil, "", errNotImplemented
}

// RotateClientSecret gives a client a new secret and returns it. The old
// one stops working at once; a public client becomes confidential.
func (s *Service) RotateClientSecret(ctx context.Context, id string) (string, error) {
	return "", errNotImplemented
}

// Clients returns every registered client.
func (s *Service) Clients(ctx context.Context) ([]*Client, error) {
	return nil, errNotImplemented
}

// Client returns one client, or ErrNotFound.
func (s *Service) Client(ctx context.Context, id string) (*Client, error) {
	return nil, errNotImplemented
}

// DeleteClient removes a client and its codes, and ends its sessions:
// their refresh tokens stop working and their access tokens are refused.
func (s *Service) DeleteClient(ctx context.Context, id string) error {
	return errNotImplemented
}

// AuthenticateClient checks a client's credentials: the secret of a
// confidential client, or no secret for a public one. Any mismatch, an
// unknown id included, is ErrClientAuth; secrets are compared in constant
// time.
func (s *Service) AuthenticateClient(ctx context.Context, id, secret string) (*Client, error) {
	return nil, errNotImplemented
}

// IssueAuthCode returns an authorization code for the user p (the browser
// session's principal) and the request r. It checks what the authorize
// endpoint must have checked too: the client exists, r.RedirectURI is one
// of its own, scope has openid, and PKCE: S256 only ("plain" is
// ErrInvalid), required for public clients and, unless PKCEOptional, for
// all. The code is single use, valid for AuthCodeTTL.
func (s *Service) IssueAuthCode(ctx context.Context, p *Principal, r AuthRequest) (string, error) {
	return "", errNotImplemented
}

// ExchangeAuthCode redeems a code for client c (already authenticated):
// it must be c's, unexpired, unused, issued for redirectURI, and verifier
// must match its PKCE challenge (a verifier without a challenge is
// refused too). The grant has an access token for c, an ID token, the
// granted scope and, with offline_access, a refresh token. Every refusal
// is ErrInvalidGrant; a code redeemed twice also revokes the session the
// first redemption started (RFC 6749 section 4.1.2).
func (s *Service) ExchangeAuthCode(ctx context.Context, c *Client, code, redirectURI, verifier string) (*Grant, error) {
	return nil, errNotImplemented
}

// RefreshClient rotates a refresh token that client c received, as
// Refresh does for jwtgate's own sessions (reuse revokes the session),
// and returns a new access token and ID token. A token of another client
// or of jwtgate's own logins is ErrInvalidGrant and changes nothing.
func (s *Service) RefreshClient(ctx context.Context, c *Client, refreshToken string) (*Grant, error) {
	return nil, errNotImplemented
}

// RevokeToken revokes a refresh token of c (ending its session) or an
// access token of c (its jti), RFC 7009. Tokens that are unknown, invalid
// or another client's change nothing and are no error.
func (s *Service) RevokeToken(ctx context.Context, c *Client, token string) error {
	return errNotImplemented
}

// Introspect tells client c about a token (RFC 7662): an access token or
// refresh token issued to c that is still valid is active; anything else,
// another client's tokens included, is inactive.
func (s *Service) Introspect(ctx context.Context, c *Client, token string) (*Introspection, error) {
	return nil, errNotImplemented
}
