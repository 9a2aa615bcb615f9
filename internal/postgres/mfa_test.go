package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// mfaInstance is one server's Service on a shared database.
func mfaInstance(t *testing.T, dbURL string, key *auth.MFAKey, c *testutil.Clock) *auth.Service {
	t.Helper()
	k, err := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: k, Issuer: "jwtgate", Audience: "jwtgate", TTL: time.Minute, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	lim := func() *auth.Limiter { return &auth.Limiter{Every: time.Second, Burst: 100, Now: c.Now} }
	return &auth.Service{Store: open(t, dbURL), Tokens: tk, MFAKey: key, Now: c.Now,
		Hasher:  auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 2, time.Minute),
		IPLimit: lim(), UserNetLimit: lim(), UserLimit: lim()}
}

// A login's second step issued by one instance is answered at another,
// once; a code used at one is refused at the other.
func TestMFAAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	key, err := auth.NewMFAKey(bytes.Repeat([]byte{3}, 32)) // the shared --mfa-key-file
	if err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewClock(time.Now().Truncate(auth.TOTPPeriod))
	a, b := mfaInstance(t, dbURL, key, clock), mfaInstance(t, dbURL, key, clock)
	const ip = "192.0.2.77"
	if _, err := a.CreateUser(ctx, "inga", "inga's password", auth.RoleReader); err != nil {
		t.Fatal(err)
	}
	loginAt := func(s *auth.Service) (*auth.Grant, *auth.MFARequiredError) {
		t.Helper()
		u, err := s.Login(ctx, ip, "inga", "inga's password")
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.LoginSession(ctx, auth.LoginFrom{ClientIP: ip}, u, false)
		var mfa *auth.MFARequiredError
		if errors.As(err, &mfa) {
			return nil, mfa
		}
		if err != nil {
			t.Fatal(err)
		}
		return g, nil
	}
	g, _ := loginAt(a)
	p, err := a.Tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.BeginTOTP(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.URI)
	secret, err := auth.ParseTOTPSecret(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	// Confirmed at B, which never saw the enrolment begin.
	if _, err := b.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, clock.Now())); err != nil {
		t.Fatalf("ConfirmTOTP at the other instance: %v", err)
	}

	_, mfa := loginAt(a)
	clock.Advance(auth.TOTPPeriod) // the confirming code's step is used
	next := clock.Now()
	gb, err := b.LoginMFA(ctx, ip, mfa.Token, auth.MFAProof{TOTP: auth.TOTPCode(secret, next)})
	if err != nil {
		t.Fatalf("LoginMFA at B of A's mfa_token: %v", err)
	}
	if pb, err := b.Tokens.Verify(gb.AccessToken); err != nil || !slices.Equal(pb.Claims.AMR, []string{"pwd", "otp"}) {
		t.Fatalf("B's token: %+v, %v", pb, err)
	}
	if _, err := a.LoginMFA(ctx, ip, mfa.Token, auth.MFAProof{RecoveryCode: "aaaa-aaaa-aaaa-aaaa"}); !errors.Is(err, auth.ErrMFAToken) {
		t.Fatalf("the token again at A: %v, want ErrMFAToken", err)
	}
	_, mfa2 := loginAt(b)
	if _, err := a.LoginMFA(ctx, ip, mfa2.Token, auth.MFAProof{TOTP: auth.TOTPCode(secret, next)}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("B's code replayed at A: %v, want ErrMFACode", err)
	}
}
