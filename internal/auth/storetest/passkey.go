package storetest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Passkeys: every store is also an auth.PasskeyStore.
//   - A user's WebAuthn handle is set once: later calls return the first.
//   - A credential id is unique across users; listing, renaming and
//     deleting see only the user's own; deleting the user deletes them.
//   - UsePasskey accepts a counter only if it goes up (or stays 0 for an
//     authenticator without one), also when called concurrently.
//   - A ceremony is taken once, and not after it expired.

func passkeyStore(t *testing.T, s auth.Store) auth.PasskeyStore {
	t.Helper()
	ps, ok := s.(auth.PasskeyStore)
	if !ok {
		t.Fatalf("%T is no auth.PasskeyStore", s)
	}
	return ps
}

func mkPasskey(t *testing.T, ps auth.PasskeyStore, u *auth.User, id, name string) *auth.Passkey {
	t.Helper()
	p := &auth.Passkey{ID: []byte(id), UserID: u.ID, RPID: "auth.example", Name: name, PublicKey: []byte("cose key of " + id),
		AttestationType: "none", AttestationFormat: "none", AAGUID: bytes.Repeat([]byte{7}, 16),
		Transports: []string{"internal", "hybrid"}, Attachment: "platform", SignCount: 3, Flags: auth.FlagUserPresent | auth.FlagBackupEligible}
	if err := ps.AddPasskey(ctx, p); err != nil {
		t.Fatalf("AddPasskey(%s): %v", id, err)
	}
	return p
}

func samePasskey(a, b auth.Passkey) bool {
	return bytes.Equal(a.ID, b.ID) && a.UserID == b.UserID && a.RPID == b.RPID && a.Name == b.Name &&
		bytes.Equal(a.PublicKey, b.PublicKey) && a.AttestationType == b.AttestationType && a.AttestationFormat == b.AttestationFormat &&
		bytes.Equal(a.AAGUID, b.AAGUID) && slices.Equal(a.Transports, b.Transports) && a.Attachment == b.Attachment &&
		a.SignCount == b.SignCount && a.Flags == b.Flags && sameTime(a.CreatedAt, b.CreatedAt) &&
		a.LastUsedAt.IsZero() == b.LastUsedAt.IsZero() && sameTime(a.LastUsedAt, b.LastUsedAt)
}

func testWebAuthnHandle(t *testing.T, s auth.Store) {
	ps := passkeyStore(t, s)
	alice := mkUser(t, s, "alice", auth.RoleReader)
	bob := mkUser(t, s, "bob", auth.RoleReader)
	h, err := ps.WebAuthnHandle(ctx, alice.ID, []byte("first-handle-of-alice"))
	if err != nil || string(h) != "first-handle-of-alice" {
		t.Fatalf("WebAuthnHandle = %q, %v", h, err)
	}
	if h, err := ps.WebAuthnHandle(ctx, alice.ID, []byte("second")); err != nil || string(h) != "first-handle-of-alice" {
		t.Fatalf("WebAuthnHandle again = %q, %v; want the first", h, err)
	}
	if _, err := ps.WebAuthnHandle(ctx, 1<<40, []byte("x")); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("WebAuthnHandle(unknown user) = %v, want ErrNotFound", err)
	}
	if _, err := ps.WebAuthnHandle(ctx, bob.ID, []byte("first-handle-of-alice")); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("WebAuthnHandle(bob, alice's handle) = %v, want ErrConflict", err)
	}
	u, err := ps.UserByWebAuthnHandle(ctx, []byte("first-handle-of-alice"))
	if err != nil || u.ID != alice.ID {
		t.Fatalf("UserByWebAuthnHandle = %+v, %v", u, err)
	}
	for _, h := range [][]byte{nil, []byte("second"), []byte("FIRST-HANDLE-OF-ALICE")} {
		if _, err := ps.UserByWebAuthnHandle(ctx, h); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByWebAuthnHandle(%q) = %v, want ErrNotFound", h, err)
		}
	}
}

