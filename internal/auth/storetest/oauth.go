package storetest

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// The OAuth part of the contract (auth.ClientStore), which every store
// implements too:
//
//   - Clients round-trip; a duplicate id is ErrConflict; ListClients
//     orders by name then id.
//   - A code is redeemed once: of concurrent redemptions exactly one
//     succeeds and starts its session; the rest are ErrConflict.
//   - A redemption for a user who changed is ErrStale and leaves the code
//     unused.
//   - DeleteClient deletes the client's codes and sessions and records the
//     revocation of its sessions, leaving other sessions alone.

func clientStore(t *testing.T, s auth.Store) auth.ClientStore {
	t.Helper()
	cs, ok := s.(auth.ClientStore)
	if !ok {
		t.Fatalf("%T is no auth.ClientStore", s)
	}
	return cs
}

func mkClient(t *testing.T, s auth.Store, id, name string, secret []byte) *auth.Client {
	t.Helper()
	c := &auth.Client{ID: id, Name: name, SecretHash: secret, RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:8080/cb"}}
	if err := clientStore(t, s).CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return c
}

func mkCode(t *testing.T, s auth.Store, c *auth.Client, u *auth.User, code string) *auth.AuthCode {
	t.Helper()
	ac := &auth.AuthCode{Hash: hashOf(code), ClientID: c.ID, UserID: u.ID, RedirectURI: c.RedirectURIs[0],
		Scope: []string{"openid", "offline_access"}, Nonce: "n-0S6_WzA2Mj", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		AuthTime: base.Add(-time.Minute), SessionID: "sid-" + code, ExpiresAt: base.Add(time.Minute)}
	if err := clientStore(t, s).CreateAuthCode(ctx, ac); err != nil {
		t.Fatalf("CreateAuthCode: %v", err)
	}
	return ac
}

func codeSession(u *auth.User, ac *auth.AuthCode) *auth.Session {
	return &auth.Session{ID: ac.SessionID, UserID: u.ID, UserVersion: u.Version, CreatedAt: base, ExpiresAt: base.Add(time.Hour),
		ClientID: ac.ClientID, Scope: ac.Scope, AuthTime: ac.AuthTime}
}

func testClients(t *testing.T, s auth.Store) {
	cs := clientStore(t, s)
	b := mkClient(t, s, "id-b", "Wiki", hashOf("secret"))
	a := mkClient(t, s, "id-a", "Grafana", nil)
	if err := cs.CreateClient(ctx, &auth.Client{ID: "id-a", Name: "again", RedirectURIs: []string{"https://x.example/"}}); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}
	got, err := cs.Client(ctx, "id-b")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Wiki" || !bytes.Equal(got.SecretHash, hashOf("secret")) || !slices.Equal(got.RedirectURIs, b.RedirectURIs) ||
		len(got.PostLogoutRedirectURIs) != 0 || got.Public() || !sameTime(got.CreatedAt, b.CreatedAt) || b.CreatedAt.IsZero() {
		t.Fatalf("Client = %+v, want %+v", got, b)
	}
	if got, err := cs.Client(ctx, "id-a"); err != nil || !got.Public() || got.SecretHash != nil {
		t.Fatalf("public client: %+v, %v", got, err)
	}
	if _, err := cs.Client(ctx, "nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	list, err := cs.ListClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListClients = %v, %v; want Grafana, Wiki", list, err)
	}
	upd, err := cs.SetClientSecret(ctx, "id-a", hashOf("new"))
	if err != nil || !bytes.Equal(upd.SecretHash, hashOf("new")) || upd.UpdatedAt.Before(upd.CreatedAt) {
		t.Fatalf("SetClientSecret: %+v, %v", upd, err)
	}
	if _, err := cs.SetClientSecret(ctx, "nope", nil); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("SetClientSecret unknown: %v", err)
	}
	if err := cs.DeleteClient(ctx, "nope", nil); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("DeleteClient unknown: %v", err)
	}
	withLogout := &auth.Client{ID: "id-c", Name: "C", RedirectURIs: []string{"com.example.app:/cb"}, PostLogoutRedirectURIs: []string{"https://c.example/bye", "https://c.example/bye2"}}
	if err := cs.CreateClient(ctx, withLogout); err != nil {
		t.Fatal(err)
	}
	if got, err := cs.Client(ctx, "id-c"); err != nil || !slices.Equal(got.PostLogoutRedirectURIs, withLogout.PostLogoutRedirectURIs) {
		t.Fatalf("post-logout URIs: %+v, %v", got, err)
	}
}

