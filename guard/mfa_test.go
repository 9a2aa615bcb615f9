package guard_test

import (
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/jwt"
)

func TestSecondFactorRequirements(t *testing.T) {
	clk := newClock()
	secret := make([]byte, 32)
	rand.Read(secret)
	k, err := jwt.NewHMACKey(jwt.HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	g := newGuard(t, guard.Config{Keys: []*jwt.Key{k}, Now: clk.Now})
	amr := func(acr string, methods ...string) func(*guard.Claims) {
		return func(c *guard.Claims) { c.AMR, c.ACR = methods, acr }
	}
	pwd := token(t, k, clk.Now(), "admin", amr("", "pwd"))
	otp := token(t, k, clk.Now(), "admin", amr(guard.ACRMFA, "pwd", "otp"))
	recovery := token(t, k, clk.Now(), "admin", amr(guard.ACRMFA, "pwd", "mfa"))
	passkey := token(t, k, clk.Now(), "reader", amr(guard.ACRMFA, "hwk"))
	for _, tc := range []struct {
		name  string
		h     http.Handler
		token string
		ok    bool
	}{
		{"MFA, password only", g.RequireMFA(echo), pwd, false},
		{"MFA, TOTP", g.RequireMFA(echo), otp, true},
		{"MFA, recovery code", g.RequireMFA(echo), recovery, true},
		{"MFA, passkey", g.RequireMFA(echo), passkey, true},
		{"admin and MFA, password only", g.RequireRole("admin", g.RequireMFA(echo)), pwd, false},
		{"admin and MFA, TOTP", g.RequireRole("admin", g.RequireMFA(echo)), otp, true},
		{"admin and MFA, reader with passkey", g.RequireRole("admin", g.RequireMFA(echo)), passkey, false},
		{"otp, TOTP", g.RequireAMR(echo, "otp"), otp, true},
		{"otp, recovery code", g.RequireAMR(echo, "otp"), recovery, false},
		{"pwd+hwk, passkey alone", g.RequireAMR(echo, "pwd", "hwk"), passkey, false},
		{"hwk, passkey", g.RequireAMR(echo, "hwk"), passkey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.h, "GET", tc.token)
			if tc.ok && r.code != 200 {
				t.Fatalf("refused: %d %s", r.code, r.body)
			}
			if !tc.ok && r.code == 200 {
				t.Fatal("admitted")
			}
		})
	}
	// Alone, RequireMFA verifies the token itself.
	do(t, g.RequireMFA(echo), "GET", "").wantCode(t, 401, "token_missing")
	do(t, g.RequireMFA(echo), "GET", pwd).wantCode(t, 403, "mfa_required")
	defer func() {
		if recover() == nil {
			t.Error("RequireAMR without methods did not panic")
		}
	}()
	g.RequireAMR(echo)
}

// A token that may only enrol a second factor reaches no handler.
func TestEnrolmentOnlyTokensRefused(t *testing.T) {
	clk := newClock()
	secret := make([]byte, 32)
	rand.Read(secret)
	k, err := jwt.NewHMACKey(jwt.HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	g := newGuard(t, guard.Config{Keys: []*jwt.Key{k}, Now: clk.Now})
	enrol := token(t, k, clk.Now(), "admin", func(c *guard.Claims) { c.AMR, c.MFAEnroll = []string{"pwd"}, true })
	for name, h := range map[string]http.Handler{"Require": g.Require(echo), "RequireRole": g.RequireRole("reader", echo)} {
		r := do(t, h, "GET", enrol)
		if r.code != 403 || r.problem["code"] != "mfa_enrollment_required" {
			t.Errorf("%s: %d %s, want 403 mfa_enrollment_required", name, r.code, r.body)
		}
	}
	c, err := g.Verify(t.Context(), enrol)
	if err != nil || !c.MFAEnroll || !c.HasAMR("pwd") {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
}
