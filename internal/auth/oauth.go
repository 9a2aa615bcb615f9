package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	AMR       []string  // the browser session's (AuthRequest.AMR)
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
	// AMR is how the browser session's user authenticated (its token's
	// amr), carried to the client's tokens.
	AMR []string
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

// Limits of client registration.
const (
	MaxClientNameLen  = 100
	MaxRedirectURIs   = 20
	MaxRedirectURILen = 2000
	clientSecretBytes = 32
	clientIDBytes     = 16 // 22 characters of base64url
	codeBytes         = 32 // 43 characters of base64url
	maxNonceLen       = 512
	pkceChallengeLen  = 43 // base64url of a SHA-256
	minVerifierLen    = 43 // RFC 7636 section 4.1
	maxVerifierLen    = 128
)

// clients returns the store's ClientStore.
func (s *Service) clients() (ClientStore, error) {
	cs, ok := s.Store.(ClientStore)
	if !ok {
		return nil, fmt.Errorf("%w: this store keeps no OAuth clients", ErrUnavailable)
	}
	return cs, nil
}

// RegisterClient validates spec and stores a new client. A confidential
// client's secret is returned here only; it is stored as a SHA-256.
// Redirect URIs must be absolute, without fragment, user info or
// wildcard: https, http on a loopback host (127.0.0.1, [::1], localhost),
// or a private-use scheme with a dot (com.example.app:/cb, RFC 8252).
// A public client needs at least one redirect URI like any other. This
// and the other changes of clients name the context's actor
// (WithAuditInfo) in their audit events.
func (s *Service) RegisterClient(ctx context.Context, spec ClientSpec) (c *Client, secret string, err error) {
	cs, err := s.clients()
	if err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(spec.Name)
	if name == "" || len(name) > MaxClientNameLen || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return nil, "", invalid("client name must be 1 to %d bytes of text", MaxClientNameLen)
	}
	if len(spec.RedirectURIs) == 0 {
		return nil, "", invalid("a client needs at least one redirect URI")
	}
	redirects, err := validRedirectURIs(spec.RedirectURIs, "redirect URI")
	if err != nil {
		return nil, "", err
	}
	logouts, err := validRedirectURIs(spec.PostLogoutRedirectURIs, "post-logout redirect URI")
	if err != nil {
		return nil, "", err
	}
	c = &Client{ID: randomID(clientIDBytes), Name: name, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts}
	if !spec.Public {
		secret = randomID(clientSecretBytes)
		c.SecretHash = hashSecret(secret)
	}
	if err := cs.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	s.audit(ctx, AuditEvent{Kind: AuditClientRegister, Actor: auditInfo(ctx).Actor, ClientID: c.ID, Reason: fmt.Sprintf("name=%q public=%t", c.Name, spec.Public)})
	return c, secret, nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// validRedirectURIs checks each of uris (ValidateRedirectURI) and drops
