package storetest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Second factors: every store is also an auth.MFAStore.
//   - A pending TOTP enrolment is replaced by PutTOTP, a confirmed one is
//     not (ErrConflict); ConfirmTOTP needs the pending secret it read.
//   - UseTOTPStep, UseRecoveryCode and UseMFAChallenge succeed once, even
//     concurrently: a code or an mfa_token is never accepted twice.
//   - ResetMFA removes every factor and challenge of the user and ends
//     their sessions in one transaction.
//   - Sessions and authorization codes keep their amr.

func mfaStore(t *testing.T, s auth.Store) auth.MFAStore {
	t.Helper()
	ms, ok := s.(auth.MFAStore)
	if !ok {
		t.Fatalf("%T is not an auth.MFAStore", s)
	}
	return ms
}

func testMFATOTP(t *testing.T, s auth.Store) {
	ms := mfaStore(t, s)
	u := mkUser(t, s, "otto", auth.RoleReader)
	if _, err := ms.TOTP(ctx, u.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("TOTP before enrolment: %v, want ErrNotFound", err)
	}
	first := &auth.TOTPSecret{UserID: u.ID, SecretEnc: []byte("sealed one"), CreatedAt: base}
	if err := ms.PutTOTP(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := &auth.TOTPSecret{UserID: u.ID, SecretEnc: []byte("sealed two"), CreatedAt: base.Add(time.Minute)}
	if err := ms.PutTOTP(ctx, second); err != nil {
		t.Fatalf("PutTOTP over a pending enrolment: %v", err)
	}
	got, err := ms.TOTP(ctx, u.ID)
	if err != nil || !bytes.Equal(got.SecretEnc, second.SecretEnc) || !got.ConfirmedAt.IsZero() || got.LastStep != 0 {
		t.Fatalf("TOTP = %+v, %v; want the second, pending", got, err)
	}
	if err := ms.ConfirmTOTP(ctx, u.ID, first.SecretEnc, base, 100); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("ConfirmTOTP with a replaced secret: %v, want ErrNotFound", err)
	}
	if err := ms.UseTOTPStep(ctx, u.ID, 99); !errors.Is(err, auth.ErrNotFound) && !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("UseTOTPStep before confirmation: %v, want a refusal", err)
	}
	if err := ms.ConfirmTOTP(ctx, u.ID, second.SecretEnc, base.Add(2*time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if err := ms.ConfirmTOTP(ctx, u.ID, second.SecretEnc, base.Add(2*time.Minute), 101); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("ConfirmTOTP twice: %v, want ErrNotFound", err)
	}
	got, err = ms.TOTP(ctx, u.ID)
	if err != nil || !sameTime(got.ConfirmedAt, base.Add(2*time.Minute)) || got.LastStep != 100 {
		t.Fatalf("confirmed TOTP = %+v, %v", got, err)
	}
	if err := ms.PutTOTP(ctx, &auth.TOTPSecret{UserID: u.ID, SecretEnc: []byte("x"), CreatedAt: base}); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("PutTOTP over a confirmed enrolment: %v, want ErrConflict", err)
	}
	for _, step := range []int64{99, 100} {
		if err := ms.UseTOTPStep(ctx, u.ID, step); !errors.Is(err, auth.ErrConflict) {
			t.Fatalf("UseTOTPStep(%d) after 100: %v, want ErrConflict", step, err)
		}
	}
	// Concurrent uses of one step: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := ms.UseTOTPStep(ctx, u.ID, 101); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, auth.ErrConflict) {
				t.Errorf("UseTOTPStep: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one step succeeded, want 1", wins.Load())
	}
	if err := ms.DeleteTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := ms.DeleteTOTP(ctx, u.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("DeleteTOTP twice: %v, want ErrNotFound", err)
	}
	if err := ms.PutTOTP(ctx, &auth.TOTPSecret{UserID: 1 << 40, SecretEnc: []byte("x"), CreatedAt: base}); err == nil {
		t.Fatal("PutTOTP for no user succeeded")
	}
}

