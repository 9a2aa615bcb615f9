package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// hookStore runs a one-shot hook right after a read, to put an account
// change between a read and the write that relies on it, or right before
// a rotation.
type hookStore struct {
	*sqlite.DB
	mu                            sync.Mutex
	afterUserByName, beforeRotate func()
}

func (h *hookStore) take(f *func()) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := *f
	*f = nil
	return g
}

func (h *hookStore) UserByName(ctx context.Context, name string) (*auth.User, error) {
	u, err := h.DB.UserByName(ctx, name)
	if f := h.take(&h.afterUserByName); f != nil {
		f()
	}
	return u, err
}

func (h *hookStore) RotateRefreshToken(ctx context.Context, old []byte, clientID string, now time.Time, next *auth.RefreshToken) (*auth.RefreshToken, *auth.Session, error) {
	if f := h.take(&h.beforeRotate); f != nil {
		f()
	}
	return h.DB.RotateRefreshToken(ctx, old, clientID, now, next)
}

const accountPassword = "correct horse battery"

// accountService is a Service with real hashing (at the least cost) on a
// SQLite store with hooks, and the user "lee", an editor.
func accountService(t *testing.T) (*auth.Service, *hookStore) {
	t.Helper()
	store := &hookStore{DB: openDB(t)}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: testKey, Issuer: "jwtgate", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	svc := &auth.Service{Store: store, Tokens: tk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hasher: auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 2, time.Second)}
	if _, err := svc.CreateUser(ctx, "lee", accountPassword, auth.RoleEditor); err != nil {
		t.Fatal(err)
	}
	return svc, store
}

var accountChanges = []struct {
	name string
	do   func(svc *auth.Service) error
}{
	{"password", func(svc *auth.Service) error { _, err := svc.SetPassword(ctx, "lee", "another password"); return err }},
	{"role", func(svc *auth.Service) error {
		r := auth.RoleReader
		_, err := svc.UpdateUser(ctx, nil, "LEE", auth.UserUpdate{Role: &r})
		return err
	}},
	{"disable", func(svc *auth.Service) error {
		yes := true
		_, err := svc.UpdateUser(ctx, nil, "lee", auth.UserUpdate{Disabled: &yes})
		return err
	}},
	{"delete", func(svc *auth.Service) error { return svc.DeleteUser(ctx, nil, "Lee") }},
}

// A login reads the user, then the account changes, then the login checks
// the password and starts its session. Only a role change lets it go on,
// with the new role; the others make it fail, with no session left.
func TestLoginOvertakenByAccountChange(t *testing.T) {
	for _, ch := range accountChanges {
		t.Run(ch.name, func(t *testing.T) {
			svc, store := accountService(t)
			var changeErr error
			store.afterUserByName = func() { changeErr = ch.do(svc) }
			u, err := svc.Login(ctx, "192.0.2.1", "lee", accountPassword)
			if err != nil {
				t.Fatal(err)
			}
			if changeErr != nil {
				t.Fatal(changeErr)
			}
			g, err := svc.StartSession(ctx, u)
			sessions, cerr := store.CountRows(ctx, "sessions")
			if cerr != nil {
				t.Fatal(cerr)
			}
			if ch.name != "role" {
				if !errors.Is(err, auth.ErrUnauthorized) || sessions != 0 {
					t.Fatalf("login across the %s change: granted %v, err %v, %d sessions; want ErrUnauthorized and none", ch.name, g != nil, err, sessions)
				}
				return
			}
			if err != nil {
				t.Fatalf("login across a role change: %v", err)
			}
			if g.User.Role != auth.RoleReader || g.Claims.Role != auth.RoleReader || sessions != 1 {
				t.Fatalf("login across a role change: a grant for role %s (token %s), %d sessions; want a reader's and 1", g.User.Role, g.Claims.Role, sessions)
			}
			if _, err := svc.Refresh(ctx, g.RefreshToken); err != nil {
				t.Errorf("refreshing the session started with the new role: %v", err)
			}
		})
	}
}

// The account changes (ending the session) as a refresh is about to
// rotate its token: the refresh must fail. (A change that commits while
// the rotation runs is the store's to order: storetest checks it.)
func TestRefreshOvertakenByAccountChange(t *testing.T) {
	for _, ch := range accountChanges {
		t.Run(ch.name, func(t *testing.T) {
			svc, store := accountService(t)
			u, err := svc.Login(ctx, "192.0.2.1", "lee", accountPassword)
			if err != nil {
				t.Fatal(err)
			}
			g, err := svc.StartSession(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var changeErr error
			store.beforeRotate = func() { changeErr = ch.do(svc) }
			next, err := svc.Refresh(ctx, g.RefreshToken)
			if changeErr != nil {
				t.Fatal(changeErr)
			}
			if !errors.Is(err, auth.ErrRefreshInvalid) {
				t.Fatalf("refresh across the %s change: granted %v, err %v; want ErrRefreshInvalid", ch.name, next != nil, err)
			}
		})
	}
}

// The server's counts tell a disabled account and a reused refresh token
// from the other failures, which answer clients the same way.
func TestLoginAndRefreshFailuresTellTheirCause(t *testing.T) {
	ctx := context.Background()
	svc, _ := accountService(t)
	u, err := svc.Login(ctx, "192.0.2.1", "lee", accountPassword)
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refresh(ctx, g.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Refresh(ctx, g.RefreshToken)
	if !errors.Is(err, auth.ErrRefreshReused) || !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Fatalf("refresh token used twice: %v, want ErrRefreshReused, an ErrRefreshInvalid", err)
	}
	if _, err := svc.Login(ctx, "192.0.2.1", "lee", "wrong password!"); !errors.Is(err, auth.ErrUnauthorized) || errors.Is(err, auth.ErrAccountDisabled) {
		t.Fatalf("wrong password: %v, want ErrUnauthorized but not ErrAccountDisabled", err)
	}
	yes := true
	if _, err := svc.UpdateUser(ctx, nil, "lee", auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "192.0.2.1", "lee", accountPassword); !errors.Is(err, auth.ErrAccountDisabled) || !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("disabled account: %v, want ErrAccountDisabled, an ErrUnauthorized", err)
	}
}
