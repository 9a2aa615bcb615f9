package jwt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serverClaims mirrors what the jwtgate server puts in access tokens.
type serverClaims struct {
	Claims
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
}

func (c *serverClaims) DecodeClaim(name string, v Value) error {
	var err error
	switch name {
	case "name":
		c.Name, err = v.String()
	case "role":
		c.Role, err = v.String()
	}
	return err
}

func (c *serverClaims) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst, comma := c.Claims.AppendMembers(dst, false)
	if c.Name != "" {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"name":`...)
		dst = AppendJSONString(dst, c.Name)
		comma = true
	}
	if c.Role != "" {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"role":`...)
		dst = AppendJSONString(dst, c.Role)
	}
	return append(dst, '}')
}

var testNow = time.Unix(1_700_000_000, 0)

func testClaims() *serverClaims {
	return &serverClaims{
		Claims: Claims{
			Issuer:    "https://auth.example",
			Subject:   "42",
			Audience:  Audience{"api"},
			ExpiresAt: NewNumericDate(testNow.Add(15 * time.Minute)),
			IssuedAt:  NewNumericDate(testNow),
			ID:        "b2f1c7",
		},
		Name: "Ada Lovelace",
		Role: "editor",
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	cases := []*serverClaims{
		testClaims(),
		{},
		{Claims: Claims{Audience: Audience{"a", "b"}, NotBefore: NumericDate{time.Unix(5, 250_000_000)}}},
		{Role: "x", Name: "ada <admin> & \"co\"\u2028\u00e9\x01"},
	}
	for i, c := range cases {
		got := c.AppendJSON(nil)
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestNumericDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1300819380", time.Unix(1300819380, 0), true},
		{"1300819380.5", time.Unix(1300819380, 5e8), true},
		{"1.30081938e9", time.Unix(1300819380, 0), true},
		{"0", time.Unix(0, 0), true},
		{"253402300799", time.Unix(253402300799, 0), true},
		{"253402300800", time.Time{}, false},
		{"-1", time.Time{}, false},
		{"1e300", time.Time{}, false},
		{`"1300819380"`, time.Time{}, false},
		{"null", time.Time{}, false},
		{"01", time.Time{}, false},
	} {
		var d NumericDate
		err := json.Unmarshal([]byte(tc.in), &d)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && !d.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.in, d.Time, tc.want)
		}
		if !tc.ok && !errors.Is(err, ErrMalformed) && err != nil {
			var se *json.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: error %v is neither ErrMalformed nor a syntax error", tc.in, err)
			}
		}
		if tc.ok {
			out, _ := json.Marshal(d)
			var back NumericDate
			if err := json.Unmarshal(out, &back); err != nil || !back.Equal(d.Time) {
				t.Errorf("%s: round trip %s gave %v, %v", tc.in, out, back.Time, err)
			}
		}
	}
}