func testMFARecovery(t *testing.T, s auth.Store) {
	ms := mfaStore(t, s)
	u := mkUser(t, s, "rita", auth.RoleReader)
	other := mkUser(t, s, "olga", auth.RoleReader)
	codes := [][]byte{hashOf("a"), hashOf("b"), hashOf("c")}
	if err := ms.SetRecoveryCodes(ctx, u.ID, codes); err != nil {
		t.Fatal(err)
	}
	if n, err := ms.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 3 {
		t.Fatalf("RecoveryCodesLeft = %d, %v; want 3", n, err)
	}
	if err := ms.UseRecoveryCode(ctx, other.ID, hashOf("a"), base); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("another user's code: %v, want ErrNotFound", err)
	}
	if err := ms.UseRecoveryCode(ctx, u.ID, hashOf("a"), base); err != nil {
		t.Fatal(err)
	}
	if err := ms.UseRecoveryCode(ctx, u.ID, hashOf("a"), base); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("a used code: %v, want ErrNotFound", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := ms.UseRecoveryCode(ctx, u.ID, hashOf("b"), base); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("UseRecoveryCode: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one code succeeded, want 1", wins.Load())
	}
	if n, err := ms.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("RecoveryCodesLeft = %d, %v; want 1", n, err)
	}
	if err := ms.SetRecoveryCodes(ctx, u.ID, [][]byte{hashOf("d"), hashOf("e")}); err != nil {
		t.Fatal(err)
	}
	if err := ms.UseRecoveryCode(ctx, u.ID, hashOf("c"), base); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("a code of the replaced set: %v, want ErrNotFound", err)
	}
	if n, err := ms.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 2 {
		t.Fatalf("RecoveryCodesLeft after regenerating = %d, %v; want 2", n, err)
	}
}

func testMFAChallenges(t *testing.T, s auth.Store) {
	ms := mfaStore(t, s)
	u := mkUser(t, s, "carl", auth.RoleReader)
	c := &auth.MFAChallenge{Hash: hashOf("tok"), UserID: u.ID, ClientIP: "192.0.2.1", Kind: auth.ChallengeLogin,
		Data: []byte(`{"cookie":true}`), ExpiresAt: base.Add(5 * time.Minute)}
	if err := ms.CreateMFAChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := ms.CreateMFAChallenge(ctx, c); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("the same challenge twice: %v, want ErrConflict", err)
	}
	anon := &auth.MFAChallenge{Hash: hashOf("anon"), Kind: "webauthn.login", Data: []byte("{}"), ExpiresAt: base.Add(time.Minute)}
	if err := ms.CreateMFAChallenge(ctx, anon); err != nil {
		t.Fatalf("a challenge for no user yet: %v", err)
	}
	if got, err := ms.MFAChallenge(ctx, anon.Hash); err != nil || got.UserID != 0 {
		t.Fatalf("MFAChallenge(anon) = %+v, %v", got, err)
	}
	got, err := ms.MFAChallenge(ctx, c.Hash)
	if err != nil || got.UserID != u.ID || got.ClientIP != c.ClientIP || got.Kind != c.Kind || string(got.Data) != string(c.Data) ||
		got.Attempts != 0 || !sameTime(got.ExpiresAt, c.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Fatalf("MFAChallenge = %+v, %v; want %+v", got, err, c)
	}
	if _, err := ms.MFAChallenge(ctx, hashOf("nope")); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("unknown challenge: %v, want ErrNotFound", err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := ms.FailMFAChallenge(ctx, c.Hash); err != nil || n != want {
			t.Fatalf("FailMFAChallenge = %d, %v; want %d", n, err, want)
		}
	}
	if err := ms.UseMFAChallenge(ctx, c.Hash, base, 3); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("UseMFAChallenge with its attempts spent: %v, want ErrConflict", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := ms.UseMFAChallenge(ctx, c.Hash, base.Add(time.Second), 5); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, auth.ErrConflict) {
				t.Errorf("UseMFAChallenge: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one challenge succeeded, want 1", wins.Load())
	}
	if got, err := ms.MFAChallenge(ctx, c.Hash); err != nil || !sameTime(got.UsedAt, base.Add(time.Second)) {
		t.Fatalf("used challenge = %+v, %v", got, err)
	}
	if err := s.PurgeExpired(ctx, base.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.MFAChallenge(ctx, c.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("an expired challenge after PurgeExpired: %v, want ErrNotFound", err)
	}
}

