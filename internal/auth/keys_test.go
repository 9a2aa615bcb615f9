package auth

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

func TestBuildKeySet(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	mk := func(alg jwt.Algorithm, created time.Time) StoredKey {
		t.Helper()
		k, err := NewStoredKey(alg, created)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	old, mid, cur := mk(jwt.HS256, now.Add(-2*time.Hour)), mk(jwt.ES256, now.Add(-time.Hour)), mk(jwt.EdDSA, now.Add(-time.Minute))
	old.RetireAt = now.Add(-time.Second) // grace over
	mid.RetireAt = now.Add(time.Minute)
	// The key without RetireAt signs, even if another was created in the
	// same instant.
	cur.CreatedAt = mid.CreatedAt
	ks, err := BuildKeySet([]StoredKey{old, mid, cur}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ks.Signing.KeyID() != cur.ID || ks.Signing.Algorithm() != jwt.EdDSA {
		t.Fatalf("signing %s %s", ks.Signing.KeyID(), ks.Signing.Algorithm())
	}
	if len(ks.Verify) != 2 || ks.Verify[1].KeyID() != mid.ID || !ks.NextChange.Equal(mid.RetireAt) {
		t.Fatalf("verify %d keys, next change %v", len(ks.Verify), ks.NextChange)
	}
	// After mid's grace period only cur is left.
	ks, err = BuildKeySet([]StoredKey{old, mid, cur}, mid.RetireAt)
	if err != nil || len(ks.Verify) != 1 || !ks.NextChange.IsZero() {
		t.Fatalf("after grace: %v %+v", err, ks)
	}
	if _, err := BuildKeySet([]StoredKey{old}, now); err == nil {
		t.Fatal("a set of only retired keys was accepted")
	}
	pub := mk(jwt.EdDSA, now)
	k, _ := jwt.ParseJWK(pub.JWK)
	pub.JWK, _ = k.Public().MarshalPublicJWK()
	if _, err := BuildKeySet([]StoredKey{pub}, now); err == nil {
		t.Fatal("a public key was accepted as the signing key")
	}
}