func testPasskeys(t *testing.T, s auth.Store) {
	ps := passkeyStore(t, s)
	alice := mkUser(t, s, "alice", auth.RoleReader)
	bob := mkUser(t, s, "bob", auth.RoleReader)
	a1 := mkPasskey(t, ps, alice, "cred-a1", "Laptop ✓ \"quoted\"")
	a2 := mkPasskey(t, ps, alice, "cred-a2", "Phone")
	mkPasskey(t, ps, bob, "cred-b1", "Key")
	other := &auth.Passkey{ID: []byte("cred-other-rp"), UserID: alice.ID, RPID: "other.example", Name: "Elsewhere", PublicKey: []byte("k")}
	if err := ps.AddPasskey(ctx, other); err != nil {
		t.Fatal(err)
	}

	dup := *a1
	dup.UserID = bob.ID
	if err := ps.AddPasskey(ctx, &dup); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("AddPasskey(same id, other user) = %v, want ErrConflict", err)
	}
	ghost := *a1
	ghost.ID, ghost.UserID = []byte("cred-ghost"), 1<<40
	if err := ps.AddPasskey(ctx, &ghost); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("AddPasskey(unknown user) = %v, want ErrNotFound", err)
	}

	got, err := ps.Passkeys(ctx, alice.ID, "auth.example")
	if err != nil || len(got) != 2 || !samePasskey(got[0], *a1) || !samePasskey(got[1], *a2) {
		t.Fatalf("Passkeys(alice) = %+v, %v; want a1, a2", got, err)
	}
	if all, err := ps.Passkeys(ctx, alice.ID, ""); err != nil || len(all) != 3 {
		t.Fatalf("Passkeys(alice, any RP) = %d, %v; want 3", len(all), err)
	}

	// Another user's credential cannot be renamed, deleted or used.
	if err := ps.RenamePasskey(ctx, bob.ID, a1.ID, "mine"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RenamePasskey(bob, a1) = %v, want ErrNotFound", err)
	}
	if err := ps.DeletePasskey(ctx, bob.ID, a1.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeletePasskey(bob, a1) = %v, want ErrNotFound", err)
	}
	if err := ps.UsePasskey(ctx, bob.ID, a1.ID, 9, 0, time.Now()); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UsePasskey(bob, a1) = %v, want ErrNotFound", err)
	}

	if err := ps.RenamePasskey(ctx, alice.ID, a1.ID, "Work laptop"); err != nil {
		t.Fatal(err)
	}
	used := time.Now()
	if err := ps.UsePasskey(ctx, alice.ID, a1.ID, 4, auth.FlagUserPresent|auth.FlagUserVerified|auth.FlagBackupEligible, used); err != nil {
		t.Fatalf("UsePasskey(4 after 3) = %v", err)
	}
	got, _ = ps.Passkeys(ctx, alice.ID, "auth.example")
	want := *a1
	want.Name, want.SignCount, want.Flags, want.LastUsedAt = "Work laptop", 4, auth.FlagUserPresent|auth.FlagUserVerified|auth.FlagBackupEligible, used
	if !samePasskey(got[0], want) {
		t.Fatalf("after rename and use: %+v, want %+v", got[0], want)
	}

	if err := ps.DeletePasskey(ctx, alice.ID, a2.ID); err != nil {
		t.Fatal(err)
	}
	if err := ps.DeletePasskey(ctx, alice.ID, a2.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeletePasskey twice = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ps.Passkeys(ctx, alice.ID, ""); err != nil || len(got) != 0 {
		t.Fatalf("Passkeys of a deleted user = %d, %v", len(got), err)
	}
	// Its credential id is free again; bob's is kept.
	again := *a1
	again.UserID = bob.ID
	if err := ps.AddPasskey(ctx, &again); err != nil {
		t.Fatalf("AddPasskey(a deleted user's id) = %v", err)
	}
	if got, _ := ps.Passkeys(ctx, bob.ID, ""); len(got) != 2 {
		t.Fatalf("bob has %d passkeys, want 2", len(got))
	}
}

