package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/postgres"
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

// Concurrent guesses on one mfa_token, at two instances, cannot together
// check more codes than auth.MaxMFAAttempts: each try is counted in the
// database before its code is checked.
func TestMFAConcurrentGuessesBounded(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	key, _ := auth.NewMFAKey(bytes.Repeat([]byte{4}, 32))
	clock := testutil.NewClock(time.Now().Truncate(auth.TOTPPeriod))
	a, b := mfaInstance(t, dbURL, key, clock), mfaInstance(t, dbURL, key, clock)
	const ip = "192.0.2.78"
	if _, err := a.CreateUser(ctx, "gus", "gus's password", auth.RoleReader); err != nil {
		t.Fatal(err)
	}
	u, err := a.Login(ctx, ip, "gus", "gus's password")
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.LoginSession(ctx, auth.LoginFrom{ClientIP: ip}, u, false)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := a.Tokens.Verify(g.AccessToken)
	e, err := a.BeginTOTP(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := auth.ParseTOTPSecret(e.Secret)
	if _, err := a.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, clock.Now())); err != nil {
		t.Fatal(err)
	}
	_, err = a.LoginSession(ctx, auth.LoginFrom{ClientIP: ip}, u, false)
	var mfa *auth.MFARequiredError
	if !errors.As(err, &mfa) {
		t.Fatalf("LoginSession: %v", err)
	}
	wrong := strings.Repeat("0", 6)
	if wrong == auth.TOTPCode(secret, clock.Now()) {
		wrong = "111111"
	}
	var checked, reads atomic.Int32
	for _, s := range []*auth.Service{a, b} {
		s.Store = countingStore{DB: s.Store.(*postgres.DB), reads: &reads}
	}
	var wg sync.WaitGroup
	for i := range 30 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, err := s.LoginMFA(ctx, ip, mfa.Token, auth.MFAProof{TOTP: wrong})
			if errors.Is(err, auth.ErrMFACode) {
				checked.Add(1)
			} else if !errors.Is(err, auth.ErrMFAToken) {
				t.Errorf("LoginMFA: %v", err)
			}
		})
	}
	wg.Wait()
	if n := checked.Load(); n > auth.MaxMFAAttempts-1 {
		t.Errorf("%d concurrent wrong codes were answered as wrong, want at most %d before the token ends", n, auth.MaxMFAAttempts-1)
	}
	if n := reads.Load(); n > auth.MaxMFAAttempts {
		t.Errorf("%d concurrent tries reached the secret, want at most %d", n, auth.MaxMFAAttempts)
	}
}

// countingStore counts the reads of TOTP secrets: one per code checked.
type countingStore struct {
	*postgres.DB
	reads *atomic.Int32
}

func (c countingStore) TOTP(ctx context.Context, userID int64) (*auth.TOTPSecret, error) {
	c.reads.Add(1)
	return c.DB.TOTP(ctx, userID)
}
