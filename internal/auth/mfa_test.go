package auth_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

const clientIP = "192.0.2.10"

type mfaRig struct {
	svc   *auth.Service
	db    *sqlite.DB
	clock *testutil.Clock
}

func newMFARig(t *testing.T, require ...auth.Role) *mfaRig {
	t.Helper()
	c := testutil.NewClock(time.Date(2031, 5, 6, 7, 8, 0, 0, time.UTC))
	db := openDB(t)
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: testKey, Issuer: "jwtgate", Audience: "jwtgate", TTL: time.Minute, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.NewMFAKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	lim := func(every time.Duration, burst int) *auth.Limiter {
		return &auth.Limiter{Every: every, Burst: burst, Now: c.Now}
	}
	svc := &auth.Service{Store: db, Tokens: tk, Now: c.Now, MFAKey: key, RequireMFA: require,
		Hasher:  auth.NewHasher(fastArgon, 2, time.Minute),
		IPLimit: lim(6*time.Second, 200), UserNetLimit: lim(12*time.Second, 100), UserLimit: lim(2*time.Second, 100)}
	return &mfaRig{svc: svc, db: db, clock: c}
}

// login is a password login to its second step or its session.
func (r *mfaRig) login(t *testing.T, name string) (*auth.Grant, *auth.MFARequiredError) {
	t.Helper()
	u, err := r.svc.Login(ctx, clientIP, name, "password "+name)
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	g, err := r.svc.LoginSession(ctx, auth.LoginFrom{ClientIP: clientIP}, u, true)
	var mfa *auth.MFARequiredError
	if errors.As(err, &mfa) {
		return nil, mfa
	}
	if err != nil {
		t.Fatalf("LoginSession(%s): %v", name, err)
	}
	return g, nil
}

func (r *mfaRig) user(t *testing.T, name string, role auth.Role) {
	t.Helper()
	if _, err := r.svc.CreateUser(ctx, name, "password "+name, role); err != nil {
		t.Fatal(err)
	}
}

func (r *mfaRig) principal(t *testing.T, g *auth.Grant) *auth.Principal {
	t.Helper()
	p, err := r.svc.Tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

// enrol sets up TOTP for the user of g, reading the secret from the
// otpauth URI as an app would, and returns it with the recovery codes.
func (r *mfaRig) enrol(t *testing.T, g *auth.Grant) ([]byte, []string) {
	t.Helper()
	p := r.principal(t, g)
	e, err := r.svc.BeginTOTP(ctx, p, "auth.example.com")
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	u, err := url.Parse(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := auth.ParseTOTPSecret(u.Query().Get("secret"))
	if err != nil || auth.TOTPSecretText(secret) != e.Secret {
		t.Fatalf("the URI's secret %q differs from the shown %q (%v)", u.Query().Get("secret"), e.Secret, err)
	}
	if _, err := r.svc.ConfirmTOTP(ctx, p, wrongCode(auth.TOTPCode(secret, r.clock.Now()))); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("ConfirmTOTP with a wrong code: %v, want ErrInvalid", err)
	}
	codes, err := r.svc.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, r.clock.Now()))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	if len(codes) != auth.RecoveryCodes {
		t.Fatalf("%d recovery codes, want %d", len(codes), auth.RecoveryCodes)
	}
	r.clock.Advance(auth.TOTPPeriod) // the confirming code is used up
	return secret, codes
}