func testPasskeySignCount(t *testing.T, s auth.Store) {
	ps := passkeyStore(t, s)
	u := mkUser(t, s, "carol", auth.RoleReader)
	p := mkPasskey(t, ps, u, "counted", "Key") // count 3
	zero := &auth.Passkey{ID: []byte("zero"), UserID: u.ID, RPID: "auth.example", Name: "Synced", PublicKey: []byte("k")}
	if err := ps.AddPasskey(ctx, zero); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		id    []byte
		count uint32
		want  error
	}{
		{"same count", p.ID, 3, auth.ErrStale},
		{"lower", p.ID, 2, auth.ErrStale},
		{"zero after a count", p.ID, 0, auth.ErrStale},
		{"higher", p.ID, 10, nil},
		{"back again", p.ID, 9, auth.ErrStale},
		{"zero after zero", zero.ID, 0, nil},
		{"the counter starts", zero.ID, 1, nil},
		{"and then may not stop", zero.ID, 0, auth.ErrStale},
	}
	for _, tc := range tests {
		if err := ps.UsePasskey(ctx, u.ID, tc.id, tc.count, auth.FlagUserPresent, time.Now()); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: UsePasskey(%d) = %v, want %v", tc.name, tc.count, err, tc.want)
		}
	}
	// Concurrent assertions with the same count: one wins.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- ps.UsePasskey(ctx, u.ID, p.ID, 11, auth.FlagUserPresent, time.Now()) })
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, auth.ErrStale):
			t.Errorf("concurrent UsePasskey: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent uses of count 11 succeeded, want 1", ok)
	}
}

func testCeremonies(t *testing.T, s auth.Store) {
	ps := passkeyStore(t, s)
	u := mkUser(t, s, "dave", auth.RoleReader)
	now := time.Now()
	reg := &auth.Ceremony{Key: []byte("challenge-hash-1"), Kind: auth.CeremonyRegister, UserID: u.ID, Data: []byte(`{"challenge":"x"}`), ExpiresAt: now.Add(time.Minute)}
	anon := &auth.Ceremony{Key: []byte("challenge-hash-2"), Kind: auth.CeremonyPasswordless, Data: []byte("{}"), ExpiresAt: now.Add(time.Minute)}
	old := &auth.Ceremony{Key: []byte("challenge-hash-3"), Kind: auth.CeremonyPasswordless, Data: []byte("{}"), ExpiresAt: now.Add(-time.Second)}
	for _, c := range []*auth.Ceremony{reg, anon, old} {
		if err := ps.SaveCeremony(ctx, c); err != nil {
			t.Fatalf("SaveCeremony(%s): %v", c.Key, err)
		}
	}
	if err := ps.SaveCeremony(ctx, reg); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("SaveCeremony twice = %v, want ErrConflict", err)
	}
	// The wrong kind takes nothing.
	if _, err := ps.TakeCeremony(ctx, reg.Key, auth.CeremonyPasswordless, now); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("TakeCeremony(wrong kind) = %v, want ErrNotFound", err)
	}
	got, err := ps.TakeCeremony(ctx, reg.Key, auth.CeremonyRegister, now)
	if err != nil || got.UserID != u.ID || string(got.Data) != string(reg.Data) || !sameTime(got.ExpiresAt, reg.ExpiresAt) {
		t.Fatalf("TakeCeremony = %+v, %v", got, err)
	}
	if _, err := ps.TakeCeremony(ctx, reg.Key, auth.CeremonyRegister, now); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("TakeCeremony twice = %v, want ErrNotFound", err)
	}
	if got, err := ps.TakeCeremony(ctx, anon.Key, auth.CeremonyPasswordless, now); err != nil || got.UserID != 0 {
		t.Fatalf("TakeCeremony(no user) = %+v, %v", got, err)
	}
	if _, err := ps.TakeCeremony(ctx, old.Key, auth.CeremonyPasswordless, now); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("TakeCeremony(expired) = %v, want ErrNotFound", err)
	}
	// Concurrent takes: one wins.
	race := &auth.Ceremony{Key: []byte("challenge-hash-4"), Kind: auth.CeremonyRegister, UserID: u.ID, Data: []byte("{}"), ExpiresAt: now.Add(time.Minute)}
	if err := ps.SaveCeremony(ctx, race); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			_, err := ps.TakeCeremony(ctx, race.Key, auth.CeremonyRegister, now)
			if err != nil && !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("concurrent TakeCeremony: %v", err)
			}
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d concurrent takes succeeded, want 1", won)
	}
}
