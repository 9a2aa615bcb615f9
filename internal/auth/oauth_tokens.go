package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// IDClaims are the claims of an ID token (OpenID Connect Core sections 2
// and 5.1): iss, sub (the user id), aud (the client id), exp, iat,
// auth_time, nonce (when the request had one), sid, azp, at_hash (when
// issued with an access token), and with the profile scope name and
// preferred_username (both the username).
type IDClaims struct {
	jwt.Claims
	AuthTime          int64  `json:"auth_time,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	SessionID         string `json:"sid,omitempty"`
	AuthorizedParty   string `json:"azp,omitempty"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	AccessTokenHash   string `json:"at_hash,omitempty"`
	// Set by verification when the token carries client_id or role:
	// then it is an access token, not an ID token.
	ClientID string `json:"client_id,omitempty"`
	Role     string `json:"role,omitempty"`
	// AMR and ACR say how the user authenticated (see AMRPassword).
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
}

// IDTokenRequest says what an ID token is issued for.
type IDTokenRequest struct {
	User      *User
	ClientID  string
	SessionID string
	Scope     []string
	Nonce     string
	AuthTime  time.Time
	AMR       []string // the login's authentication methods
	// AccessToken, if not empty, is the access token issued with the ID
	// token: its at_hash lets the client check that the two belong
	// together.
	AccessToken string
}

// hintLeeway lets an expired ID token serve as id_token_hint (RP-initiated
// logout accepts those): its signature and issuer still count.
const hintLeeway = 100 * 365 * 24 * time.Hour

// OIDCIssuer returns the iss of ID tokens and client access tokens.
func (t *Tokens) OIDCIssuer() string { return t.oidcIss }

// oidcKey returns the signing key if it can sign ID tokens.
func (t *Tokens) oidcKey() (*jwt.Key, error) {
	k := t.keys.Load().sign
	if k.IsSymmetric() {
		return nil, ErrNoOIDCKey
	}
	return k, nil
}

// IssueClient signs an access token for user u issued to OAuth client
// clientID in session sid: aud, client_id and azp are clientID, scope the
// granted scopes; it has no name or role, so jwtgate's API refuses it
// (Verify). A symmetric signing key is ErrNoOIDCKey: resource servers
// verify client tokens with the published keys.
func (t *Tokens) IssueClient(u *User, sid, clientID string, scope []string) (string, AccessClaims, error) {
	return t.IssueClientAMR(u, sid, clientID, scope, nil)
}

// IssueClientAMR is IssueClient with the amr claim (and acr when it has
// a second factor) of the session's login.
func (t *Tokens) IssueClientAMR(u *User, sid, clientID string, scope, amr []string) (string, AccessClaims, error) {
	key, err := t.oidcKey()
	if err != nil {
		return "", AccessClaims{}, err
	}
	now := t.now()
	claims := AccessClaims{
		Claims: jwt.Claims{
			Issuer:    t.oidcIss,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  jwt.Audience{clientID},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomID(16),
		},
		SessionID:       sid,
		ClientID:        clientID,
		AuthorizedParty: clientID,
		Scope:           strings.Join(scope, " "),
		AMR:             amr,
		ACR:             ACRFor(amr),
	}
	token, err := jwt.Sign(key, &claims)
	return token, claims, err
}

// IssueIDToken signs an ID token for r with the current signing key,
// which must be asymmetric (else ErrNoOIDCKey). It lives as long as an
// access token.
func (t *Tokens) IssueIDToken(r IDTokenRequest) (string, IDClaims, error) {
	key, err := t.oidcKey()
	if err != nil {
		return "", IDClaims{}, err
	}
	now := t.now()
	c := IDClaims{
		Claims: jwt.Claims{
			Issuer:    t.oidcIss,
			Subject:   strconv.FormatInt(r.User.ID, 10),
			Audience:  jwt.Audience{r.ClientID},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		Nonce:           r.Nonce,
		SessionID:       r.SessionID,
		AuthorizedParty: r.ClientID,
		AMR:             r.AMR,
		ACR:             ACRFor(r.AMR),
	}
	if !r.AuthTime.IsZero() {
		c.AuthTime = r.AuthTime.Unix()
	}
	if hasString(r.Scope, ScopeProfile) {
		c.Name, c.PreferredUsername = r.User.Name, r.User.Name
	}
	if r.AccessToken != "" {
		c.AccessTokenHash = tokenHash(key.Algorithm(), r.AccessToken)
	}
	token, err := jwt.Sign(key, &c)
	return token, c, err
}

// tokenHash is OpenID Connect's at_hash of token (Core section 3.1.3.6):
// base64url of the left half of its hash under the hash function of the
// ID token's algorithm; SHA-512 for EdDSA, the hash Ed25519 uses.
func tokenHash(alg jwt.Algorithm, token string) string {
	var sum []byte
	switch alg {
	case jwt.RS384, jwt.PS384, jwt.ES384:
		h := sha512.Sum384([]byte(token))
		sum = h[:]
	case jwt.RS512, jwt.PS512, jwt.ES512, jwt.EdDSA:
		h := sha512.Sum512([]byte(token))
		sum = h[:]
	default:
		h := sha256.Sum256([]byte(token))
		sum = h[:]
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// VerifyClient checks an access token issued to an OAuth client (for
// userinfo and introspection): signature, the OIDC issuer, expiry,
// revocation, and a client_id claim; any audience. Tokens of jwtgate's own
// logins fail with jwt.ErrAudience.
func (t *Tokens) VerifyClient(token string) (*Principal, error) {
	ks := t.keys.Load()
	p := &Principal{}
	if err := ks.client.Verify(token, &p.Claims); err != nil {
		fn := t.unknown.Load()
		if fn == nil || !errors.Is(err, jwt.ErrKeyNotFound) {
			return nil, err
		}
		(*fn)()
		if next := t.keys.Load(); next != ks {
			err = next.client.Verify(token, &p.Claims)
		}
		if err != nil {
			return nil, err
		}
	}
	if p.Claims.ClientID == "" {
		return nil, fmt.Errorf("%w: not a token issued to an OAuth client", jwt.ErrAudience)
	}
	id, err := strconv.ParseInt(p.Claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%w: sub is not a user id", jwt.ErrMalformed)
	}
	p.UserID = id
	return t.checkRevoked(p)
}

// VerifyIDTokenHint checks an ID token this server issued, expired or
// not (RP-initiated logout's id_token_hint): signature, the OIDC issuer,
// one audience (the client), and that it is no access token.
func (t *Tokens) VerifyIDTokenHint(token string) (*IDClaims, error) {
	var c IDClaims
	if err := t.keys.Load().hint.Verify(token, &c); err != nil {
		return nil, err
	}
	if c.ClientID != "" || c.Role != "" || len(c.Audience) != 1 {
		return nil, fmt.Errorf("%w: not an ID token", jwt.ErrMalformed)
	}
	return &c, nil
}