func testAuthCodes(t *testing.T, s auth.Store) {
	cs := clientStore(t, s)
	u := mkUser(t, s, "ada", auth.RoleReader)
	c := mkClient(t, s, "client-1", "App", hashOf("s"))
	ac := mkCode(t, s, c, u, "code-1")
	got, err := cs.AuthCode(ctx, ac.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != c.ID || got.UserID != u.ID || got.RedirectURI != ac.RedirectURI || !slices.Equal(got.Scope, ac.Scope) ||
		got.Nonce != ac.Nonce || got.CodeChallenge != ac.CodeChallenge || got.SessionID != ac.SessionID ||
		!sameTime(got.AuthTime, ac.AuthTime) || !sameTime(got.ExpiresAt, ac.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Fatalf("AuthCode = %+v, want %+v", got, ac)
	}
	if _, err := cs.AuthCode(ctx, hashOf("nope")); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	bad := *ac
	bad.Hash, bad.ClientID = hashOf("code-x"), "no-such-client"
	if err := cs.CreateAuthCode(ctx, &bad); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("code of an unknown client: %v, want ErrInvalid", err)
	}

	// A user who changed: nothing is stored and the code stays usable.
	stale := codeSession(u, ac)
	stale.UserVersion++
	if err := cs.RedeemAuthCode(ctx, ac.Hash, base, stale, nil); !errors.Is(err, auth.ErrStale) {
		t.Fatalf("stale user: %v, want ErrStale", err)
	}
	if got, _ := cs.AuthCode(ctx, ac.Hash); got == nil || !got.UsedAt.IsZero() {
		t.Fatalf("stale redemption marked the code: %+v", got)
	}

	sess := codeSession(u, ac)
	if err := cs.RedeemAuthCode(ctx, ac.Hash, base, sess, &auth.RefreshToken{Hash: hashOf("rt-1"), SessionID: sess.ID, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatalf("RedeemAuthCode: %v", err)
	}
	if got, _ := cs.AuthCode(ctx, ac.Hash); got == nil || !sameTime(got.UsedAt, base) {
		t.Fatalf("redeemed code: %+v", got)
	}
	_, gotSess, err := s.RefreshToken(ctx, hashOf("rt-1"))
	if err != nil {
		t.Fatal(err)
	}
	if gotSess.ID != sess.ID || gotSess.ClientID != c.ID || !slices.Equal(gotSess.Scope, ac.Scope) || !sameTime(gotSess.AuthTime, ac.AuthTime) {
		t.Fatalf("client session = %+v", gotSess)
	}
	// Only its client rotates a client session's token.
	for _, other := range []string{"", "another-client"} {
		next := &auth.RefreshToken{Hash: hashOf("rt-2"), ExpiresAt: base.Add(time.Hour)}
		if _, _, err := s.RotateRefreshToken(ctx, hashOf("rt-1"), other, base, next); !errors.Is(err, auth.ErrStale) {
			t.Fatalf("rotation of client %s's token as %q: %v, want ErrStale", c.ID, other, err)
		}
	}
	next := &auth.RefreshToken{Hash: hashOf("rt-2"), ExpiresAt: base.Add(time.Hour)}
	if _, got, err := s.RotateRefreshToken(ctx, hashOf("rt-1"), c.ID, base, next); err != nil || got.ClientID != c.ID || next.SessionID != sess.ID {
		t.Fatalf("rotation by its client: %+v, %v", got, err)
	}
	again := codeSession(u, ac)
	again.ID = "other"
	if err := cs.RedeemAuthCode(ctx, ac.Hash, base, again, nil); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("second redemption: %v, want ErrConflict", err)
	}
	if err := cs.RedeemAuthCode(ctx, hashOf("nope"), base, codeSession(u, ac), nil); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
	// An own session has no client.
	mkSession(t, s, u, "own", "own-token")
	if _, own, err := s.RefreshToken(ctx, hashOf("own-token")); err != nil || own.ClientID != "" || len(own.Scope) != 0 || !own.AuthTime.IsZero() {
		t.Fatalf("own session = %+v, %v", own, err)
	}
	if _, _, err := s.RotateRefreshToken(ctx, hashOf("own-token"), c.ID, base, &auth.RefreshToken{Hash: hashOf("own-2"), ExpiresAt: base.Add(time.Hour)}); !errors.Is(err, auth.ErrStale) {
		t.Fatalf("a client's rotation of an own session's token: %v, want ErrStale", err)
	}
}