func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestMFALoginWithTOTP(t *testing.T) {
	r := newMFARig(t)
	r.user(t, "tina", auth.RoleEditor)
	g, _ := r.login(t, "tina")
	if p := r.principal(t, g); !slices.Equal(p.Claims.AMR, []string{"pwd"}) || p.Claims.ACR != "" || p.Claims.MFAEnroll {
		t.Fatalf("password-only token: amr %q acr %q enroll %v", p.Claims.AMR, p.Claims.ACR, p.Claims.MFAEnroll)
	}
	secret, _ := r.enrol(t, g)

	_, mfa := r.login(t, "tina")
	if mfa == nil {
		t.Fatal("a user with TOTP logged in with the password alone")
	}
	if !slices.Equal(mfa.Factors, []string{"totp", "recovery"}) || len(mfa.Token) != 43 {
		t.Fatalf("mfa_required: factors %q, token %q", mfa.Factors, mfa.Token)
	}
	code := auth.TOTPCode(secret, r.clock.Now())
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: wrongCode(code)}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("wrong code: %v, want ErrMFACode", err)
	}
	g, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: code})
	if err != nil {
		t.Fatalf("right code after a wrong one: %v", err)
	}
	if !g.Cookie {
		t.Error("the first step's cookie wish was lost")
	}
	p := r.principal(t, g)
	if !slices.Equal(p.Claims.AMR, []string{"pwd", "otp"}) || p.Claims.ACR != auth.ACRMFA {
		t.Fatalf("token after TOTP: amr %q acr %q", p.Claims.AMR, p.Claims.ACR)
	}
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: code}); !errors.Is(err, auth.ErrMFAToken) {
		t.Fatalf("a used mfa_token: %v, want ErrMFAToken", err)
	}
	// The same code on a new token, within its window: a replay.
	_, mfa2 := r.login(t, "tina")
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa2.Token, auth.MFAProof{TOTP: code}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("a replayed code: %v, want ErrMFACode", err)
	}
	// An earlier step's code, after a later one was used: refused too.
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa2.Token, auth.MFAProof{TOTP: auth.TOTPCode(secret, r.clock.Now().Add(-auth.TOTPPeriod))}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("the previous step's code after this step's: %v, want ErrMFACode", err)
	}
	r.clock.Advance(auth.TOTPPeriod)
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa2.Token, auth.MFAProof{TOTP: auth.TOTPCode(secret, r.clock.Now())}); err != nil {
		t.Fatalf("the next step's code: %v", err)
	}
	// Refresh keeps amr and acr.
	g2, err := r.svc.Refresh(ctx, g.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if p := r.principal(t, g2); !slices.Equal(p.Claims.AMR, []string{"pwd", "otp"}) || p.Claims.ACR != auth.ACRMFA {
		t.Fatalf("refreshed token: amr %q acr %q", p.Claims.AMR, p.Claims.ACR)
	}
}

func TestMFATokenRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		try  func(t *testing.T, r *mfaRig, token, code string) error
	}{
		{"unknown token", func(t *testing.T, r *mfaRig, token, code string) error {
			return mfaErr(r.svc.LoginMFA(ctx, clientIP, strings.Repeat("A", 43), auth.MFAProof{TOTP: code}))
		}},
		{"malformed token", func(t *testing.T, r *mfaRig, token, code string) error {
			return mfaErr(r.svc.LoginMFA(ctx, clientIP, "short", auth.MFAProof{TOTP: code}))
		}},
		{"expired token", func(t *testing.T, r *mfaRig, token, code string) error {
			r.clock.Advance(auth.MFAChallengeTTL)
			return mfaErr(r.svc.LoginMFA(ctx, clientIP, token, auth.MFAProof{TOTP: code}))
		}},
		{"another client", func(t *testing.T, r *mfaRig, token, code string) error {
			return mfaErr(r.svc.LoginMFA(ctx, "198.51.100.1", token, auth.MFAProof{TOTP: code}))
		}},
		{"sixth try", func(t *testing.T, r *mfaRig, token, code string) error {
			for i := range auth.MaxMFAAttempts {
				_, err := r.svc.LoginMFA(ctx, clientIP, token, auth.MFAProof{TOTP: wrongCode(code)})
				want := auth.ErrMFACode
				if i == auth.MaxMFAAttempts-1 {
					want = auth.ErrMFAToken // the fifth wrong code ends the token
				}
				if !errors.Is(err, want) {
					t.Fatalf("wrong code %d: %v, want %v", i+1, err, want)
				}
			}
			return mfaErr(r.svc.LoginMFA(ctx, clientIP, token, auth.MFAProof{TOTP: code}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newMFARig(t)
			r.user(t, "tom", auth.RoleReader)
			g, _ := r.login(t, "tom")
			secret, _ := r.enrol(t, g)
			_, mfa := r.login(t, "tom")
			err := tc.try(t, r, mfa.Token, auth.TOTPCode(secret, r.clock.Now()))
			if !errors.Is(err, auth.ErrMFAToken) {
				t.Fatalf("got %v, want ErrMFAToken", err)
			}
		})
	}
}

func mfaErr(_ *auth.Grant, err error) error { return err }

func TestMFAProofShape(t *testing.T) {
	r := newMFARig(t)
	r.user(t, "pat", auth.RoleReader)
	g, _ := r.login(t, "pat")
	r.enrol(t, g)
	_, mfa := r.login(t, "pat")
	for _, p := range []auth.MFAProof{{}, {TOTP: "123456", RecoveryCode: "abcd-efgh-ijkl-mnop"}} {
		if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, p); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("proof %+v: %v, want ErrInvalid", p, err)
		}
	}
	// No WebAuthn verifier: an assertion is a wrong answer, not a crash.
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{WebAuthn: []byte(`{}`)}); !errors.Is(err, auth.ErrMFACode) {
		t.Errorf("assertion without passkeys: %v, want ErrMFACode", err)
	}
}