func testMFAReset(t *testing.T, s auth.Store) {
	ms := mfaStore(t, s)
	u := mkUser(t, s, "rob", auth.RoleAdmin)
	other := mkUser(t, s, "ann", auth.RoleReader)
	for _, id := range []int64{u.ID, other.ID} {
		if err := ms.PutTOTP(ctx, &auth.TOTPSecret{UserID: id, SecretEnc: []byte("s"), CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		if err := ms.SetRecoveryCodes(ctx, id, [][]byte{hashOf("r")}); err != nil {
			t.Fatal(err)
		}
		if err := ms.CreateMFAChallenge(ctx, &auth.MFAChallenge{Hash: hashOf("c" + string(rune('0'+id))), UserID: id, Kind: auth.ChallengeLogin,
			Data: []byte("{}"), ExpiresAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	mkSession(t, s, u, "s-rob", "rt-rob")
	mkSession(t, s, other, "s-ann", "rt-ann")
	end := &auth.Revoke{At: base, Until: base.Add(time.Hour)}
	if err := ms.ResetMFA(ctx, u.ID, end); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.TOTP(ctx, u.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("TOTP after reset: %v", err)
	}
	if n, _ := ms.RecoveryCodesLeft(ctx, u.ID); n != 0 {
		t.Fatalf("%d recovery codes left after reset", n)
	}
	if _, err := ms.MFAChallenge(ctx, hashOf("c"+string(rune('0'+u.ID)))); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("challenge after reset: %v", err)
	}
	_, sess, err := s.RefreshToken(ctx, hashOf("rt-rob"))
	if err != nil || sess.RevokedAt.IsZero() {
		t.Fatalf("the user's session after reset: %+v, %v; want revoked", sess, err)
	}
	if _, ok := revokedIDs(t, s, base.Add(-time.Second), base)["s-rob"]; !ok {
		t.Fatal("no revocation recorded for the user's session")
	}
	// The other user keeps everything.
	if _, err := ms.TOTP(ctx, other.ID); err != nil {
		t.Fatalf("other user's TOTP: %v", err)
	}
	if n, _ := ms.RecoveryCodesLeft(ctx, other.ID); n != 1 {
		t.Fatalf("other user's recovery codes: %d", n)
	}
	if _, sess, err := s.RefreshToken(ctx, hashOf("rt-ann")); err != nil || !sess.RevokedAt.IsZero() {
		t.Fatalf("other user's session: %+v, %v; want live", sess, err)
	}
	if err := ms.ResetMFA(ctx, 1<<40, end); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("ResetMFA of no user: %v, want ErrNotFound", err)
	}
}

func testSessionAMR(t *testing.T, s auth.Store) {
	ms := mfaStore(t, s)
	u := mkUser(t, s, "amy", auth.RoleReader)
	sess := &auth.Session{ID: "s-amr", UserID: u.ID, UserVersion: u.Version, CreatedAt: base, ExpiresAt: base.Add(time.Hour),
		AMR: []string{auth.AMRPassword, auth.AMROTP}}
	if err := s.CreateSession(ctx, sess, &auth.RefreshToken{Hash: hashOf("rt-amr"), SessionID: sess.ID, ExpiresAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, got, err := s.RefreshToken(ctx, hashOf("rt-amr"))
	if err != nil || !slices.Equal(got.AMR, sess.AMR) {
		t.Fatalf("session amr = %q, %v; want %q", got.AMR, err, sess.AMR)
	}
	mkSession(t, s, u, "s-plain", "rt-plain")
	if _, got, _ := s.RefreshToken(ctx, hashOf("rt-plain")); len(got.AMR) != 0 {
		t.Fatalf("a session made without amr has %q", got.AMR)
	}
	if err := ms.SetSessionAMR(ctx, "s-plain", []string{auth.AMRPassword, auth.AMRHardwareKey}); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := s.RefreshToken(ctx, hashOf("rt-plain")); !slices.Equal(got.AMR, []string{"pwd", "hwk"}) {
		t.Fatalf("amr after SetSessionAMR = %q", got.AMR)
	}
	cs, ok := s.(auth.ClientStore)
	if !ok {
		return
	}
	if err := cs.CreateClient(ctx, &auth.Client{ID: "amr-client", Name: "c", RedirectURIs: []string{"https://c.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	ac := &auth.AuthCode{Hash: hashOf("code-amr"), ClientID: "amr-client", UserID: u.ID, SessionID: "s-code", RedirectURI: "https://c.example/cb",
		Scope: []string{"openid"}, AuthTime: base, ExpiresAt: base.Add(time.Minute), AMR: []string{"pwd", "mfa"}}
	if err := cs.CreateAuthCode(ctx, ac); err != nil {
		t.Fatal(err)
	}
	if got, err := cs.AuthCode(ctx, ac.Hash); err != nil || !slices.Equal(got.AMR, ac.AMR) {
		t.Fatalf("auth code amr = %v, %v; want %q", got, err, ac.AMR)
	}
}