// duplicates.
func validRedirectURIs(uris []string, what string) ([]string, error) {
	if len(uris) > MaxRedirectURIs {
		return nil, invalid("at most %d %ss", MaxRedirectURIs, what)
	}
	var out []string
	for _, u := range uris {
		if err := ValidateRedirectURI(u); err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, u, err)
		}
		if !hasString(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// ValidateRedirectURI checks a redirect URI a client registers: absolute,
// at most MaxRedirectURILen bytes of printable ASCII, no fragment, no user
// info, no wildcard; https with a host, http only on a loopback host, or
// a private-use scheme containing a dot (RFC 8252 section 7.1). Later
// requests must give it byte for byte.
func ValidateRedirectURI(raw string) error {
	if raw == "" || len(raw) > MaxRedirectURILen {
		return invalid("a redirect URI has 1 to %d bytes", MaxRedirectURILen)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] >= 0x7f {
			return invalid("a redirect URI is printable ASCII without spaces (percent-encode the rest)")
		}
	}
	if strings.ContainsAny(raw, "#*") {
		return invalid("a redirect URI has no fragment and no wildcard")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return invalid("a redirect URI is absolute")
	}
	if u.User != nil {
		return invalid("a redirect URI has no user info")
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "https":
		if u.Hostname() == "" {
			return invalid("an https redirect URI has a host")
		}
	case "http":
		if !loopbackHost(u.Hostname()) {
			return invalid("plain http is allowed only on a loopback host (127.0.0.1, [::1], localhost); use https")
		}
	case "javascript", "data", "file", "vbscript", "blob", "about":
		return invalid("a redirect URI cannot use the %s scheme", scheme)
	default:
		if !strings.Contains(scheme, ".") {
			return invalid("a private-use scheme is a reversed domain name, such as com.example.app")
		}
	}
	return nil
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// RotateClientSecret gives a client a new secret and returns it. The old
// one stops working at once; a public client becomes confidential.
func (s *Service) RotateClientSecret(ctx context.Context, id string) (string, error) {
	cs, err := s.clients()
	if err != nil {
		return "", err
	}
	secret := randomID(clientSecretBytes)
	if _, err := cs.SetClientSecret(ctx, id, hashSecret(secret)); err != nil {
		return "", err
	}
	s.audit(ctx, AuditEvent{Kind: AuditClientSecret, Actor: auditInfo(ctx).Actor, ClientID: id})
	return secret, nil
}

// Clients returns every registered client.
func (s *Service) Clients(ctx context.Context) ([]*Client, error) {
	cs, err := s.clients()
	if err != nil {
		return nil, err
	}
	return cs.ListClients(ctx)
}

// Client returns one client, or ErrNotFound.
func (s *Service) Client(ctx context.Context, id string) (*Client, error) {
	cs, err := s.clients()
	if err != nil {
		return nil, err
	}
	return cs.Client(ctx, id)
}

// DeleteClient removes a client and its codes, and ends its sessions:
// their refresh tokens stop working and their access tokens are refused.
func (s *Service) DeleteClient(ctx context.Context, id string) error {
	cs, err := s.clients()
	if err != nil {
		return err
	}
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return err
	}
	if err := cs.DeleteClient(ctx, id, end); err != nil {
		return err
	}
	s.audit(ctx, AuditEvent{Kind: AuditClientDelete, Actor: auditInfo(ctx).Actor, ClientID: id})
	if err := s.SyncRevocations(ctx); err != nil {
		s.log().Warn("revocations not loaded yet; the poller retries", "err", err)
	}
	return nil
}

// dummySecretHash is compared against when the client is unknown, so that
// the answer takes as long as for a wrong secret.
var dummySecretHash = hashSecret("no such client")

// AuthenticateClient checks a client's credentials: the secret of a
// confidential client, or no secret for a public one. Any mismatch, an
// unknown id included, is ErrClientAuth; secrets are compared in constant
// time.
func (s *Service) AuthenticateClient(ctx context.Context, id, secret string) (*Client, error) {
	cs, err := s.clients()
	if err != nil {
		return nil, err
	}
	if id == "" || len(id) > 100 || len(secret) > 200 {
		return nil, ErrClientAuth
	}
	c, err := cs.Client(ctx, id)
	if errors.Is(err, ErrNotFound) {
		subtle.ConstantTimeCompare(dummySecretHash, hashSecret(secret))
		return nil, ErrClientAuth
	}
	if err != nil {
		return nil, err
	}
	if c.Public() {
		if secret != "" {
			return nil, fmt.Errorf("%w: a public client has no secret", ErrClientAuth)
		}
		return c, nil
	}
	if subtle.ConstantTimeCompare(c.SecretHash, hashSecret(secret)) != 1 {
		return nil, ErrClientAuth
	}
	return c, nil
}

// GrantedScope returns the scopes of requested that the provider
// understands (openid, profile, offline_access), once each, in that order.
func GrantedScope(requested []string) []string {
	var out []string
	for _, s := range []string{ScopeOpenID, ScopeProfile, ScopeOfflineAccess} {
		if hasString(requested, s) {
			out = append(out, s)
		}
	}
	return out
}