func TestVerifyFastPathsAgreeWithEncodingJSON(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	in := testClaims()
	in.Audience = Audience{"api", "other"}
	in.Name = "Ada \"the Countess\" <Lovelace> \u00e9"
	tok, err := Sign(k, in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier([]*Key{k}, WithClock(func() time.Time { return testNow }), WithIssuer("https://auth.example"), WithAudience("other"))
	if err != nil {
		t.Fatal(err)
	}
	var fast serverClaims
	if err := v.Verify(tok, &fast); err != nil {
		t.Fatal(err)
	}
	var slow struct {
		Claims
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := v.Verify(tok, &slow); err != nil {
		t.Fatal(err)
	}
	var reg Claims
	if err := v.Verify(tok, &reg); err != nil {
		t.Fatal(err)
	}
	for _, got := range []Claims{fast.Claims, slow.Claims, reg} {
		if got.Issuer != in.Issuer || got.Subject != in.Subject || got.ID != in.ID ||
			!got.ExpiresAt.Equal(in.ExpiresAt.Time) || !got.IssuedAt.Equal(in.IssuedAt.Time) ||
			len(got.Audience) != 2 || got.Audience[1] != "other" {
			t.Errorf("claims differ: got %+v want %+v", got, in.Claims)
		}
	}
	if fast.Name != in.Name || slow.Name != in.Name || fast.Role != "editor" {
		t.Errorf("custom claims: fast %q/%q slow %q", fast.Name, fast.Role, slow.Name)
	}
}

func TestVerifyLeavesClaimsUntouchedOnFailure(t *testing.T) {
	k, _ := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	tok, _ := Sign(k, testClaims())
	v, _ := NewVerifier([]*Key{k}, WithClock(func() time.Time { return testNow.Add(time.Hour) }))
	got := serverClaims{Role: "unchanged"}
	if err := v.Verify(tok, &got); !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if got.Role != "unchanged" || got.Subject != "" {
		t.Fatalf("claims written on failure: %+v", got)
	}
}

func TestVerifyServerClaimsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	k, _ := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	tok, _ := Sign(k, testClaims())
	v, _ := NewVerifier([]*Key{k}, WithClock(func() time.Time { return testNow }), WithIssuer("https://auth.example"), WithAudience("api"))
	var c serverClaims
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.Verify(tok, &c); err != nil {
			t.Fatal(err)
		}
	})
	// The text all claim strings are cut from, and the audience's array
	// (one of its own, so that no copy of the claims shares it).
	if allocs > 2 {
		t.Errorf("Verify into a ClaimDecoder allocates %.0f times, want at most 2", allocs)
	}
	signAllocs := testing.AllocsPerRun(100, func() {
		if _, err := Sign(k, &c); err != nil {
			t.Fatal(err)
		}
	})
	if signAllocs > 2 {
		t.Errorf("Sign allocates %.0f times, want at most 2", signAllocs)
	}
}

// The base64 decoder skips CR and LF; a token must not.
func TestLineBreaksRefused(t *testing.T) {
	k, _ := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	tok, _ := Sign(k, testClaims())
	v, _ := NewVerifier([]*Key{k}, WithClock(func() time.Time { return testNow }))
	if err := v.Verify(tok, nil); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 5, 36, 40, 50, len(tok) - 3} {
		for _, c := range []string{"\n", "\r", "\r\n", "\n\n\n"} {
			bad := tok[:i] + c + tok[i:]
			if err := v.Verify(bad, nil); !errors.Is(err, ErrMalformed) {
				t.Errorf("line break %q at %d: err = %v, want ErrMalformed", c, i, err)
			}
		}
	}
}