func TestMFARecoveryCodes(t *testing.T) {
	r := newMFARig(t)
	r.user(t, "rose", auth.RoleReader)
	g, _ := r.login(t, "rose")
	_, codes := r.enrol(t, g)
	_, mfa := r.login(t, "rose")
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " ")) // as a person might type it
	g, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: typed})
	if err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if p := r.principal(t, g); !slices.Equal(p.Claims.AMR, []string{"pwd", "mfa"}) || p.Claims.ACR != auth.ACRMFA {
		t.Fatalf("token after a recovery code: amr %q acr %q", p.Claims.AMR, p.Claims.ACR)
	}
	_, mfa = r.login(t, "rose")
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: codes[3]}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("a used recovery code: %v, want ErrMFACode", err)
	}
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: "not a code"}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("garbage recovery code: %v, want ErrMFACode", err)
	}
	fresh, err := r.svc.RegenerateRecoveryCodes(ctx, r.principal(t, g), clientIP, "password rose")
	if err != nil || len(fresh) != auth.RecoveryCodes {
		t.Fatalf("RegenerateRecoveryCodes = %d codes, %v", len(fresh), err)
	}
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: codes[4]}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("an old code after regenerating: %v, want ErrMFACode", err)
	}
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: fresh[0]}); err != nil {
		t.Fatalf("a new code: %v", err)
	}
}

// Wrong codes spend the login budget of the user's name on the client's
// network, as wrong passwords do, beyond any one mfa_token.
func TestMFAFailuresCountTowardLoginLimits(t *testing.T) {
	r := newMFARig(t)
	r.svc.UserNetLimit = &auth.Limiter{Every: time.Hour, Burst: 6, Now: r.clock.Now}
	r.user(t, "lim", auth.RoleReader)
	g, _ := r.login(t, "lim")
	secret, _ := r.enrol(t, g)
	wrong := wrongCode(auth.TOTPCode(secret, r.clock.Now()))
	limited := false
	for i := 0; i < 4 && !limited; i++ {
		_, mfa := r.login(t, "lim")
		for range 4 {
			_, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: wrong})
			if errors.Is(err, auth.ErrRateLimited) {
				limited = true
				break
			}
		}
	}
	if !limited {
		t.Fatal("16 wrong codes over 4 tokens were never rate limited")
	}
}

