package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func testTokens(t *testing.T, now *time.Time, key *jwt.Key) *Tokens {
	t.Helper()
	if key == nil {
		var err error
		if key, err = jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("k", 32))); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := NewTokens(TokenConfig{SigningKey: key, Issuer: "jwtgate", Audience: "jwtgate-api", TTL: 15 * time.Minute,
		Leeway: 30 * time.Second, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokensIssueVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := testTokens(t, &now, nil)
	tok, claims, err := tk.Issue(&User{ID: 7, Name: "ada", Role: RoleEditor})
	if err != nil {
		t.Fatal(err)
	}
	u, err := jwt.DecodeUnverified(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"sub":"7"`, `"name":"ada"`, `"role":"editor"`, `"iss":"jwtgate"`, `"aud":"jwtgate-api"`, `"exp":1700000900`, `"iat":1700000000`, `"jti":"`} {
		if !strings.Contains(string(u.Payload), want) {
			t.Errorf("payload %s lacks %s", u.Payload, want)
		}
	}
	p, err := tk.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != 7 || p.Name != "ada" || p.Role != RoleEditor || p.Claims.ID != claims.ID {
		t.Fatalf("principal %+v", p)
	}
	now = now.Add(15*time.Minute + 29*time.Second) // within leeway
	if _, err := tk.Verify(tok); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	now = now.Add(2 * time.Second)
	if _, err := tk.Verify(tok); !errors.Is(err, jwt.ErrExpired) {
		t.Fatalf("after leeway: %v, want ErrExpired", err)
	}
}

func TestTokensRefuseForeignAndOddTokens(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := testTokens(t, &now, nil)
	otherKey, _ := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("o", 32)))
	other := testTokens(t, &now, otherKey)
	tok, _, _ := other.Issue(&User{ID: 1, Name: "x", Role: RoleAdmin})
	if _, err := tk.Verify(tok); !errors.Is(err, jwt.ErrSignature) {
		t.Fatalf("foreign key: %v", err)
	}
	// Right key, but a role or subject the server never issues.
	key, _ := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("k", 32)))
	for _, c := range []AccessClaims{
		{Claims: jwt.Claims{Subject: "1", Issuer: "jwtgate", Audience: jwt.Audience{"jwtgate-api"}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Name: "x", Role: "root"},
		{Claims: jwt.Claims{Subject: "abc", Issuer: "jwtgate", Audience: jwt.Audience{"jwtgate-api"}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Name: "x", Role: RoleAdmin},
		{Claims: jwt.Claims{Subject: "1", Issuer: "evil", Audience: jwt.Audience{"jwtgate-api"}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Name: "x", Role: RoleAdmin},
		{Claims: jwt.Claims{Subject: "1", Issuer: "jwtgate", Audience: jwt.Audience{"other"}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Name: "x", Role: RoleAdmin},
	} {
		tok, err := jwt.Sign(key, &c)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := tk.Verify(tok); err == nil {
			t.Errorf("accepted %+v as %+v", c, p)
		}
	}
}

func TestAccessClaimsJSONMatchesEncodingJSON(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := testTokens(t, &now, nil)
	_, c, _ := tk.Issue(&User{ID: 9, Name: `quote" <b>`, Role: RoleReader})
	got := c.AppendJSON(nil)
	want, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("AppendJSON %s\nencoding/json %s", got, want)
	}
}