func TestSignRawMessageKeptAsGiven(t *testing.T) {
	k, _ := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	tok, err := Sign(k, json.RawMessage(`{ "b": "<x> & y", "a" : [1, 2] }`))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := DecodeUnverified(tok)
	if want := `{"b":"<x> & y","a":[1,2]}`; string(u.Payload) != want {
		t.Fatalf("payload %s, want %s", u.Payload, want)
	}
	for _, bad := range []string{`[1]`, `{"a":1} x`, `{`} {
		if _, err := Sign(k, json.RawMessage(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Sign(%s): %v, want ErrMalformed", bad, err)
		}
	}
}

// TestEightDigits checks the SWAR digit test against a byte loop for every
// byte value in every position, and the parse against strconv.
func TestEightDigits(t *testing.T) {
	base := []byte("12345678")
	for pos := range 8 {
		for c := range 256 {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			want := true
			for _, d := range b {
				want = want && '0' <= d && d <= '9'
			}
			x := binary.LittleEndian.Uint64(b)
			if got := allDigits8(x); got != want {
				t.Fatalf("allDigits8(%q) = %v", b, got)
			}
			if want {
				n, _ := strconv.ParseInt(string(b), 10, 64)
				if got := parse8Digits(x); got != n {
					t.Fatalf("parse8Digits(%q) = %d", b, got)
				}
			}
		}
	}
	for _, s := range []string{"00000000", "99999999", "17000000", "90000009"} {
		n, _ := strconv.ParseInt(s, 10, 64)
		if got := parse8Digits(binary.LittleEndian.Uint64([]byte(s))); got != n {
			t.Fatalf("parse8Digits(%q) = %d", s, got)
		}
	}
}

// TestInstantOf checks the integer time shift against time.Time.Add,
// across second boundaries both ways.
func TestInstantOf(t *testing.T) {
	for _, base := range []time.Time{testNow, testNow.Add(999_999_999), testNow.Add(1), time.Unix(0, 0)} {
		for _, d := range []time.Duration{0, 1, -1, time.Second, -time.Second, 1500 * time.Millisecond, -1500 * time.Millisecond, 999_999_999, -999_999_999, time.Minute + 7} {
			want := base.Add(d)
			if got := instantOf(base).add(d); got.sec != want.Unix() || got.nsec != int64(want.Nanosecond()) {
				t.Errorf("instantOf(%v).add(%v) = %+v, want %d.%09d", base, d, got, want.Unix(), want.Nanosecond())
			}
		}
	}
}

// appClaims is what the package doc recommends: Claims embedded in an
// application's own struct, with no methods of its own.
type appClaims struct {
	Claims
	Role   string   `json:"role"`
	Scopes []string `json:"scopes,omitempty"`
	Admin  bool     `json:"admin"`
}

// appClaimsPtr embeds *Claims instead.
type appClaimsPtr struct {
	*Claims
	Role string `json:"role"`
}

func TestSignEncodesEveryFieldOfEmbeddingStruct(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	reg := testClaims().Claims
	reg.Audience = Audience{"api", "web"}
	v, err := NewVerifier([]*Key{k}, WithClock(func() time.Time { return testNow }), WithIssuer(reg.Issuer), WithAudience("api"))
	if err != nil {
		t.Fatal(err)
	}
	app := appClaims{Claims: reg, Role: "admin", Scopes: []string{"read", "write"}, Admin: true}
	appPtr := appClaimsPtr{Claims: &reg, Role: "admin"}
	cases := []struct {
		name   string
		claims any
		into   func() any    // a fresh value to verify into
		got    func(any) any // what to compare with the signed value
	}{
		{"pointer", &app, func() any { return new(appClaims) }, func(x any) any { return *x.(*appClaims) }},
		{"value", app, func() any { return new(appClaims) }, func(x any) any { return *x.(*appClaims) }},
		{"embedded pointer", &appPtr, func() any { return new(appClaimsPtr) }, func(x any) any { return *x.(*appClaimsPtr) }},
		{"embedded pointer, value", appPtr, func() any { return new(appClaimsPtr) }, func(x any) any { return *x.(*appClaimsPtr) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Sign(k, tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			u, err := DecodeUnverified(tok)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			if string(u.Payload) != string(want) {
				t.Fatalf("payload %s\nwant    %s", u.Payload, want)
			}
			into := tc.into()
			if err := v.Verify(tok, into); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(tc.got(into))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("verified into %s\nwant         %s", got, want)
			}
		})
	}
}

// Claims on its own, by pointer or value, encodes as encoding/json would.
func TestSignRegisteredClaims(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	c := testClaims().Claims
	c.NotBefore = NumericDate{time.Unix(5, 250_000_000)}
	want, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, claims := range []any{c, &c} {
		tok, err := Sign(k, claims)
		if err != nil {
			t.Fatal(err)
		}
		u, err := DecodeUnverified(tok)
		if err != nil {
			t.Fatal(err)
		}
		if string(u.Payload) != string(want) {
			t.Errorf("%T: payload %s\nwant %s", claims, u.Payload, want)
		}
	}
	if _, err := Sign(k, (*Claims)(nil)); !errors.Is(err, ErrMalformed) {
		t.Errorf("Sign(nil *Claims): err = %v, want ErrMalformed", err)
	}
}

// A copy of verified claims is the caller's: verifying another token into
// the same variable must not change it.
func TestVerifiedClaimsCopyKeepsItsAudience(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	clock := WithClock(func() time.Time { return testNow })
	anyAud, err := NewVerifier([]*Key{k}, clock)
	if err != nil {
		t.Fatal(err)
	}
	token := func(aud ...string) string {
		c := testClaims()
		c.Audience = aud
		tok, err := Sign(k, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	verifierFor := func(aud string) *Verifier {
		v, err := NewVerifier([]*Key{k}, clock, WithAudience(aud))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name        string
		first, then *Verifier
		aud1, aud2  []string
	}{
		{"no audience required", anyAud, anyAud, []string{"api"}, []string{"web"}},
		{"audience required", verifierFor("api"), verifierFor("web"), []string{"api"}, []string{"web"}},
		{"escaped", anyAud, anyAud, []string{"a<p>i"}, []string{"web"}},
		{"list then single", anyAud, anyAud, []string{"api", "x"}, []string{"web"}},
		{"single then list", anyAud, anyAud, []string{"api"}, []string{"web", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first, then := token(tc.aud1...), token(tc.aud2...)
			var c Claims
			if err := tc.first.Verify(first, &c); err != nil {
				t.Fatal(err)
			}
			saved := c
			if err := tc.then.Verify(then, &c); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual([]string(saved.Audience), tc.aud1) || !reflect.DeepEqual([]string(c.Audience), tc.aud2) {
				t.Errorf("Claims: copy has aud %q, want %q; variable has %q", saved.Audience, tc.aud1, c.Audience)
			}

			var s serverClaims
			if err := tc.first.Verify(first, &s); err != nil {
				t.Fatal(err)
			}
			savedS := s
			if err := tc.then.Verify(then, &s); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual([]string(savedS.Audience), tc.aud1) {
				t.Errorf("ClaimDecoder: copy has aud %q, want %q", savedS.Audience, tc.aud1)
			}
		})
	}
}

// sentinels are every sentinel error of the package.
var sentinels = []error{ErrMalformed, ErrTooLarge, ErrUnsupportedAlgorithm, ErrAlgorithmMismatch, ErrKeyNotFound,
	ErrSignature, ErrCritical, ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrMissingExp, ErrIssuer,
	ErrAudience, ErrWeakKey, ErrInvalidKey}

// Verifying into something that cannot be written is the caller's bug,
// whatever the token: never an error a server would answer 401 to.
func TestVerifyIntoInvalidTarget(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier([]*Key{k}, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := Sign(k, testClaims())
	if err != nil {
		t.Fatal(err)
	}
	expired := testClaims()
	expired.ExpiresAt = NewNumericDate(testNow.Add(-time.Hour))
	tokens := map[string]string{"valid": valid, "expired": rfcOK(Sign(k, expired)), "garbage": "not.a.token"}
	var m map[string]any
	targets := []struct {
		name   string
		target any
	}{
		{"Claims value", Claims{}},
		{"nil *Claims", (*Claims)(nil)},
		{"struct value", serverClaims{}},
		{"nil ClaimDecoder", (*serverClaims)(nil)},
		{"map value", m},
		{"nil *map", (*map[string]any)(nil)},
		{"int", 5},
		{"string", "claims"},
		{"nil struct pointer", (*appClaims)(nil)},
	}
	for _, tc := range targets {
		for name, tok := range tokens {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				err := v.Verify(tok, tc.target)
				var ite *InvalidTargetError
				if !errors.As(err, &ite) {
					t.Fatalf("err = %v (%T), want *InvalidTargetError", err, err)
				}
				for _, s := range sentinels {
					if errors.Is(err, s) {
						t.Errorf("err %v matches %v", err, s)
					}
				}
				if !strings.Contains(err.Error(), "pointer") {
					t.Errorf("message %q does not say what is wanted", err)
				}
			})
		}
	}
	u, err := DecodeUnverified(valid)
	if err != nil {
		t.Fatal(err)
	}
	var ite *InvalidTargetError
	if err := u.Claims(Claims{}); !errors.As(err, &ite) || errors.Is(err, ErrMalformed) {
		t.Errorf("Unverified.Claims(non-pointer): err = %v, want *InvalidTargetError", err)
	}
	// What may be written still works.
	for _, target := range []any{nil, new(Claims), new(serverClaims), new(map[string]any), new(json.RawMessage), new(appClaims)} {
		if err := v.Verify(valid, target); err != nil {
			t.Errorf("Verify into %T: %v", target, err)
		}
	}
}
