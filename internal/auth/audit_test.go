package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/lograte"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// auditStore is a SQLite store whose audit writes fail while down is set.
type auditStore struct {
	*sqlite.DB
	down atomic.Bool
}

func (s *auditStore) AddAuditEvent(ctx context.Context, e *auth.AuditEvent) error {
	if s.down.Load() {
		return fmt.Errorf("test: audit write: %w", auth.ErrUnavailable)
	}
	return s.DB.AddAuditEvent(ctx, e)
}

// auditRig is a Service with login limits, tokens and a StoreAudit
// logging JSON to logs, all on a test clock.
type auditRig struct {
	svc   *auth.Service
	store *auditStore
	clock *testutil.Clock
	logs  *testutil.LockedBuffer
	seen  int64 // the highest event id checked so far
}

func newAuditRig(t *testing.T, log func(h slog.Handler) slog.Handler) *auditRig {
	t.Helper()
	c := testutil.NewClock(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	logs := &testutil.LockedBuffer{}
	var h slog.Handler = slog.NewJSONHandler(logs, nil)
	if log != nil {
		h = log(h)
	}
	lg := slog.New(h)
	store := &auditStore{DB: openDB(t)}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: testKey, Issuer: "jwtgate", Audience: "jwtgate", TTL: time.Minute, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	lim := func(every time.Duration, burst int) *auth.Limiter {
		return &auth.Limiter{Every: every, Burst: burst, Now: c.Now}
	}
	svc := &auth.Service{Store: store, Tokens: tk, Now: c.Now, Log: lg,
		Hasher:  auth.NewHasher(fastArgon, 2, time.Minute),
		IPLimit: lim(6*time.Second, 20), UserNetLimit: lim(12*time.Second, 10), UserLimit: lim(2*time.Second, 100),
		Audit: &auth.StoreAudit{Store: store, Log: lg}}
	return &auditRig{svc: svc, store: store, clock: c, logs: logs}
}

// since returns the events recorded since the last call, oldest first.
func (r *auditRig) since(t *testing.T) []auth.AuditEvent {
	t.Helper()
	es, err := r.svc.AuditEvents(ctx, auth.AuditFilter{Limit: auth.MaxAuditPage})
	if err != nil {
		t.Fatal(err)
	}
	var out []auth.AuditEvent
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].ID > r.seen {
			out = append(out, es[i])
		}
	}
	if len(es) > 0 {
		r.seen = es[0].ID
	}
	return out
}

const (
	adaPW  = "ada's secret words"
	bobPW  = "bob's secret words"
	bobPW2 = "bob's other secret"
)