func TestMFARequiredByRole(t *testing.T) {
	r := newMFARig(t, auth.RoleAdmin)
	r.user(t, "ada", auth.RoleAdmin)
	r.user(t, "rea", auth.RoleReader)
	g, mfa := r.login(t, "ada")
	if mfa != nil {
		t.Fatal("an admin without a factor got mfa_required: they could never enrol")
	}
	p := r.principal(t, g)
	if !p.Claims.MFAEnroll {
		t.Fatal("an admin without a second factor got a full token")
	}
	if _, err := r.svc.IssueAuthCode(ctx, p, auth.AuthRequest{ClientID: "x"}); !errors.Is(err, auth.ErrMFAEnrollment) {
		t.Fatalf("IssueAuthCode for an enrolment-only token: %v", err)
	}
	if g, _ := r.login(t, "rea"); r.principal(t, g).Claims.MFAEnroll {
		t.Fatal("a reader, whose role needs no factor, got an enrolment-only token")
	}
	r.enrol(t, g)
	// Enrolling proved the factor in this session: a refresh gives a
	// full token.
	g2, err := r.svc.Refresh(ctx, g.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	p2 := r.principal(t, g2)
	if p2.Claims.MFAEnroll || !slices.Equal(p2.Claims.AMR, []string{"pwd", "otp"}) {
		t.Fatalf("refreshed after enrolling: enroll %v amr %q", p2.Claims.MFAEnroll, p2.Claims.AMR)
	}
	if err := r.svc.RemoveTOTP(ctx, p2, clientIP, "password ada"); !errors.Is(err, auth.ErrMFARequiredByRole) {
		t.Fatalf("removing an admin's only factor: %v, want ErrMFARequiredByRole", err)
	}
	// A reader may remove theirs.
	gr, _ := r.login(t, "rea")
	r.enrol(t, gr)
	if err := r.svc.RemoveTOTP(ctx, r.principal(t, gr), clientIP, "password rea"); err != nil {
		t.Fatalf("a reader removing TOTP: %v", err)
	}
	if g, mfa := r.login(t, "rea"); mfa != nil || g == nil {
		t.Fatal("after removing TOTP the password alone does not log in")
	}
}

func TestMFAEnrolmentNeedsALogin(t *testing.T) {
	r := newMFARig(t)
	r.user(t, "eve", auth.RoleReader)
	g, _ := r.login(t, "eve")
	p := r.principal(t, g)
	client := *p
	client.Claims.ClientID = "some-client"
	for name, pr := range map[string]*auth.Principal{"nobody": nil, "an OAuth client's token": &client} {
		if _, err := r.svc.BeginTOTP(ctx, pr, ""); !errors.Is(err, auth.ErrForbidden) {
			t.Errorf("BeginTOTP by %s: %v, want ErrForbidden", name, err)
		}
		if _, err := r.svc.ConfirmTOTP(ctx, pr, "123456"); !errors.Is(err, auth.ErrForbidden) {
			t.Errorf("ConfirmTOTP by %s: %v, want ErrForbidden", name, err)
		}
		if _, err := r.svc.RegenerateRecoveryCodes(ctx, pr, clientIP, "password eve"); !errors.Is(err, auth.ErrForbidden) {
			t.Errorf("RegenerateRecoveryCodes by %s: %v, want ErrForbidden", name, err)
		}
	}
	if _, err := r.svc.ConfirmTOTP(ctx, p, "123456"); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("ConfirmTOTP without BeginTOTP: %v, want ErrConflict", err)
	}
	if _, err := r.svc.RegenerateRecoveryCodes(ctx, p, clientIP, "password eve"); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("recovery codes without a factor: %v, want ErrConflict", err)
	}
	r.svc.MFAKey = nil
	if _, err := r.svc.BeginTOTP(ctx, p, ""); !errors.Is(err, auth.ErrMFAKeyMissing) {
		t.Errorf("BeginTOTP without a key: %v, want ErrMFAKeyMissing", err)
	}
}

func TestMFASecretSealed(t *testing.T) {
	r := newMFARig(t)
	r.user(t, "sam", auth.RoleReader)
	g, _ := r.login(t, "sam")
	secret, _ := r.enrol(t, g)
	stored, err := r.db.TOTP(ctx, r.principal(t, g).UserID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.SecretEnc, secret) || bytes.Contains(stored.SecretEnc, []byte(auth.TOTPSecretText(secret))) {
		t.Fatal("the stored TOTP secret holds the secret in clear")
	}
	// Another key (the key file replaced) cannot use it: a login fails
	// rather than accepting anything.
	r.svc.MFAKey, _ = auth.NewMFAKey(bytes.Repeat([]byte{8}, 32))
	_, mfa := r.login(t, "sam")
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: auth.TOTPCode(secret, r.clock.Now())}); err == nil {
		t.Fatal("a code was accepted with the wrong MFA key")
	}
}

