package auth_test

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// RFC 7636 appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestPKCEChallengeRFC7636(t *testing.T) {
	if got := auth.PKCEChallenge(rfcVerifier); got != rfcChallenge {
		t.Fatalf("PKCEChallenge = %s, want %s", got, rfcChallenge)
	}
}

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example:8443/oauth2/callback?x=1", true},
		{"http://127.0.0.1:8080/cb", true},
		{"http://[::1]/cb", true},
		{"http://localhost:3000/cb", true},
		{"com.example.app:/oauth2redirect", true},
		{"http://app.example/cb", false},            // plain http off loopback
		{"http://127.0.0.1.evil.example/cb", false}, // not a loopback host
		{"https://app.example/cb#frag", false},
		{"https://*.app.example/cb", false},
		{"https://user:pw@app.example/cb", false},
		{"https://app.example@evil.example/cb", false},
		{"/relative/cb", false},
		{"//app.example/cb", false},
		{"https:///cb", false},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"myapp:/cb", false}, // private-use scheme without a dot
		{"https://app.example/c b", false},
		{"https://app.example/cb\n", false},
		{"", false},
	}
	for _, tc := range tests {
		err := auth.ValidateRedirectURI(tc.uri)
		if tc.ok && err != nil {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ok", tc.uri, err)
		}
		if !tc.ok && !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ErrInvalid", tc.uri, err)
		}
	}
}