// Each security event is recorded exactly once, at the Service's time,
// with its fields; no record and no log line holds a password, a secret
// or a token.
func TestAuditEvents(t *testing.T) {
	r := newAuditRig(t, nil)
	svc := r.svc
	cli := auth.WithAuditInfo(ctx, auth.AuditInfo{Actor: "cli@host"})
	web := auth.WithAuditInfo(ctx, auth.AuditInfo{ClientIP: "198.51.100.7"})
	var secrets []string // every credential the steps handle
	var ada, bob *auth.User
	var adaP *auth.Principal
	var grant *auth.Grant
	var clientID, kid string
	principal := func(g *auth.Grant) *auth.Principal {
		p, err := svc.Tokens.Verify(g.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	session := func(u *auth.User) *auth.Grant {
		u, err := r.store.UserByID(ctx, u.ID) // as a login reads it now
		if err != nil {
			t.Fatal(err)
		}
		g, err := svc.StartSession(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, g.AccessToken, g.RefreshToken)
		return g
	}
	yes, no, editor := true, false, auth.RoleEditor
	steps := []struct {
		name string
		do   func() error
		want func() auth.AuditEvent // nil: no event
	}{
		{"create admin", func() (err error) { ada, err = svc.CreateUser(cli, "Ada", adaPW, auth.RoleAdmin); return err },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditUserCreate, Actor: "cli@host", User: "Ada", UserKey: "ada", UserID: ada.ID, Reason: "role=admin"}
			}},
		{"create reader", func() (err error) { bob, err = svc.CreateUser(cli, "bob", bobPW, auth.RoleReader); return err },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditUserCreate, Actor: "cli@host", User: "bob", UserKey: "bob", UserID: bob.ID, Reason: "role=reader"}
			}},
		{"login", func() error { _, err := svc.Login(ctx, "192.0.2.1", "ＡＤＡ", adaPW); return err },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLoginSuccess, User: "Ada", UserKey: "ada", UserID: ada.ID, ClientIP: "192.0.2.1"}
			}},
		{"wrong password", func() error {
			_, err := svc.Login(ctx, "192.0.2.1", "BOB", adaPW)
			return wantErr(err, auth.ErrUnauthorized)
		},
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLoginFailure, User: "BOB", UserKey: "bob", UserID: bob.ID, ClientIP: "192.0.2.1", Reason: auth.AuditBadPassword}
			}},
		{"unknown user", func() error {
			_, err := svc.Login(ctx, "2001:db8::5", "nobody", bobPW)
			return wantErr(err, auth.ErrUnauthorized)
		},
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLoginFailure, User: "nobody", UserKey: "nobody", ClientIP: "2001:db8::5", Reason: auth.AuditUnknownUser}
			}},
		{"missing password", func() error { _, err := svc.Login(ctx, "192.0.2.1", "bob", ""); return wantErr(err, auth.ErrInvalid) },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLoginFailure, User: "bob", UserKey: "bob", ClientIP: "192.0.2.1", Reason: auth.AuditInvalid}
			}},
		{"disable", func() error {
			adaP = principal(session(ada))
			_, err := svc.UpdateUser(web, adaP, "BOB", auth.UserUpdate{Disabled: &yes})
			return err
		}, func() auth.AuditEvent {
			return auth.AuditEvent{Kind: auth.AuditUserDisable, Actor: "Ada", User: "bob", UserKey: "bob", UserID: bob.ID, ClientIP: "198.51.100.7"}
		}},
		{"disabled login", func() error {
			_, err := svc.Login(ctx, "192.0.2.1", "bob", bobPW)
			return wantErr(err, auth.ErrUnauthorized)
		},
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLoginFailure, User: "bob", UserKey: "bob", UserID: bob.ID, ClientIP: "192.0.2.1", Reason: auth.AuditDisabled}
			}},
		{"enable", func() error { _, err := svc.UpdateUser(web, adaP, "bob", auth.UserUpdate{Disabled: &no}); return err },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditUserEnable, Actor: "Ada", User: "bob", UserKey: "bob", UserID: bob.ID, ClientIP: "198.51.100.7"}
			}},
		{"role", func() error { _, err := svc.UpdateUser(cli, nil, "bob", auth.UserUpdate{Role: &editor}); return err },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditRoleChange, Actor: "cli@host", User: "bob", UserKey: "bob", UserID: bob.ID, Reason: "role=editor"}
			}},
		{"password", func() error {
			secrets = append(secrets, bobPW2)
			_, err := svc.SetPassword(cli, "bob", bobPW2)
			return err
		},
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditPasswordChange, Actor: "cli@host", User: "bob", UserKey: "bob", UserID: bob.ID}
			}},
		{"refresh", func() error {
			grant = session(bob)
			g, err := svc.Refresh(web, grant.RefreshToken)
			if err == nil {
				secrets = append(secrets, g.AccessToken, g.RefreshToken)
			}
			return err
		}, nil},
		{"refresh reuse", func() error {
			_, err := svc.Refresh(web, grant.RefreshToken)
			return wantErr(err, auth.ErrRefreshInvalid)
		},
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditRefreshReuse, User: "bob", UserKey: "bob", UserID: bob.ID, SessionID: grant.SessionID, ClientIP: "198.51.100.7"}
			}},
		{"logout", func() error { grant = session(bob); return svc.Logout(web, principal(grant), false) },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLogout, Actor: "bob", User: "bob", UserKey: "bob", UserID: bob.ID, SessionID: grant.SessionID, ClientIP: "198.51.100.7"}
			}},
		{"logout by refresh token", func() error { grant = session(bob); return svc.LogoutRefresh(web, grant.RefreshToken) },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLogout, Actor: "bob", User: "bob", UserKey: "bob", UserID: bob.ID, SessionID: grant.SessionID, ClientIP: "198.51.100.7"}
			}},
		{"logout everywhere", func() error { return svc.Logout(web, principal(session(bob)), true) },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditLogoutAll, Actor: "bob", User: "bob", UserKey: "bob", UserID: bob.ID, ClientIP: "198.51.100.7"}
			}},
		{"delete", func() error { return svc.DeleteUser(web, adaP, "Bob") },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditUserDelete, Actor: "Ada", User: "Bob", UserKey: "bob", ClientIP: "198.51.100.7"}
			}},
		{"key rotation", func() error {
			if _, err := auth.EnsureSigningKey(ctx, r.store, r.clock.Now(), func() (auth.StoredKey, error) {
				return auth.NewStoredKey(jwt.HS256, r.clock.Now())
			}); err != nil {
				return err
			}
			k, err := svc.RotateKey(cli, jwt.ES256, time.Hour)
			kid = k.ID
			secrets = append(secrets, string(k.JWK))
			return err
		}, func() auth.AuditEvent {
			return auth.AuditEvent{Kind: auth.AuditKeyRotate, Actor: "cli@host", KeyID: kid, Reason: "alg=ES256 grace=1h0m0s"}
		}},
		{"client", func() error {
			c, secret, err := svc.RegisterClient(cli, auth.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
			if err == nil {
				clientID = c.ID
				secrets = append(secrets, secret)
			}
			return err
		}, func() auth.AuditEvent {
			return auth.AuditEvent{Kind: auth.AuditClientRegister, Actor: "cli@host", ClientID: clientID, Reason: `name="App" public=false`}
		}},
		{"client secret", func() error {
			secret, err := svc.RotateClientSecret(cli, clientID)
			secrets = append(secrets, secret)
			return err
		}, func() auth.AuditEvent {
			return auth.AuditEvent{Kind: auth.AuditClientSecret, Actor: "cli@host", ClientID: clientID}
		}},
		{"client delete", func() error { return svc.DeleteClient(cli, clientID) },
			func() auth.AuditEvent {
				return auth.AuditEvent{Kind: auth.AuditClientDelete, Actor: "cli@host", ClientID: clientID}
			}},
	}
	for _, st := range steps {
		r.clock.Advance(time.Second)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := r.since(t)
		if st.want == nil {
			if len(got) != 0 {
				t.Errorf("%s: recorded %+v, want nothing", st.name, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: recorded %d events %+v, want 1", st.name, len(got), got)
			continue
		}
		want := st.want()
		want.ID = got[0].ID
		want.Time = r.clock.Now()
		if !got[0].Time.Equal(want.Time) || got[0] != (auth.AuditEvent{ID: want.ID, Time: got[0].Time, Kind: want.Kind, Actor: want.Actor,
			User: want.User, UserKey: want.UserKey, UserID: want.UserID, ClientIP: want.ClientIP, SessionID: want.SessionID,
			ClientID: want.ClientID, KeyID: want.KeyID, Reason: want.Reason}) {
			t.Errorf("%s:\n got %+v\nwant %+v", st.name, got[0], want)
		}
	}
	// The log has one "audit" line per stored event, with its kind as
	// the event attribute.
	all, err := svc.AuditEvents(ctx, auth.AuditFilter{Limit: auth.MaxAuditPage})
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, l := range testutil.JSONLines(t, r.logs.String()) {
		if l["msg"] == "audit" {
			logged = append(logged, fmt.Sprint(l["event"]))
		}
	}
	if len(logged) != len(all) {
		t.Errorf("%d audit log lines %v, want one per event (%d)", len(logged), logged, len(all))
	}
	for i, e := range all {
		if j := len(all) - 1 - i; j < len(logged) && logged[j] != string(e.Kind) {
			t.Errorf("log line %d has event %s, want %s", j, logged[j], e.Kind)
		}
	}
	secrets = append(secrets, adaPW, bobPW)
	records := fmt.Sprintf("%+v", all)
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a step handled no credential")
		}
		if strings.Contains(records, s) || strings.Contains(r.logs.String(), s) {
			t.Errorf("a credential (%.8s…) is in the audit records or the log", s)
		}
	}
	if n := svc.AuditFailures(); n != 0 {
		t.Errorf("AuditFailures = %d, want 0", n)
	}
}