func TestMFAResetEndsSessions(t *testing.T) {
	r := newMFARig(t)
	r.user(t, "ron", auth.RoleReader)
	g, _ := r.login(t, "ron")
	secret, _ := r.enrol(t, g)
	_, mfa := r.login(t, "ron")
	g2, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: auth.TOTPCode(secret, r.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.ResetMFA(ctx, nil, "RON"); err != nil {
		t.Fatal(err)
	}
	for _, gr := range []*auth.Grant{g, g2} {
		if _, err := r.svc.Tokens.Verify(gr.AccessToken); !errors.Is(err, auth.ErrRevoked) {
			t.Errorf("access token after reset: %v, want ErrRevoked", err)
		}
		if _, err := r.svc.Refresh(ctx, gr.RefreshToken); !errors.Is(err, auth.ErrRefreshInvalid) {
			t.Errorf("refresh after reset: %v, want ErrRefreshInvalid", err)
		}
	}
	if g, mfa := r.login(t, "ron"); mfa != nil || g == nil {
		t.Fatal("after a reset the password alone does not log in")
	}
	if _, err := r.svc.ResetMFA(ctx, nil, "nobody"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("reset of no user: %v, want ErrNotFound", err)
	}
}

// Every second-factor change and login step is an audit event, and none
// holds a code or a secret.
func TestMFAAuditEvents(t *testing.T) {
	r := newAuditRig(t, nil)
	svc := r.svc
	svc.MFAKey, _ = auth.NewMFAKey(bytes.Repeat([]byte{9}, 32))
	if _, err := svc.CreateUser(ctx, "ada", adaPW, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	login := func() (*auth.Grant, *auth.MFARequiredError) {
		t.Helper()
		u, err := svc.Login(ctx, clientIP, "ada", adaPW)
		if err != nil {
			t.Fatal(err)
		}
		g, err := svc.LoginSession(ctx, auth.LoginFrom{ClientIP: clientIP}, u, false)
		var mfa *auth.MFARequiredError
		if errors.As(err, &mfa) {
			return nil, mfa
		}
		if err != nil {
			t.Fatal(err)
		}
		return g, nil
	}
	g, _ := login()
	p, err := svc.Tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.BeginTOTP(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := auth.ParseTOTPSecret(e.Secret)
	codes, err := svc.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, r.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(auth.TOTPPeriod)
	_, mfa := login()
	code := auth.TOTPCode(secret, r.clock.Now())
	svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{TOTP: wrongCode(code)})
	if _, err := svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: codes[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RegenerateRecoveryCodes(ctx, p, clientIP, adaPW); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveTOTP(ctx, p, clientIP, adaPW); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ResetMFA(auth.WithAuditInfo(ctx, auth.AuditInfo{Actor: "cli@host"}), nil, "ada"); err != nil {
		t.Fatal(err)
	}
	var kinds []auth.AuditKind
	for _, ev := range r.since(t) {
		kinds = append(kinds, ev.Kind)
		for _, s := range append([]string{e.Secret, code, wrongCode(code), mfa.Token}, codes...) {
			if strings.Contains(fmt.Sprintf("%+v", ev), s) {
				t.Errorf("event %+v holds a secret", ev)
			}
		}
		if ev.Kind == auth.AuditMFAReset && ev.Actor != "cli@host" {
			t.Errorf("reset by %q, want cli@host", ev.Actor)
		}
		if ev.Kind == auth.AuditMFAFailure && ev.Reason != "factor=totp tries=1" {
			t.Errorf("failure reason %q", ev.Reason)
		}
	}
	want := []auth.AuditKind{auth.AuditUserCreate, auth.AuditLoginSuccess, auth.AuditMFATOTPEnrol, auth.AuditMFARecoveryNew,
		auth.AuditLoginSuccess, auth.AuditMFARequired, auth.AuditMFAFailure, auth.AuditMFARecoveryUse, auth.AuditMFASuccess,
		auth.AuditLoginSuccess, auth.AuditMFARecoveryNew, auth.AuditLoginSuccess, auth.AuditMFATOTPRemove, auth.AuditMFAReset}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v,\nwant %v", kinds, want)
	}
	for _, s := range append([]string{e.Secret, code}, codes...) {
		if strings.Contains(r.logs.String(), s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// Removing TOTP and replacing the recovery codes need the account's
// password, checked as a login checks it: a missing or wrong one is
// ErrForbidden and changes nothing, and wrong ones spend the login limit.
func TestMFAChangesNeedThePassword(t *testing.T) {
	r := newMFARig(t)
	r.svc.UserNetLimit = &auth.Limiter{Every: time.Hour, Burst: 5, Now: r.clock.Now}
	r.user(t, "pat", auth.RoleReader)
	g, _ := r.login(t, "pat")
	p := r.principal(t, g)
	_, codes := r.enrol(t, g)
	unchanged := func(when string) {
		t.Helper()
		u, err := r.db.UserByID(ctx, p.UserID)
		if err != nil {
			t.Fatal(err)
		}
		st, err := r.svc.MFAStatus(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !st.TOTP || st.RecoveryLeft != auth.RecoveryCodes {
			t.Fatalf("%s: totp %v, %d recovery codes left; want the TOTP and all %d codes", when, st.TOTP, st.RecoveryLeft, auth.RecoveryCodes)
		}
	}
	client := *p
	client.Claims.ClientID = "some-client"
	for _, pw := range []string{"", "password PAT", strings.Repeat("x", auth.MaxPasswordLen+1)} {
		if err := r.svc.RemoveTOTP(ctx, p, clientIP, pw); !errors.Is(err, auth.ErrForbidden) {
			t.Errorf("RemoveTOTP with password %.12q: %v, want ErrForbidden", pw, err)
		}
		if c, err := r.svc.RegenerateRecoveryCodes(ctx, p, clientIP, pw); !errors.Is(err, auth.ErrForbidden) || c != nil {
			t.Errorf("RegenerateRecoveryCodes with password %.12q: %d codes, %v, want ErrForbidden", pw, len(c), err)
		}
		unchanged("after a refused password")
	}
	// An OAuth client's token is refused even with the right password.
	if err := r.svc.RemoveTOTP(ctx, &client, clientIP, "password pat"); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("RemoveTOTP by an OAuth client's token: %v, want ErrForbidden", err)
	}
	unchanged("after a client's token")
	// Two wrong passwords were checked (a missing or over-long one is
	// refused before): three more spend the limit of 5, and then even the
	// right one is refused.
	for range 3 {
		if err := r.svc.RemoveTOTP(ctx, p, clientIP, "wrong"); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("a wrong password: %v, want ErrForbidden", err)
		}
	}
	if err := r.svc.RemoveTOTP(ctx, p, clientIP, "password pat"); !errors.Is(err, auth.ErrRateLimited) {
		t.Fatalf("the right password after the limit: %v, want ErrRateLimited", err)
	}
	unchanged("when rate limited")
	r.clock.Advance(5 * time.Hour) // the limit refills

	fresh, err := r.svc.RegenerateRecoveryCodes(ctx, p, clientIP, "password pat")
	if err != nil || len(fresh) != auth.RecoveryCodes {
		t.Fatalf("RegenerateRecoveryCodes with the password: %d codes, %v", len(fresh), err)
	}
	_, mfa := r.login(t, "pat")
	if _, err := r.svc.LoginMFA(ctx, clientIP, mfa.Token, auth.MFAProof{RecoveryCode: codes[0]}); !errors.Is(err, auth.ErrMFACode) {
		t.Fatalf("an old code after regenerating: %v, want ErrMFACode", err)
	}
	if err := r.svc.RemoveTOTP(ctx, p, clientIP, "password pat"); err != nil {
		t.Fatalf("RemoveTOTP with the password: %v", err)
	}
	if g, mfa := r.login(t, "pat"); mfa != nil || g == nil {
		t.Fatal("after removing TOTP the password alone does not log in")
	}
}
