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
	tok, claims, err := tk.Issue(&User{ID: 7, Name: "ada", Role: RoleEditor}, "")
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
	tok, _, _ := other.Issue(&User{ID: 1, Name: "x", Role: RoleAdmin}, "")
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
	_, c, _ := tk.Issue(&User{ID: 9, Name: `quote" <b>`, Role: RoleReader}, "")
	got := c.AppendJSON(nil)
	want, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("AppendJSON %s\nencoding/json %s", got, want)
	}
}

func TestTokensCacheNeverWidensAcceptance(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	oldKey, _ := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("o", 32)))
	oldKey = oldKey.WithKeyID("old")
	tk := testTokens(t, &now, oldKey)
	tok, claims, err := tk.Issue(&User{ID: 3, Name: "bo", Role: RoleReader}, "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call is answered from the cache
		p, err := tk.Verify(tok)
		if err != nil || p.Claims.SessionID != "sess-1" {
			t.Fatalf("verify: %v %+v", err, p)
		}
	}
	// A token differing in its last character is not the cached one.
	last := tok[len(tok)-1]
	tampered := tok[:len(tok)-1] + string("AB"[(last-'A'+1)%2])
	if _, err := tk.Verify(tampered); err == nil {
		t.Fatal("tampered token accepted")
	}
	// Revoking its jti or its session refuses the cached token.
	tk.Revocations().Add(now, Revocation{ID: claims.ID, Until: now.Add(time.Hour)})
	if _, err := tk.Verify(tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked jti: %v", err)
	}
	tok2, _, _ := tk.Issue(&User{ID: 3, Name: "bo", Role: RoleReader}, "sess-1")
	tk.Verify(tok2)
	tk.Revocations().Add(now, Revocation{ID: "sess-1", Until: now.Add(time.Hour)})
	if _, err := tk.Verify(tok2); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked session: %v", err)
	}
	// A clock set back before iat makes the cached token not yet valid.
	tok3, _, _ := tk.Issue(&User{ID: 4, Name: "cy", Role: RoleReader}, "")
	tk.Verify(tok3)
	saved := now
	now = now.Add(-time.Minute)
	if _, err := tk.Verify(tok3); err == nil {
		t.Fatal("token accepted before its iat (minus leeway)")
	}
	now = saved
	// Dropping the key refuses tokens verified with it before.
	newKey, _ := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("n", 32)))
	if err := tk.SetKeys(newKey.WithKeyID("new"), []*jwt.Key{oldKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(tok3); err != nil {
		t.Fatalf("old key still in the set: %v", err)
	}
	if err := tk.SetKeys(newKey.WithKeyID("new"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(tok3); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("old key dropped: %v, want ErrKeyNotFound", err)
	}
}

func TestTokensCacheCollisions(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := testTokens(t, &now, nil)
	var toks []string
	for i := range 3 * cacheSlots {
		tok, _, err := tk.Issue(&User{ID: int64(i + 1), Name: "u", Role: RoleReader}, "")
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	for round := range 2 {
		for i, tok := range toks {
			p, err := tk.Verify(tok)
			if err != nil || p.UserID != int64(i+1) {
				t.Fatalf("round %d token %d: %v %+v", round, i, err, p)
			}
		}
	}
}

func TestRevocationsExpire(t *testing.T) {
	var r Revocations
	now := time.Unix(1_700_000_000, 0)
	if n := r.Add(now, Revocation{ID: "a", Until: now.Add(time.Minute)}, Revocation{ID: "b", Until: now.Add(time.Hour)}, Revocation{ID: "old", Until: now}); n != 2 {
		t.Fatalf("added %d, want 2", n)
	}
	if !r.Has("a") || !r.Has("b") || r.Has("old") || r.Has("") {
		t.Fatal("membership wrong")
	}
	r.Add(now.Add(2 * time.Minute)) // a later add drops what ended
	if r.Has("a") || !r.Has("b") || r.Len() != 1 {
		t.Fatalf("after expiry: a=%v b=%v len=%d", r.Has("a"), r.Has("b"), r.Len())
	}
}

// matches is what stands between a cached verification and a forged
// token that lands in the same slot: any difference, in the claims or in
// the signature, must fail it.
func TestCacheEntryMatches(t *testing.T) {
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz"
	e := &cacheEntry{token: tok, sigAt: strings.LastIndexByte(tok, '.') + 1}
	if !e.matches(tok) {
		t.Fatal("the cached token itself does not match")
	}
	for i := range tok {
		forged := []byte(tok)
		forged[i] ^= 1
		if e.matches(string(forged)) {
			t.Errorf("token changed at byte %d matches", i)
		}
	}
	for _, other := range []string{"", tok[:len(tok)-1], tok + "A", "A" + tok[1:] + "A"} {
		if e.matches(other) {
			t.Errorf("%q matches", other)
		}
	}
}

// A token signed with a key another instance rotated to is accepted on
// its first use when the unknown-key hook loads the new keys, and still
// refused when the hook finds nothing new.
func TestTokensUnknownKeyReloadsThenVerifies(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	oldKey, err := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("o", 32)))
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := jwt.NewHMACKey(jwt.HS256, []byte(strings.Repeat("n", 32)))
	if err != nil {
		t.Fatal(err)
	}
	oldKey, newKey = oldKey.WithKeyID("old"), newKey.WithKeyID("new")
	a, b := testTokens(t, &now, newKey), testTokens(t, &now, oldKey)
	tok, _, err := a.Issue(&User{ID: 3, Name: "mia", Role: RoleReader}, "")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	b.OnUnknownKey(func() { calls++ }) // nothing new to load
	if _, err := b.Verify(tok); !errors.Is(err, jwt.ErrKeyNotFound) || calls != 1 {
		t.Fatalf("no new keys: %v after %d calls, want ErrKeyNotFound after 1", err, calls)
	}
	b.OnUnknownKey(func() {
		calls++
		if err := b.SetKeys(newKey, []*jwt.Key{oldKey}); err != nil {
			t.Error(err)
		}
	})
	p, err := b.Verify(tok)
	if err != nil || calls != 2 || p.Name != "mia" {
		t.Fatalf("after the reload: %v, %+v, %d calls", err, p, calls)
	}
	if _, err := b.Verify(tok); err != nil || calls != 2 {
		t.Fatalf("second use: %v after %d calls, want no new call", err, calls)
	}
}
