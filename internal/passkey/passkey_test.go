package passkey_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/passkey/passkeytest"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

var ctx = context.Background()

const publicURL = "https://auth.example:8443"

// audit records the events.
type audit struct {
	mu sync.Mutex
	e  []auth.AuditEvent
}

func (a *audit) Record(_ context.Context, e auth.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.e = append(a.e, e)
	return nil
}

func (a *audit) kinds() []auth.AuditKind {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []auth.AuditKind
	for _, e := range a.e {
		out = append(out, e.Kind)
	}
	return out
}

func (a *audit) last() auth.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.e[len(a.e)-1]
}

type env struct {
	svc   *auth.Service
	rp    *passkey.RP
	audit *audit
	alice *auth.User
	bob   *auth.User
}

func newRP(t *testing.T, st auth.Store) (*passkey.RP, *auth.Service, *audit) {
	t.Helper()
	a := &audit{}
	svc := &auth.Service{Store: st, Audit: a, Hasher: hasher}
	rp, err := passkey.New(svc, publicURL, "jwtgate test")
	if err != nil {
		t.Fatal(err)
	}
	return rp, svc, a
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rp, svc, a := newRP(t, st)
	e := &env{svc: svc, rp: rp, audit: a}
	e.alice = mkUser(t, st, "alice")
	e.bob = mkUser(t, st, "bob")
	return e
}

// hasher is fast: the tests check passwords, not their cost.
var hasher = auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 2, time.Minute)