func testConcurrentRedeem(t *testing.T, s auth.Store) {
	cs := clientStore(t, s)
	u := mkUser(t, s, "ada", auth.RoleReader)
	c := mkClient(t, s, "client-1", "App", nil)
	ac := mkCode(t, s, c, u, "code-1")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess := codeSession(u, ac)
			sess.ID += strconv.Itoa(i) // not held back by the session's primary key
			errs[i] = cs.RedeemAuthCode(ctx, ac.Hash, base, sess, &auth.RefreshToken{Hash: hashOf("rt-" + strconv.Itoa(i)), SessionID: sess.ID, ExpiresAt: base.Add(time.Hour)})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, auth.ErrConflict):
			t.Errorf("redemption: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", won)
	}
}

func testDeleteClient(t *testing.T, s auth.Store) {
	cs := clientStore(t, s)
	u := mkUser(t, s, "ada", auth.RoleReader)
	a := mkClient(t, s, "client-a", "A", nil)
	b := mkClient(t, s, "client-b", "B", nil)
	redeemed := mkCode(t, s, a, u, "code-1")
	sess := codeSession(u, redeemed)
	if err := cs.RedeemAuthCode(ctx, redeemed.Hash, base, sess, &auth.RefreshToken{Hash: hashOf("rt-a"), SessionID: sess.ID, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pending := mkCode(t, s, a, u, "code-2")
	other := mkCode(t, s, b, u, "code-3")
	mkSession(t, s, u, "own", "own-token")

	at, until := time.Now(), time.Now().Add(time.Hour)
	if err := cs.DeleteClient(ctx, a.ID, &auth.Revoke{At: at, Until: until}); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if _, err := cs.Client(ctx, a.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	for _, h := range [][]byte{redeemed.Hash, pending.Hash} {
		if _, err := cs.AuthCode(ctx, h); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("code of the deleted client: %v, want ErrNotFound", err)
		}
	}
	if _, _, err := s.RefreshToken(ctx, hashOf("rt-a")); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("refresh token of the deleted client: %v, want ErrNotFound", err)
	}
	revs := revokedIDs(t, s, at.Add(-time.Minute), at)
	if _, ok := revs[sess.ID]; !ok {
		t.Fatalf("the client's session %s is not revoked: %v", sess.ID, revs)
	}
	if _, ok := revs["own"]; ok {
		t.Fatal("the user's own session was revoked")
	}
	if _, own, err := s.RefreshToken(ctx, hashOf("own-token")); err != nil || !own.RevokedAt.IsZero() {
		t.Fatalf("own session after DeleteClient: %+v, %v", own, err)
	}
	if _, err := cs.AuthCode(ctx, other.Hash); err != nil {
		t.Fatalf("another client's code: %v", err)
	}
}

// oidcEnv is a Service over a store, with an EdDSA key and a fake clock.
type oidcEnv struct {
	svc   *auth.Service
	clock *testutil.Clock
	user  *auth.User
	a, b  *auth.Client
	aKey  string // a's secret
}

func newOIDCEnv(t *testing.T, s auth.Store) *oidcEnv {
	t.Helper()
	clock := testutil.NewClock(time.Now().Truncate(time.Second))
	svc := newOIDCService(t, s, clock.Now)
	e := &oidcEnv{svc: svc, clock: clock, user: mkUser(t, s, "ada", auth.RoleEditor)}
	var err error
	e.a, e.aKey, err = svc.RegisterClient(ctx, auth.ClientSpec{Name: "App A", RedirectURIs: []string{"https://a.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	e.b, _, err = svc.RegisterClient(ctx, auth.ClientSpec{Name: "App B", RedirectURIs: []string{"https://b.example/cb"}, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// OIDCService returns a Service on s that is an OpenID provider: an
// EdDSA signing key and the issuer https://id.example.
func OIDCService(t *testing.T, s auth.Store) *auth.Service {
	t.Helper()
	return newOIDCService(t, s, time.Now)
}

func newOIDCService(t *testing.T, s auth.Store, now func() time.Time) *auth.Service {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.NewSigningKey(jwt.EdDSA, priv)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: key.WithKeyID("k1"), Issuer: "jwtgate", Audience: "jwtgate",
		OIDCIssuer: "https://id.example", TTL: 15 * time.Minute, Leeway: 30 * time.Second, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Service{Store: s, Tokens: tk, Now: now, Log: slog.New(slog.DiscardHandler)}
}

// IssueCode registers a confidential client and a user through svc and
// returns a code for them, whose verifier ExchangeOnce presents.
func IssueCode(t *testing.T, svc *auth.Service) (*auth.Client, string) {
	t.Helper()
	c, _, err := svc.RegisterClient(ctx, auth.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	u := mkUser(t, svc.Store, "ada", auth.RoleReader)
	code, err := svc.IssueAuthCode(ctx, &auth.Principal{UserID: u.ID}, auth.AuthRequest{ClientID: c.ID, RedirectURI: c.RedirectURIs[0],
		Scope: []string{"openid", "offline_access"}, CodeChallenge: auth.PKCEChallenge(verifier), CodeChallengeMethod: "S256"})
	if err != nil {
		t.Fatal(err)
	}
	return c, code
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B

func (e *oidcEnv) principal() *auth.Principal {
	return &auth.Principal{UserID: e.user.ID, Name: e.user.Name, Role: e.user.Role}
}

func (e *oidcEnv) code(t *testing.T, c *auth.Client, scope ...string) string {
	t.Helper()
	code, err := e.svc.IssueAuthCode(ctx, e.principal(), auth.AuthRequest{ClientID: c.ID, RedirectURI: c.RedirectURIs[0],
		Scope: append([]string{"openid"}, scope...), Nonce: "nonce-1", CodeChallenge: auth.PKCEChallenge(verifier), CodeChallengeMethod: "S256",
		AuthTime: e.clock.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatalf("IssueAuthCode: %v", err)
	}
	return code
}

// testOIDCCodeRefusals: every way a code exchange must fail, each with
// ErrInvalidGrant.
func testOIDCCodeRefusals(t *testing.T, s auth.Store) {
	e := newOIDCEnv(t, s)
	tests := []struct {
		name   string
		run    func(code string) error
		usable bool // the code still works afterwards
	}{
		{"another client's code", func(code string) error {
			_, err := e.svc.ExchangeAuthCode(ctx, e.b, code, e.a.RedirectURIs[0], verifier)
			return err
		}, true},
		{"wrong verifier", func(code string) error {
			_, err := e.svc.ExchangeAuthCode(ctx, e.a, code, e.a.RedirectURIs[0], verifier[1:]+"x")
			return err
		}, true},
		{"missing verifier", func(code string) error {
			_, err := e.svc.ExchangeAuthCode(ctx, e.a, code, e.a.RedirectURIs[0], "")
			return err
		}, true},
		{"other redirect_uri", func(code string) error {
			_, err := e.svc.ExchangeAuthCode(ctx, e.a, code, "https://a.example/cb/", verifier)
			return err
		}, true},
		{"unknown code", func(code string) error {
			_, err := e.svc.ExchangeAuthCode(ctx, e.a, code[1:]+"A", e.a.RedirectURIs[0], verifier)
			return err
		}, true},
		{"expired code", func(code string) error {
			e.clock.Advance(auth.AuthCodeTTL)
			defer e.clock.Advance(-auth.AuthCodeTTL)
			_, err := e.svc.ExchangeAuthCode(ctx, e.a, code, e.a.RedirectURIs[0], verifier)
			return err
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := e.code(t, e.a)
			if err := tc.run(code); !errors.Is(err, auth.ErrInvalidGrant) {
				t.Fatalf("got %v, want ErrInvalidGrant", err)
			}
			e.clock.Advance(auth.AuthCodeTTL - time.Second) // the last second a code is valid
			defer e.clock.Advance(-(auth.AuthCodeTTL - time.Second))
			if _, err := e.svc.ExchangeAuthCode(ctx, e.a, code, e.a.RedirectURIs[0], verifier); err != nil {
				t.Fatalf("the code after the refusal: %v", err)
			}
		})
	}
	// Refused when the code is requested.
	for _, r := range []auth.AuthRequest{
		{ClientID: e.a.ID, RedirectURI: e.a.RedirectURIs[0], Scope: []string{"openid"}, CodeChallenge: verifier, CodeChallengeMethod: "plain"},
		{ClientID: e.b.ID, RedirectURI: e.b.RedirectURIs[0], Scope: []string{"openid"}}, // public, no PKCE
		{ClientID: e.a.ID, RedirectURI: e.a.RedirectURIs[0], Scope: []string{"openid"}}, // PKCE required for all by default
		{ClientID: e.a.ID, RedirectURI: "https://a.example/cb?x", Scope: []string{"openid"}, CodeChallenge: auth.PKCEChallenge(verifier), CodeChallengeMethod: "S256"},
		{ClientID: e.a.ID, RedirectURI: e.a.RedirectURIs[0], Scope: []string{"profile"}, CodeChallenge: auth.PKCEChallenge(verifier), CodeChallengeMethod: "S256"},
	} {
		if _, err := e.svc.IssueAuthCode(ctx, e.principal(), r); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("IssueAuthCode(%+v): %v, want ErrInvalid", r, err)
		}
	}
}

// testOIDCCodeReuse: a second redemption fails and revokes the session
// of the first: its refresh token and access token stop working.
func testOIDCCodeReuse(t *testing.T, s auth.Store) {
	e := newOIDCEnv(t, s)
	code := e.code(t, e.a, "offline_access")
	g, err := e.svc.ExchangeAuthCode(ctx, e.a, code, e.a.RedirectURIs[0], verifier)
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshToken == "" || g.IDToken == "" || g.ClientID != e.a.ID {
		t.Fatalf("grant %+v", g)
	}
	if _, err := e.svc.Tokens.VerifyClient(g.AccessToken); err != nil {
		t.Fatalf("access token before reuse: %v", err)
	}
	if _, err := e.svc.ExchangeAuthCode(ctx, e.a, code, e.a.RedirectURIs[0], verifier); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("reuse: %v, want ErrInvalidGrant", err)
	}
	if _, err := e.svc.Tokens.VerifyClient(g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("access token after reuse: %v, want ErrRevoked", err)
	}
	if _, err := e.svc.RefreshClient(ctx, e.a, g.RefreshToken); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("refresh after reuse: %v, want ErrInvalidGrant", err)
	}
}

// testOIDCConcurrentExchange: of concurrent exchanges of one code exactly
// one gets tokens.
func testOIDCConcurrentExchange(t *testing.T, s auth.Store) {
	e := newOIDCEnv(t, s)
	ExchangeOnce(t, e.svc, e.svc, e.a, e.code(t, e.a))
}

// ExchangeOnce redeems code for c concurrently through two services (two
// store handles, two instances) and checks that exactly one succeeds.
func ExchangeOnce(t *testing.T, one, two *auth.Service, c *auth.Client, code string) {
	t.Helper()
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		svc := one
		if i%2 == 1 {
			svc = two
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.ExchangeAuthCode(ctx, c, code, c.RedirectURIs[0], verifier)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, auth.ErrInvalidGrant):
			t.Errorf("exchange: %v, want nil or ErrInvalidGrant", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d exchanges of one code succeeded, want exactly 1", won)
	}
}

// testOIDCRefreshBoundToClient: a client's refresh token works for that
// client only, and jwtgate's API refuses the client's access token.
func testOIDCRefreshBoundToClient(t *testing.T, s auth.Store) {
	e := newOIDCEnv(t, s)
	g, err := e.svc.ExchangeAuthCode(ctx, e.a, e.code(t, e.a, "offline_access"), e.a.RedirectURIs[0], verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RefreshClient(ctx, e.b, g.RefreshToken); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("B refreshing A's token: %v, want ErrInvalidGrant", err)
	}
	if _, err := e.svc.Refresh(ctx, g.RefreshToken); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Fatalf("jwtgate's /refresh with A's token: %v, want ErrRefreshInvalid", err)
	}
	if _, err := e.svc.Tokens.Verify(g.AccessToken); err == nil {
		t.Fatal("jwtgate's API accepts A's access token")
	}
	g2, err := e.svc.RefreshClient(ctx, e.a, g.RefreshToken)
	if err != nil {
		t.Fatalf("A refreshing its token after the refusals: %v", err)
	}
	if g2.RefreshToken == g.RefreshToken || g2.IDToken == "" || g2.SessionID != g.SessionID {
		t.Fatalf("refreshed grant %+v", g2)
	}
	// Without offline_access there is no refresh token.
	g3, err := e.svc.ExchangeAuthCode(ctx, e.a, e.code(t, e.a), e.a.RedirectURIs[0], verifier)
	if err != nil || g3.RefreshToken != "" {
		t.Fatalf("grant without offline_access: %+v, %v", g3, err)
	}
}

// testOIDCDeleteClientEndsSessions: after DeleteClient its refresh and
// access tokens are refused.
func testOIDCDeleteClientEndsSessions(t *testing.T, s auth.Store) {
	e := newOIDCEnv(t, s)
	g, err := e.svc.ExchangeAuthCode(ctx, e.a, e.code(t, e.a, "offline_access"), e.a.RedirectURIs[0], verifier)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteClient(ctx, e.a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Tokens.VerifyClient(g.AccessToken); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("access token of a deleted client: %v, want ErrRevoked", err)
	}
	if _, err := e.svc.RefreshClient(ctx, e.a, g.RefreshToken); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("refresh token of a deleted client: %v, want ErrInvalidGrant", err)
	}
	if _, err := e.svc.AuthenticateClient(ctx, e.a.ID, e.aKey); !errors.Is(err, auth.ErrClientAuth) {
		t.Fatalf("deleted client authenticates: %v", err)
	}
}