type oidcFixture struct {
	svc    *auth.Service
	clock  *testutil.Clock
	user   *auth.User
	client *auth.Client
	secret string
	pub    *jwt.Key
}

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.NewSigningKey(jwt.EdDSA, priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := jwt.NewVerificationKey(jwt.EdDSA, pub)
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: key, Issuer: "https://id.example", Audience: "jwtgate",
		OIDCIssuer: "https://id.example", TTL: 15 * time.Minute, Leeway: 30 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	svc := &auth.Service{Store: db, Tokens: tk, Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	u := &auth.User{Name: "Ada", Role: auth.RoleEditor, PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c, secret, err := svc.RegisterClient(ctx, auth.ClientSpec{Name: "Wiki", RedirectURIs: []string{"https://wiki.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	return &oidcFixture{svc: svc, clock: clock, user: u, client: c, secret: secret, pub: pk}
}

func (f *oidcFixture) code(t *testing.T, authTime time.Time, scope ...string) string {
	t.Helper()
	code, err := f.svc.IssueAuthCode(ctx, &auth.Principal{UserID: f.user.ID}, auth.AuthRequest{ClientID: f.client.ID,
		RedirectURI: f.client.RedirectURIs[0], Scope: scope, Nonce: "n-0S6_WzA2Mj", CodeChallenge: rfcChallenge,
		CodeChallengeMethod: "S256", AuthTime: authTime})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestAuthCodeExpiresAfter60s(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		ok   bool
	}{{59 * time.Second, true}, {60 * time.Second, false}} {
		f := newOIDCFixture(t)
		code := f.code(t, time.Time{}, "openid")
		f.clock.Advance(tc.wait)
		_, err := f.svc.ExchangeAuthCode(ctx, f.client, code, f.client.RedirectURIs[0], rfcVerifier)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, auth.ErrInvalidGrant) {
			t.Errorf("after %v: %v (want ok: %v)", tc.wait, err, tc.ok)
		}
	}
}

// The ID token carries OpenID Connect Core section 2's claims, decoded
// here one by one from the verified payload.
func TestIDTokenClaims(t *testing.T) {
	for _, profile := range []bool{false, true} {
		f := newOIDCFixture(t)
		authTime := f.clock.Now().Add(-10 * time.Minute)
		scope := []string{"openid", "unknown-scope"}
		if profile {
			scope = append(scope, "profile")
		}
		g, err := f.svc.ExchangeAuthCode(ctx, f.client, f.code(t, authTime, scope...), f.client.RedirectURIs[0], rfcVerifier)
		if err != nil {
			t.Fatal(err)
		}
		if want := auth.GrantedScope(scope); !slices.Equal(g.Scope, want) || slices.Contains(g.Scope, "unknown-scope") {
			t.Fatalf("granted scope %v", g.Scope)
		}
		v, err := jwt.NewVerifier([]*jwt.Key{f.pub}, jwt.WithIssuer("https://id.example"), jwt.WithAudience(f.client.ID), jwt.WithClock(f.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		payload, err := v.VerifyJWS(g.IDToken)
		if err != nil {
			t.Fatalf("ID token does not verify with the public key: %v", err)
		}
		var c map[string]any
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatal(err)
		}
		now := float64(f.clock.Now().Unix())
		want := map[string]any{
			"iss": "https://id.example", "sub": strconv.FormatInt(f.user.ID, 10), "aud": f.client.ID, "azp": f.client.ID,
			"iat": now, "exp": now + 15*60, "auth_time": float64(authTime.Unix()), "nonce": "n-0S6_WzA2Mj", "sid": g.SessionID,
			"at_hash": atHashEdDSA(g.AccessToken),
		}
		if profile {
			want["name"], want["preferred_username"] = "Ada", "Ada"
		}
		for k, w := range want {
			if c[k] != w {
				t.Errorf("profile=%v: claim %s = %v, want %v", profile, k, c[k], w)
			}
		}
		for k := range c {
			if _, ok := want[k]; !ok {
				t.Errorf("profile=%v: unexpected claim %s = %v", profile, k, c[k])
			}
		}
		hint, err := f.svc.Tokens.VerifyIDTokenHint(g.IDToken)
		if err != nil || hint.SessionID != g.SessionID {
			t.Fatalf("VerifyIDTokenHint: %+v, %v", hint, err)
		}
		f.clock.Advance(24 * time.Hour) // an expired ID token is still a hint
		if _, err := f.svc.Tokens.VerifyIDTokenHint(g.IDToken); err != nil {
			t.Fatalf("VerifyIDTokenHint of an expired token: %v", err)
		}
		if _, err := f.svc.Tokens.VerifyIDTokenHint(g.AccessToken); err == nil {
			t.Fatal("an access token passes as id_token_hint")
		}
	}
}

// A client's access token has its own audience: jwtgate's API (Verify)
// refuses it even from the same issuer, userinfo (VerifyClient) takes it.
func TestClientAccessToken(t *testing.T) {
	f := newOIDCFixture(t)
	g, err := f.svc.ExchangeAuthCode(ctx, f.client, f.code(t, time.Time{}, "openid"), f.client.RedirectURIs[0], rfcVerifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Tokens.Verify(g.AccessToken); !errors.Is(err, jwt.ErrAudience) {
		t.Fatalf("Verify(client token) = %v, want jwt.ErrAudience", err)
	}
	p, err := f.svc.Tokens.VerifyClient(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != f.user.ID || p.Claims.ClientID != f.client.ID || p.Claims.AuthorizedParty != f.client.ID ||
		!p.Claims.Audience.Contains(f.client.ID) || p.Claims.Scope != "openid" || p.Role != "" || p.Claims.Name != "" {
		t.Fatalf("client principal %+v", p)
	}
	own, _, err := f.svc.Tokens.Issue(f.user, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Tokens.VerifyClient(own); !errors.Is(err, jwt.ErrAudience) {
		t.Fatalf("VerifyClient(own token) = %v, want jwt.ErrAudience", err)
	}
	in, err := f.svc.Introspect(ctx, f.client, g.AccessToken)
	if err != nil || !in.Active || in.ClientID != f.client.ID || in.Username != "Ada" {
		t.Fatalf("Introspect: %+v, %v", in, err)
	}
	other, _, err := f.svc.RegisterClient(ctx, auth.ClientSpec{Name: "Other", RedirectURIs: []string{"https://o.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if in, err := f.svc.Introspect(ctx, other, g.AccessToken); err != nil || in.Active {
		t.Fatalf("Introspect by another client: %+v, %v", in, err)
	}
	if err := f.svc.RevokeToken(ctx, other, g.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Tokens.VerifyClient(g.AccessToken); err != nil {
		t.Fatalf("another client revoked the token: %v", err)
	}
	if err := f.svc.RevokeToken(ctx, f.client, g.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Tokens.VerifyClient(g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("after RevokeToken: %v, want ErrRevoked", err)
	}
}

func TestRevokeRefreshToken(t *testing.T) {
	f := newOIDCFixture(t)
	g, err := f.svc.ExchangeAuthCode(ctx, f.client, f.code(t, time.Time{}, "openid", "offline_access"), f.client.RedirectURIs[0], rfcVerifier)
	if err != nil {
		t.Fatal(err)
	}
	if in, err := f.svc.Introspect(ctx, f.client, g.RefreshToken); err != nil || !in.Active || in.TokenType != "refresh_token" {
		t.Fatalf("Introspect refresh token: %+v, %v", in, err)
	}
	if err := f.svc.RevokeToken(ctx, f.client, g.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RefreshClient(ctx, f.client, g.RefreshToken); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("refresh after revocation: %v, want ErrInvalidGrant", err)
	}
	if _, err := f.svc.Tokens.VerifyClient(g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("access token of the revoked session: %v, want ErrRevoked", err)
	}
	if in, err := f.svc.Introspect(ctx, f.client, g.RefreshToken); err != nil || in.Active {
		t.Fatalf("Introspect revoked refresh token: %+v, %v", in, err)
	}
}

func TestAuthenticateClient(t *testing.T) {
	f := newOIDCFixture(t)
	pub, _, err := f.svc.RegisterClient(ctx, auth.ClientSpec{Name: "SPA", RedirectURIs: []string{"https://spa.example/cb"}, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, secret string
		ok         bool
	}{
		{f.client.ID, f.secret, true},
		{f.client.ID, f.secret + "x", false},
		{f.client.ID, "", false},
		{"unknown", f.secret, false},
		{"", "", false},
		{pub.ID, "", true},
		{pub.ID, "anything", false},
	}
	for _, tc := range tests {
		c, err := f.svc.AuthenticateClient(ctx, tc.id, tc.secret)
		if tc.ok && (err != nil || c.ID != tc.id) || !tc.ok && !errors.Is(err, auth.ErrClientAuth) {
			t.Errorf("AuthenticateClient(%q, %q) = %v, %v", tc.id, tc.secret, c, err)
		}
	}
	next, err := f.svc.RotateClientSecret(ctx, f.client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateClient(ctx, f.client.ID, f.secret); !errors.Is(err, auth.ErrClientAuth) {
		t.Fatalf("old secret after rotation: %v", err)
	}
	if _, err := f.svc.AuthenticateClient(ctx, f.client.ID, next); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

// An HS256 server is no OpenID provider: ID tokens and client tokens
// would need the shared secret to verify.
func TestSymmetricKeyIsNoOIDCKey(t *testing.T) {
	now := time.Now()
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: testKey, Issuer: "jwtgate", TTL: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	u := &auth.User{ID: 1, Name: "a", Role: auth.RoleReader}
	if _, _, err := tk.IssueIDToken(auth.IDTokenRequest{User: u, ClientID: "c"}); !errors.Is(err, auth.ErrNoOIDCKey) {
		t.Fatalf("IssueIDToken with HS256: %v, want ErrNoOIDCKey", err)
	}
	if _, _, err := tk.IssueClient(u, "", "c", nil); !errors.Is(err, auth.ErrNoOIDCKey) {
		t.Fatalf("IssueClient with HS256: %v, want ErrNoOIDCKey", err)
	}
}

func TestRegisterClientRefuses(t *testing.T) {
	f := newOIDCFixture(t)
	for _, spec := range []auth.ClientSpec{
		{Name: "", RedirectURIs: []string{"https://a.example/cb"}},
		{Name: "x\x00", RedirectURIs: []string{"https://a.example/cb"}},
		{Name: "No URIs"},
		{Name: "Bad", RedirectURIs: []string{"https://a.example/cb#x"}},
		{Name: "Bad logout", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: []string{"http://evil.example/"}},
	} {
		if _, _, err := f.svc.RegisterClient(ctx, spec); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("RegisterClient(%+v) = %v, want ErrInvalid", spec, err)
		}
	}
	c, secret, err := f.svc.RegisterClient(ctx, auth.ClientSpec{Name: " Grafana ", RedirectURIs: []string{"https://g.example/cb", "https://g.example/cb"}})
	if err != nil || c.Name != "Grafana" || len(c.RedirectURIs) != 1 || len(secret) != 43 || len(c.ID) != 22 || c.Public() {
		t.Fatalf("RegisterClient: %+v, %q, %v", c, secret, err)
	}
}

// Without a configured audience, Verify refuses client tokens by their
// client_id claim alone.
func TestVerifyRefusesClientTokenWithoutAudience(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	key, err := jwt.NewSigningKey(jwt.EdDSA, priv)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: key, Issuer: "jwtgate", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tk.IssueClient(&auth.User{ID: 1}, "s", "client-a", []string{"openid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(tok); !errors.Is(err, jwt.ErrAudience) {
		t.Fatalf("Verify(client token) = %v, want jwt.ErrAudience", err)
	}
}

// atHashEdDSA is at_hash for an EdDSA ID token: the left half of the
// access token's SHA-512, base64url.
func atHashEdDSA(accessToken string) string {
	sum := sha512.Sum512([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:32])
}