func wantErr(err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("err = %v, want %v", err, want)
	}
	return nil
}

// Attempts the address limit refuses are recorded a few per address and
// interval, not one write per attempt of a flood.
func TestAuditRateLimitedLoginsBounded(t *testing.T) {
	r := newAuditRig(t, nil)
	r.svc.IPLimit = &auth.Limiter{Every: time.Hour, Burst: 1, Now: r.clock.Now}
	reasons := func() map[string]int {
		m := map[string]int{}
		for _, e := range r.since(t) {
			m[e.Reason]++
		}
		return m
	}
	for range 50 {
		r.svc.Login(ctx, "192.0.2.9", "someone", "some password")
	}
	r.svc.Login(ctx, "192.0.2.10", "someone", "some password")
	if got := reasons(); got[auth.AuditUnknownUser] != 2 || got[auth.AuditRateLimited] != 3 || len(got) != 2 {
		t.Errorf("50 attempts from one address, 1 from another: reasons %v, want unknown_user 2, rate_limited 3", got)
	}
	r.clock.Advance(20 * time.Second)
	r.svc.Login(ctx, "192.0.2.9", "someone", "some password")
	if got := reasons(); got[auth.AuditRateLimited] != 1 || len(got) != 1 {
		t.Errorf("after 20 s: reasons %v, want one rate_limited", got)
	}
}