// IssueAuthCode returns an authorization code for the user p (the browser
// session's principal) and the request r. It checks what the authorize
// endpoint must have checked too: the client exists, r.RedirectURI is one
// of its own, scope has openid, and PKCE: S256 only ("plain" is
// ErrInvalid), required for public clients and, unless PKCEOptional, for
// all. The code is single use, valid for AuthCodeTTL.
func (s *Service) IssueAuthCode(ctx context.Context, p *Principal, r AuthRequest) (string, error) {
	cs, err := s.clients()
	if err != nil {
		return "", err
	}
	if p == nil || p.UserID <= 0 {
		return "", invalid("no user is logged in")
	}
	if p.Claims.MFAEnroll {
		return "", ErrMFAEnrollment
	}
	c, err := cs.Client(ctx, r.ClientID)
	if err != nil {
		return "", err
	}
	if !c.HasRedirectURI(r.RedirectURI) {
		return "", invalid("redirect_uri is not registered for this client")
	}
	scope := GrantedScope(r.Scope)
	if !hasString(scope, ScopeOpenID) {
		return "", invalid("scope must contain openid")
	}
	if len(r.Nonce) > maxNonceLen {
		return "", invalid("nonce is at most %d bytes", maxNonceLen)
	}
	switch {
	case r.CodeChallenge == "" && r.CodeChallengeMethod == "":
		if c.Public() || !s.PKCEOptional {
			return "", invalid("code_challenge (PKCE, method S256) is required")
		}
	case r.CodeChallengeMethod != "S256":
		return "", invalid("code_challenge_method must be S256")
	case !validChallenge(r.CodeChallenge):
		return "", invalid("code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	now := s.now()
	authTime := r.AuthTime
	if authTime.IsZero() || authTime.After(now) {
		authTime = now
	}
	code := randomID(codeBytes)
	ac := &AuthCode{
		Hash: hashRefreshToken(code), ClientID: c.ID, UserID: p.UserID, RedirectURI: r.RedirectURI, Scope: scope,
		Nonce: r.Nonce, CodeChallenge: r.CodeChallenge, AuthTime: authTime, SessionID: codeSessionID(code),
		ExpiresAt: now.Add(AuthCodeTTL), AMR: r.AMR,
	}
	if err := cs.CreateAuthCode(ctx, ac); err != nil {
		return "", err
	}
	return code, nil
}

// codeSessionID is the id of the session a code's redemption starts.
func codeSessionID(code string) string {
	h := sha256.Sum256([]byte("sid:" + code))
	return base64.RawURLEncoding.EncodeToString(h[:])[:22]
}

func validChallenge(c string) bool {
	if len(c) != pkceChallengeLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

// validVerifier reports whether v is a PKCE code verifier: 43 to 128
// unreserved characters (RFC 7636 section 4.1).
func validVerifier(v string) bool {
	if len(v) < minVerifierLen || len(v) > maxVerifierLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !('A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-' || b == '.' || b == '_' || b == '~') {
			return false
		}
	}
	return true
}

// PKCEChallenge returns the S256 code challenge of a verifier:
// base64url(SHA-256(verifier)), RFC 7636 section 4.2.
func PKCEChallenge(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func invalidGrant(why string) error { return fmt.Errorf("%w: %s", ErrInvalidGrant, why) }

// ExchangeAuthCode redeems a code for client c (already authenticated):
// it must be c's, unexpired, unused, issued for redirectURI, and verifier
// must match its PKCE challenge (a verifier without a challenge is
// refused too). The grant has an access token for c, an ID token, the
// granted scope and, with offline_access, a refresh token. Every refusal
// is ErrInvalidGrant; a code redeemed twice also revokes the session the
// first redemption started (RFC 6749 section 4.1.2).
func (s *Service) ExchangeAuthCode(ctx context.Context, c *Client, code, redirectURI, verifier string) (*Grant, error) {
	cs, err := s.clients()
	if err != nil {
		return nil, err
	}
	if _, err := s.Tokens.oidcKey(); err != nil {
		return nil, err
	}
	if len(code) != refreshTokenLen {
		return nil, invalidGrant("unknown code")
	}
	hash := hashRefreshToken(code)
	ac, err := cs.AuthCode(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, invalidGrant("unknown code")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case ac.ClientID != c.ID:
		return nil, invalidGrant("the code was issued to another client")
	case !ac.UsedAt.IsZero():
		return nil, s.codeReused(ctx, ac, now)
	case !now.Before(ac.ExpiresAt):
		return nil, invalidGrant("the code expired")
	case ac.RedirectURI != redirectURI:
		return nil, invalidGrant("redirect_uri differs from the authorization request's")
	case ac.CodeChallenge == "" && verifier != "":
		return nil, invalidGrant("code_verifier without a code_challenge")
	case ac.CodeChallenge != "" && !validVerifier(verifier):
		return nil, invalidGrant("code_verifier is missing or malformed")
	case ac.CodeChallenge != "" && subtle.ConstantTimeCompare([]byte(PKCEChallenge(verifier)), []byte(ac.CodeChallenge)) != 1:
		return nil, invalidGrant("code_verifier does not match the code_challenge")
	}
	u, err := s.Store.UserByID(ctx, ac.UserID)
	if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
		return nil, invalidGrant("the user is gone or disabled")
	}
	if err != nil {
		return nil, err
	}
	if err := s.coverIssue(ctx, now); err != nil {
		return nil, err
	}
	sess := &Session{ID: ac.SessionID, UserID: u.ID, UserVersion: u.Version, CreatedAt: now,
		ClientID: c.ID, Scope: ac.Scope, AuthTime: ac.AuthTime, AMR: ac.AMR}
	var rt *RefreshToken
	var refresh string
	if hasString(ac.Scope, ScopeOfflineAccess) {
		sess.ExpiresAt = now.Add(s.sessionTTL())
		var rtHash []byte
		refresh, rtHash = newRefreshToken()
		rt = &RefreshToken{Hash: rtHash, SessionID: sess.ID, ExpiresAt: minTime(now.Add(s.refreshTTL()), sess.ExpiresAt)}
	} else {
		// Without a refresh token the session only names the tokens
		// issued now, for logout and revocation.
		sess.ExpiresAt = now.Add(s.ownTokenAge() + time.Second)
	}
	g, err := s.clientGrant(u, sess, ac.Nonce, refresh, rt)
	if err != nil {
		return nil, err
	}
	if err := cs.RedeemAuthCode(ctx, hash, now, sess, rt); err != nil {
		switch {
		case errors.Is(err, ErrConflict):
			return nil, s.codeReused(ctx, ac, now)
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrStale):
			return nil, invalidGrant("the code, its client or its user changed")
		}
		return nil, err
	}
	return g, nil
}

// clientGrant signs the access and ID tokens of a client session.
func (s *Service) clientGrant(u *User, sess *Session, nonce, refresh string, rt *RefreshToken) (*Grant, error) {
	at, claims, err := s.Tokens.IssueClientAMR(u, sess.ID, sess.ClientID, sess.Scope, sess.AMR)
	if err != nil {
		return nil, err
	}
	id, _, err := s.Tokens.IssueIDToken(IDTokenRequest{User: u, ClientID: sess.ClientID, SessionID: sess.ID, Scope: sess.Scope,
		Nonce: nonce, AuthTime: sess.AuthTime, AMR: sess.AMR, AccessToken: at})
	if err != nil {
		return nil, err
	}
	g := &Grant{User: u, SessionID: sess.ID, AccessToken: at, Claims: claims, RefreshToken: refresh,
		ClientID: sess.ClientID, Scope: sess.Scope, IDToken: id}
	if rt != nil {
		g.RefreshExpiresAt = rt.ExpiresAt
	}
	return g, nil
}

// codeReused revokes the session a code's first redemption started.
func (s *Service) codeReused(ctx context.Context, ac *AuthCode, now time.Time) error {
	s.log().Warn("authorization code reused: its session revoked", "client_id", ac.ClientID, "user_id", ac.UserID, "session", ac.SessionID)
	s.audit(ctx, AuditEvent{Kind: AuditCodeReuse, UserID: ac.UserID, SessionID: ac.SessionID, ClientID: ac.ClientID})
	if err := s.revoke(ctx, Revoke{SessionID: ac.SessionID}, now); err != nil {
		return err
	}
	return invalidGrant("the code was already used; the tokens issued for it are revoked")
}

// RefreshClient rotates a refresh token that client c received, as
// Refresh does for jwtgate's own sessions (reuse revokes the session),
// and returns a new access token and ID token. A token of another client
// or of jwtgate's own logins is ErrInvalidGrant and changes nothing.
func (s *Service) RefreshClient(ctx context.Context, c *Client, refreshToken string) (*Grant, error) {
	if _, err := s.Tokens.oidcKey(); err != nil {
		return nil, err
	}
	g, err := s.rotate(ctx, refreshToken, c.ID, func(u *User, sess *Session, next string, exp time.Time) (*Grant, error) {
		return s.clientGrant(u, sess, "", next, &RefreshToken{ExpiresAt: exp})
	})
	if errors.Is(err, ErrRefreshInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGrant, err)
	}
	return g, err
}