// mkUser makes a reader whose password is "password "+name.
func mkUser(t *testing.T, st auth.Store, name string) *auth.User {
	t.Helper()
	h, err := hasher.Hash(ctx, "password "+name)
	if err != nil {
		t.Fatal(err)
	}
	u := &auth.User{Name: name, Role: auth.RoleReader, PasswordHash: h}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

func principal(u *auth.User) *auth.Principal {
	return &auth.Principal{UserID: u.ID, Name: u.Name, Role: u.Role}
}

// register makes a passkey of u with a.
func register(t *testing.T, rp *passkey.RP, a *passkeytest.Authenticator, u *auth.User, name string) (*passkeytest.Credential, *auth.Passkey) {
	t.Helper()
	opts, err := rp.BeginRegistration(ctx, u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	resp, cred, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rp.FinishRegistration(ctx, principal(u), u, name, resp)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return cred, p
}

func browser() *passkeytest.Authenticator {
	return passkeytest.New("auth.example", "https://auth.example:8443")
}

func TestNewNeedsPublicURL(t *testing.T) {
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := &auth.Service{Store: st}
	for _, off := range []string{"", "http://127.0.0.1:8080", "https://[::1]:8443"} {
		if _, err := passkey.New(svc, off, ""); !errors.Is(err, passkey.ErrDisabled) {
			t.Errorf("New(%q) = %v, want ErrDisabled", off, err)
		}
	}
	for _, bad := range []string{"ftp://auth.example", "auth.example", "https://"} {
		if _, err := passkey.New(svc, bad, ""); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	rp, err := passkey.New(svc, "https://Auth.Example:8443/base/", "")
	if err != nil {
		t.Fatal(err)
	}
	if rp.RPID() != "Auth.Example" || rp.Origin() != "https://Auth.Example:8443" {
		t.Fatalf("RP ID %q, origin %q", rp.RPID(), rp.Origin())
	}
}

func TestRegisterAndSecondFactor(t *testing.T) {
	e := newEnv(t)
	a := browser()
	cred, p := register(t, e.rp, a, e.alice, "Laptop")
	if p.Name != "Laptop" || p.RPID != "auth.example" || p.AttestationFormat != "none" || p.AMR() != "hwk" {
		t.Fatalf("registered %+v", p)
	}
	keys, err := e.svc.Passkeys(ctx, e.alice.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("Passkeys = %v, %v", keys, err)
	}
	if k := e.audit.last(); k.Kind != auth.AuditPasskeyRegister || k.UserID != e.alice.ID || !strings.Contains(k.Reason, "name=Laptop") {
		t.Fatalf("audit %+v", k)
	}

	opts, state, err := e.rp.BeginLogin(ctx, e.alice)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Get(opts, cred)
	if err != nil {
		t.Fatal(err)
	}
	amr, err := e.rp.FinishLogin(ctx, e.alice, state, resp)
	if err != nil || amr != "hwk" {
		t.Fatalf("FinishLogin = %q, %v", amr, err)
	}
	keys, _ = e.svc.Passkeys(ctx, e.alice.ID)
	if keys[0].SignCount != cred.SignCount || keys[0].LastUsedAt.IsZero() {
		t.Fatalf("after the login: %+v", keys[0])
	}
	// bob has no passkey: nothing to ask for.
	if _, _, err := e.rp.BeginLogin(ctx, e.bob); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("BeginLogin(no passkey) = %v", err)
	}
}

func TestSyncedPasskeyIsSWK(t *testing.T) {
	e := newEnv(t)
	a := browser()
	a.Flags |= passkeytest.BE | passkeytest.BS
	a.NoCounter = true
	cred, p := register(t, e.rp, a, e.alice, "Phone")
	if p.AMR() != "swk" || !p.Synced() {
		t.Fatalf("a synced passkey: amr %q synced %v", p.AMR(), p.Synced())
	}
	// Its counter stays 0, login after login.
	for range 2 {
		opts, state, err := e.rp.BeginLogin(ctx, e.alice)
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := a.Get(opts, cred)
		if amr, err := e.rp.FinishLogin(ctx, e.alice, state, resp); err != nil || amr != "swk" {
			t.Fatalf("FinishLogin = %q, %v", amr, err)
		}
	}
}

func TestPasswordless(t *testing.T) {
	e := newEnv(t)
	a := browser()
	cred, p := register(t, e.rp, a, e.alice, "Laptop")
	opts, err := e.rp.BeginPasswordless(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			UserVerification string            `json:"userVerification"`
			Allow            []json.RawMessage `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.UserVerification != "required" || len(o.PublicKey.Allow) != 0 {
		t.Fatalf("passwordless options %s", opts)
	}
	resp, _ := a.Get(opts, cred)
	u, got, err := e.rp.FinishPasswordless(ctx, resp)
	if err != nil || u.ID != e.alice.ID || string(got.ID) != string(p.ID) {
		t.Fatalf("FinishPasswordless = %v, %v, %v", u, got, err)
	}
	// The same response again: its ceremony was taken.
	if _, _, err := e.rp.FinishPasswordless(ctx, resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("replayed passwordless response = %v, want ErrUnauthorized", err)
	}
	// Without user verification: refused.
	opts, _ = e.rp.BeginPasswordless(ctx)
	cred.Flags = passkeytest.UP
	resp, _ = a.Get(opts, cred)
	if _, _, err := e.rp.FinishPasswordless(ctx, resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("passwordless without UV = %v, want ErrUnauthorized", err)
	}
	cred.Flags = passkeytest.UP | passkeytest.UV
	// A disabled user cannot sign in.
	disabled := true
	if _, err := e.svc.Store.UpdateUser(ctx, "alice", auth.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	opts, _ = e.rp.BeginPasswordless(ctx)
	resp, _ = a.Get(opts, cred)
	if _, _, err := e.rp.FinishPasswordless(ctx, resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("passwordless for a disabled user = %v, want ErrUnauthorized", err)
	}
}

// TestRefusals: every assertion here is validly signed by a registered
// key, and each is refused for one reason.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	a := browser()
	aliceKey, _ := register(t, e.rp, a, e.alice, "Alice's")
	bobKey, _ := register(t, e.rp, a, e.bob, "Bob's")

	tests := []struct {
		name   string
		assert func(opts []byte) ([]byte, error)
	}{
		{"another user's credential", func(opts []byte) ([]byte, error) { return a.Get(opts, bobKey) }},
		{"another RP ID", func(opts []byte) ([]byte, error) {
			o := *a
			o.RPID = "evil.example"
			return o.Get(opts, aliceKey)
		}},
		{"another origin", func(opts []byte) ([]byte, error) {
			o := *a
			o.Origin = "https://evil.example"
			return o.Get(opts, aliceKey)
		}},
		{"another port", func(opts []byte) ([]byte, error) {
			o := *a
			o.Origin = "https://auth.example"
			return o.Get(opts, aliceKey)
		}},
		{"another challenge", func(opts []byte) ([]byte, error) {
			aliceKey.SignCount++
			return a.Sign("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", aliceKey, aliceKey.SignCount)
		}},
		{"no user presence", func(opts []byte) ([]byte, error) {
			c := *aliceKey
			c.Flags = 0
			return a.Get(opts, &c)
		}},
		{"not JSON", func(opts []byte) ([]byte, error) { return []byte("{"), nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, state, err := e.rp.BeginLogin(ctx, e.alice)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tc.assert(opts)
			if err != nil {
				t.Fatal(err)
			}
			if amr, err := e.rp.FinishLogin(ctx, e.alice, state, resp); !errors.Is(err, auth.ErrUnauthorized) {
				t.Fatalf("FinishLogin = %q, %v; want ErrUnauthorized", amr, err)
			}
		})
	}
	// Alice's key still works after all that.
	opts, state, _ := e.rp.BeginLogin(ctx, e.alice)
	aliceKey.SignCount += 10
	resp, _ := a.Get(opts, aliceKey)
	if _, err := e.rp.FinishLogin(ctx, e.alice, state, resp); err != nil {
		t.Fatalf("a good assertion after the refusals: %v", err)
	}
}

func TestSignCountRegression(t *testing.T) {
	e := newEnv(t)
	a := browser()
	cred, _ := register(t, e.rp, a, e.alice, "Key")
	login := func(count uint32) error {
		opts, state, err := e.rp.BeginLogin(ctx, e.alice)
		if err != nil {
			t.Fatal(err)
		}
		ch, _ := passkeytest.Challenge(opts)
		resp, err := a.Sign(ch, cred, count)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.rp.FinishLogin(ctx, e.alice, state, resp)
		return err
	}
	if err := login(5); err != nil {
		t.Fatal(err)
	}
	for _, count := range []uint32{5, 4, 0} {
		err := login(count)
		if !errors.Is(err, auth.ErrSignCount) {
			t.Fatalf("count %d after 5: %v, want ErrSignCount", count, err)
		}
		if ev := e.audit.last(); ev.Kind != auth.AuditPasskeyRefused || !strings.Contains(ev.Reason, "stored=5") {
			t.Fatalf("audit %+v", ev)
		}
	}
	if err := login(6); err != nil {
		t.Fatalf("count 6 after 5: %v", err)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	e := newEnv(t)
	a := browser()
	opts, err := e.rp.BeginRegistration(ctx, e.alice)
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Bob cannot finish Alice's registration, nor does trying use it up.
	if _, err := e.rp.FinishRegistration(ctx, principal(e.bob), e.bob, "Mine", resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("another user's registration = %v, want ErrUnauthorized", err)
	}
	if keys, _ := e.svc.Passkeys(ctx, e.bob.ID); len(keys) != 0 {
		t.Fatalf("bob got %d passkeys", len(keys))
	}
	// A bad name is refused before the ceremony is used.
	opts, _ = e.rp.BeginRegistration(ctx, e.alice)
	resp, _, _ = a.Create(opts)
	if _, err := e.rp.FinishRegistration(ctx, principal(e.alice), e.alice, " ", resp); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("empty name = %v, want ErrInvalid", err)
	}
	if _, err := e.rp.FinishRegistration(ctx, principal(e.alice), e.alice, "Laptop", resp); err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if _, err := e.rp.FinishRegistration(ctx, principal(e.alice), e.alice, "Again", resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("replayed registration = %v, want ErrUnauthorized", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(o *passkeytest.Authenticator)
	}{
		{"another RP ID", func(o *passkeytest.Authenticator) { o.RPID = "evil.example" }},
		{"another origin", func(o *passkeytest.Authenticator) { o.Origin = "https://evil.example" }},
	} {
		o := *a
		tc.mod(&o)
		opts, _ := e.rp.BeginRegistration(ctx, e.alice)
		resp, _, _ := o.Create(opts)
		if _, err := e.rp.FinishRegistration(ctx, principal(e.alice), e.alice, "Evil", resp); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("%s: FinishRegistration = %v, want ErrInvalid", tc.name, err)
		}
	}
	if keys, _ := e.svc.Passkeys(ctx, e.alice.ID); len(keys) != 1 {
		t.Fatalf("alice has %d passkeys, want 1", len(keys))
	}
}

func TestDeletedPasskeyRefused(t *testing.T) {
	e := newEnv(t)
	a := browser()
	cred, p := register(t, e.rp, a, e.alice, "Old")
	other, _ := register(t, e.rp, a, e.alice, "New")
	if err := e.svc.RenamePasskey(ctx, principal(e.alice), p.ID, "Old key"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeletePasskey(ctx, principal(e.alice), "192.0.2.1", "password alice", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	kinds := e.audit.kinds()
	// The password check is audited as a login, as POST /me/password's is.
	if got := kinds[len(kinds)-3:]; got[0] != auth.AuditPasskeyRename || got[1] != auth.AuditLoginSuccess || got[2] != auth.AuditPasskeyDelete {
		t.Fatalf("audit kinds %v", kinds)
	}
	opts, state, err := e.rp.BeginLogin(ctx, e.alice)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := a.Get(opts, cred)
	if _, err := e.rp.FinishLogin(ctx, e.alice, state, resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("a deleted passkey as second factor = %v, want ErrUnauthorized", err)
	}
	opts, _ = e.rp.BeginPasswordless(ctx)
	resp, _ = a.Get(opts, cred)
	if _, _, err := e.rp.FinishPasswordless(ctx, resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("a deleted passkey, passwordless = %v, want ErrUnauthorized", err)
	}
	// keep refuses: nothing is deleted.
	refuse := errors.New("the last factor")
	if err := e.svc.DeletePasskey(ctx, principal(e.alice), "192.0.2.1", "password alice", other.ID, func(context.Context, int64, int) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("DeletePasskey refused by keep = %v", err)
	}
	if keys, _ := e.svc.Passkeys(ctx, e.alice.ID); len(keys) != 1 {
		t.Fatalf("%d passkeys left, want 1", len(keys))
	}
}

// TestAcrossInstances: a ceremony begun at one instance is finished at
// another, once, on one PostgreSQL database.
func TestAcrossInstances(t *testing.T) {
	url := pgtest.URL(t)
	open := func() auth.Store {
		st, err := postgres.Open(ctx, url, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()
	rpA, _, _ := newRP(t, stA)
	rpB, _, _ := newRP(t, stB)
	alice := mkUser(t, stA, "alice")
	a := browser()

	opts, err := rpA.BeginRegistration(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	resp, cred, _ := a.Create(opts)
	if _, err := rpB.FinishRegistration(ctx, principal(alice), alice, "Laptop", resp); err != nil {
		t.Fatalf("registration begun at A, finished at B: %v", err)
	}
	if _, err := rpA.FinishRegistration(ctx, principal(alice), alice, "Laptop", resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("the same registration at A = %v, want ErrUnauthorized", err)
	}

	opts, err = rpA.BeginPasswordless(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = a.Get(opts, cred)
	if u, _, err := rpB.FinishPasswordless(ctx, resp); err != nil || u.ID != alice.ID {
		t.Fatalf("passwordless begun at A, finished at B: %v, %v", u, err)
	}
	if _, _, err := rpA.FinishPasswordless(ctx, resp); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("the same response at A = %v, want ErrUnauthorized", err)
	}

	// Second factor: the state travels with the caller's challenge.
	opts, state, err := rpA.BeginLogin(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = a.Get(opts, cred)
	if _, err := rpB.FinishLogin(ctx, alice, state, resp); err != nil {
		t.Fatalf("second factor begun at A, finished at B: %v", err)
	}
	// The same assertion again at A: its counter is not new.
	if _, err := rpA.FinishLogin(ctx, alice, state, resp); !errors.Is(err, auth.ErrSignCount) {
		t.Fatalf("the same assertion at A = %v, want ErrSignCount", err)
	}
}
