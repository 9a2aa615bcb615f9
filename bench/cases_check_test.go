package bench

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// checkVerifyCases runs each case once on the good token, checks what it
// decoded, and checks that the non-floor cases refuse bad tokens, so that
// every library is measured doing the same work.
func checkVerifyCases(t *testing.T, k *jwt.Key, cases []verifyCase) {
	good := signGate(t, k, nil)
	bad := map[string]string{
		"wrong issuer":   signGate(t, k, func(c *gateClaims) { c.Issuer = "https://evil.example" }),
		"wrong audience": signGate(t, k, func(c *gateClaims) { c.Audience = jwt.Audience{"other"} }),
		"expired":        signGate(t, k, func(c *gateClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }),
		"no exp":         signGate(t, k, func(c *gateClaims) { c.ExpiresAt = jwt.NumericDate{} }),
		"bad signature":  tamper(good),
	}
	for _, vc := range cases {
		t.Run(vc.name, func(t *testing.T) {
			run, got := vc.setup(t, good)
			for range 2 { // the second run reuses everything the first set up
				if err := run(); err != nil {
					t.Fatalf("good token refused: %v", err)
				}
				if g := got(); vc.decodes && g != want {
					t.Fatalf("decoded\n%+v\nwant\n%+v", g, want)
				}
			}
			for why, tok := range bad {
				if vc.floor && why != "bad signature" {
					continue
				}
				if vc.name == "floor-hmac" {
					continue // computes the MAC only, by definition
				}
				run, _ := vc.setup(t, tok)
				if err := run(); err == nil {
					t.Errorf("%s: accepted", why)
				}
			}
		})
	}
}

// tamper changes a signature character away from the end, where a
// lenient base64 decoder could not ignore it.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestVerifyHS256Cases(t *testing.T) { checkVerifyCases(t, keys().hs, hsVerifyCases) }

func TestVerifyAsymCases(t *testing.T) {
	for _, alg := range []jwt.Algorithm{jwt.EdDSA, jwt.ES256, jwt.RS256} {
		t.Run(string(alg), func(t *testing.T) { checkVerifyCases(t, keys().gate[alg], asymVerifyCases(alg)) })
	}
}

// TestSignCases: every library's token verifies with jwtgate (iss, aud,
// exp checked) and carries exactly the shared claims.
func TestSignCases(t *testing.T) {
	v := gateVerifier(t, keys().hs)
	for _, sc := range hsSignCases {
		t.Run(sc.name, func(t *testing.T) {
			run, token := sc.setup(t)
			for range 2 {
				if err := run(); err != nil {
					t.Fatal(err)
				}
				var gc gateClaims // aud may come as a string or a one-element array
				if err := v.Verify(token(), &gc); err != nil {
					t.Fatalf("jwtgate refuses %s: %v", token(), err)
				}
				if plainOf(&gc) != want {
					t.Fatalf("decoded\n%+v\nwant\n%+v", plainOf(&gc), want)
				}
			}
		})
	}
}