// RevokeToken revokes a refresh token of c (ending its session) or an
// access token of c (its jti), RFC 7009. Tokens that are unknown, invalid
// or another client's change nothing and are no error.
func (s *Service) RevokeToken(ctx context.Context, c *Client, token string) error {
	if len(token) == refreshTokenLen {
		rt, sess, err := s.Store.RefreshToken(ctx, hashRefreshToken(token))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if sess.ClientID != c.ID || !sess.RevokedAt.IsZero() || !s.now().Before(rt.ExpiresAt) {
			return nil
		}
		return s.revoke(ctx, Revoke{SessionID: sess.ID}, s.now())
	}
	p, err := s.Tokens.VerifyClient(token)
	if err != nil || p.Claims.ClientID != c.ID {
		return nil
	}
	return s.revoke(ctx, Revoke{TokenIDs: []string{p.Claims.ID}}, s.now())
}

// Introspect tells client c about a token (RFC 7662): an access token or
// refresh token issued to c that is still valid is active; anything else,
// another client's tokens included, is inactive.
func (s *Service) Introspect(ctx context.Context, c *Client, token string) (*Introspection, error) {
	if len(token) == refreshTokenLen {
		rt, sess, err := s.Store.RefreshToken(ctx, hashRefreshToken(token))
		if errors.Is(err, ErrNotFound) {
			return &Introspection{}, nil
		}
		if err != nil {
			return nil, err
		}
		now := s.now()
		if sess.ClientID != c.ID || !rt.UsedAt.IsZero() || !sess.RevokedAt.IsZero() || !now.Before(rt.ExpiresAt) ||
			!now.Before(sess.ExpiresAt) || sess.User == nil || sess.User.Disabled {
			return &Introspection{}, nil
		}
		return &Introspection{Active: true, TokenType: "refresh_token", Scope: sess.Scope, ClientID: sess.ClientID,
			Username: sess.User.Name, Subject: strconv.FormatInt(sess.UserID, 10), Issuer: s.Tokens.OIDCIssuer(),
			ExpiresAt: rt.ExpiresAt}, nil
	}
	p, err := s.Tokens.VerifyClient(token)
	if err != nil || p.Claims.ClientID != c.ID {
		return &Introspection{}, nil
	}
	in := &Introspection{Active: true, TokenType: "access_token", Scope: splitScope(p.Claims.Scope), ClientID: p.Claims.ClientID,
		Subject: p.Claims.Subject, Audience: p.Claims.Audience, Issuer: p.Claims.Issuer, TokenID: p.Claims.ID,
		ExpiresAt: p.Claims.ExpiresAt.Time, IssuedAt: p.Claims.IssuedAt.Time}
	if u, err := s.Store.UserByID(ctx, p.UserID); err == nil {
		in.Username = u.Name
	}
	return in, nil
}

func splitScope(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