// A login whose audit write fails still succeeds; the failure is counted,
// logged (once per interval through lograte, with a count), and the event
// itself is still in the log.
func TestAuditWriteFailureDoesNotFailLogin(t *testing.T) {
	r := newAuditRig(t, func(h slog.Handler) slog.Handler { return lograte.New(h, lograte.Options{Every: time.Hour}) })
	if _, err := r.svc.CreateUser(ctx, "cleo", "cleo's password", auth.RoleReader); err != nil {
		t.Fatal(err)
	}
	r.store.down.Store(true)
	for i := range 3 {
		u, err := r.svc.Login(ctx, "192.0.2.1", "cleo", "cleo's password")
		if err != nil || u == nil || u.Name != "cleo" {
			t.Fatalf("login %d with the audit store down: %v, %v", i, u, err)
		}
		if n := r.svc.AuditFailures(); n != uint64(i+1) {
			t.Fatalf("AuditFailures = %d after %d logins, want %d", n, i+1, i+1)
		}
	}
	var failures, events int
	for _, l := range testutil.JSONLines(t, r.logs.String()) {
		switch l["msg"] {
		case "audit event not recorded":
			failures++
			if l["event"] != string(auth.AuditLoginSuccess) || !strings.Contains(fmt.Sprint(l["err"]), "audit write") || l["level"] != "ERROR" {
				t.Errorf("failure line %v: want event login.success, the error, level ERROR", l)
			}
		case "audit":
			if l["event"] == string(auth.AuditLoginSuccess) {
				events++
			}
		}
	}
	if failures != 1 || events != 3 {
		t.Errorf("log: %d failure lines (want 1, the repeats held back) and %d login events (want 3):\n%s", failures, events, r.logs.String())
	}
	r.store.down.Store(false)
	if _, err := r.svc.Login(ctx, "192.0.2.1", "cleo", "cleo's password"); err != nil {
		t.Fatal(err)
	}
	es, err := r.svc.AuditEvents(ctx, auth.AuditFilter{User: "cleo", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Kind != auth.AuditLoginSuccess || es[1].Kind != auth.AuditUserCreate {
		t.Errorf("stored events of cleo: %+v, want the create and the last login", es)
	}
	if n := r.svc.AuditFailures(); n != 3 {
		t.Errorf("AuditFailures = %d, want 3", n)
	}
}

// A cancelled request does not keep its login out of the trail.
func TestAuditSurvivesCancelledRequest(t *testing.T) {
	r := newAuditRig(t, nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.svc.Login(cctx, "192.0.2.1", "", "x"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("login: %v", err)
	}
	if got := r.since(t); len(got) != 1 || got[0].Reason != auth.AuditInvalid {
		t.Errorf("recorded %+v, want the failed login", got)
	}
}

// Overlong and invalid UTF-8 names typed at the login are stored cut to
// MaxUsernameLen bytes of valid UTF-8.
func TestAuditTypedNameBounded(t *testing.T) {
	r := newAuditRig(t, nil)
	long := strings.Repeat("é", 100) + "\xff"
	if _, err := r.svc.Login(ctx, "192.0.2.1", long, "password"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("login: %v", err)
	}
	got := r.since(t)
	if len(got) != 1 || got[0].User != strings.Repeat("é", auth.MaxUsernameLen/2) {
		t.Errorf("recorded %+v, want the name cut to %d bytes", got, auth.MaxUsernameLen)
	}
}
