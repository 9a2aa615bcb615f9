package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// StoredKey is a signing key kept by a KeyStore, as a private JWK. The
// newest key is the active one; older keys verify tokens until RetireAt.
type StoredKey struct {
	ID        string // kid: the RFC 7638 thumbprint
	JWK       []byte // private JWK: it never leaves the server
	CreatedAt time.Time
	RetireAt  time.Time // zero for the active key
}

// KeyStore keeps the server's signing keys, shared by every instance on
// the same database. Implementations return errors wrapping ErrConflict or
// ErrUnavailable.
type KeyStore interface {
	// SigningKeys returns every stored key, retired or not.
	SigningKeys(ctx context.Context) ([]StoredKey, error)
	// AddSigningKey stores k as the new active key and gives every key
	// without a RetireAt the time retireOthers, atomically. With
	// onlyIfNone set it stores nothing (and returns ErrConflict) when a key
	// exists already, so that instances starting together agree on one.
	AddSigningKey(ctx context.Context, k StoredKey, retireOthers time.Time, onlyIfNone bool) error
}

// KeySet is the keys in force at one moment: the one that signs and every
// one that verifies (the signing key first).
type KeySet struct {
	Signing *jwt.Key
	Verify  []*jwt.Key
	// SigningCreated is when the signing key was made; zero when unknown
	// (a key from a file).
	SigningCreated time.Time
	// NextChange is when a verify-only key retires (zero if none will):
	// the set must be rebuilt then.
	NextChange time.Time
}

// BuildKeySet turns stored keys into the set in force at now: the key
// without a RetireAt (else the newest) signs, keys with RetireAt after now verify, the rest are ignored.
func BuildKeySet(stored []StoredKey, now time.Time) (*KeySet, error) {
	live := make([]StoredKey, 0, len(stored))
	for _, k := range stored {
		if k.RetireAt.IsZero() || k.RetireAt.After(now) {
			live = append(live, k)
		}
	}
	if len(live) == 0 {
		return nil, fmt.Errorf("%w: no signing key stored", ErrNotFound)
	}
	sort.SliceStable(live, func(i, j int) bool {
		// AddSigningKey retires every other key as it adds one, so the key
		// without RetireAt is the newest even within one clock tick.
		if ai, aj := live[i].RetireAt.IsZero(), live[j].RetireAt.IsZero(); ai != aj {
			return ai
		}
		if !live[i].CreatedAt.Equal(live[j].CreatedAt) {
			return live[i].CreatedAt.After(live[j].CreatedAt)
		}
		return live[i].ID > live[j].ID
	})
	ks := &KeySet{}
	for i, sk := range live {
		k, err := jwt.ParseJWK(sk.JWK)
		if err != nil {
			return nil, fmt.Errorf("stored key %s: %w", sk.ID, err)
		}
		k = k.WithKeyID(sk.ID)
		if i == 0 {
			if !k.CanSign() {
				return nil, fmt.Errorf("stored key %s holds no private key", sk.ID)
			}
			ks.Signing = k
			ks.SigningCreated = sk.CreatedAt
		}
		ks.Verify = append(ks.Verify, k)
		if !sk.RetireAt.IsZero() && (ks.NextChange.IsZero() || sk.RetireAt.Before(ks.NextChange)) {
			ks.NextChange = sk.RetireAt
		}
	}
	return ks, nil
}

// NewStoredKey generates a key for alg, named by its thumbprint.
func NewStoredKey(alg jwt.Algorithm, now time.Time) (StoredKey, error) {
	k, err := jwt.GenerateKey(alg)
	if err != nil {
		return StoredKey{}, err
	}
	return StoredKeyFrom(k, now)
}

// StoredKeyFrom wraps an existing private key (from a file being imported,
// say) for a KeyStore.
func StoredKeyFrom(k *jwt.Key, now time.Time) (StoredKey, error) {
	kid, err := k.Thumbprint()
	if err != nil {
		return StoredKey{}, err
	}
	data, err := k.WithKeyID(kid).MarshalPrivateJWK()
	if err != nil {
		return StoredKey{}, err
	}
	return StoredKey{ID: kid, JWK: data, CreatedAt: now}, nil
}

// EnsureSigningKey makes sure the store holds a key, creating one with
// make when it holds none; several instances may race here and all end up
// with the same key.
func EnsureSigningKey(ctx context.Context, ks KeyStore, now time.Time, make func() (StoredKey, error)) (created bool, err error) {
	keys, err := ks.SigningKeys(ctx)
	if err != nil {
		return false, err
	}
	if len(keys) > 0 {
		return false, nil
	}
	k, err := make()
	if err != nil {
		return false, err
	}
	err = ks.AddSigningKey(ctx, k, time.Time{}, true)
	if errors.Is(err, ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// RotateSigningKey makes a new active key for alg; the keys in use so far
// keep verifying tokens for grace, which should be at least the longest
// access-token lifetime plus the leeway.
func RotateSigningKey(ctx context.Context, ks KeyStore, alg jwt.Algorithm, grace time.Duration, now time.Time) (StoredKey, error) {
	if grace < 0 {
		return StoredKey{}, fmt.Errorf("%w: grace period must not be negative", ErrInvalid)
	}
	k, err := NewStoredKey(alg, now)
	if err != nil {
		return StoredKey{}, err
	}
	if err := ks.AddSigningKey(ctx, k, now.Add(grace), false); err != nil {
		return StoredKey{}, err
	}
	return k, nil
}

// RotateKey is RotateSigningKey on the Service's Store at its time,
// recorded in the audit trail with the context's actor (WithAuditInfo).
func (s *Service) RotateKey(ctx context.Context, alg jwt.Algorithm, grace time.Duration) (StoredKey, error) {
	k, err := RotateSigningKey(ctx, s.Store, alg, grace, s.now())
	if err != nil {
		return StoredKey{}, err
	}
	s.audit(ctx, AuditEvent{Kind: AuditKeyRotate, Actor: auditInfo(ctx).Actor, KeyID: k.ID, Reason: fmt.Sprintf("alg=%s grace=%s", alg, grace)})
	return k, nil
}
