package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// The faultStore keeps the audit trail in its SQLite store.
func (f *faultStore) AddAuditEvent(ctx context.Context, e *auth.AuditEvent) error {
	return f.do(func() error { return f.s.AddAuditEvent(ctx, e) })
}
func (f *faultStore) AuditEvents(ctx context.Context, af auth.AuditFilter) ([]auth.AuditEvent, error) {
	return call(f, func() ([]auth.AuditEvent, error) { return f.s.AuditEvents(ctx, af) })
}
func (f *faultStore) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	return call(f, func() (int64, error) { return f.s.PurgeAudit(ctx, before) })
}

// auditEnv is an env whose Service records the audit trail in its store.
func auditEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.svc.Audit = &auth.StoreAudit{Store: e.store}
	return e
}

func getAudit(t *testing.T, e *env, token, query string) auditList {
	t.Helper()
	r := e.get("/audit"+query, token)
	wantStatus(t, r, http.StatusOK)
	var l auditList
	decodeStrict(t, r.body, &l)
	return l
}

// GET /audit pages through the trail newest first, filtered by user and
// time, for admins only; the events of the HTTP calls carry the client
// address and the acting admin.
func TestAuditEndpoint(t *testing.T) {
	e := auditEnv(t)
	e.login("alice")
	e.clock.Advance(time.Hour)
	admin := e.login("alice")
	editor := e.login("eddie")
	r := e.sendJSON("POST", "/login", "", `{"username":"RITA","password":"wrong password"}`)
	wantStatus(t, r, http.StatusUnauthorized)
	wantStatus(t, e.sendJSON("PATCH", "/users/rita", admin, `{"role":"editor"}`), http.StatusOK)
	wantStatus(t, e.send(req{method: "POST", path: "/logout", token: editor}), http.StatusNoContent)

	all := getAudit(t, e, admin, "")
	var kinds []string
	for _, ev := range all.Events {
		kinds = append(kinds, ev.Event+" "+ev.User)
	}
	want := []string{"logout eddie", "user.role rita", "login.failure RITA", "login.success eddie", "login.success alice", "login.success alice"}
	if !slices.Equal(kinds, want) || all.NextCursor != "" {
		t.Fatalf("events %q (next %q), want %q and no next page", kinds, all.NextCursor, want)
	}
	role := all.Events[1]
	if role.Actor != "alice" || role.ClientIP != "127.0.0.1" || role.Reason != "role=editor" {
		t.Errorf("role change %+v: want actor alice from 127.0.0.1, reason role=editor", role)
	}
	if f := all.Events[2]; f.UserKey != "rita" || f.Reason != auth.AuditBadPassword || f.ClientIP != "127.0.0.1" {
		t.Errorf("failed login %+v: want user_key rita, reason bad_password, client 127.0.0.1", f)
	}
	if lo := all.Events[0]; lo.SessionID == "" || lo.ClientIP != "127.0.0.1" || lo.Actor != "eddie" {
		t.Errorf("logout %+v: want its session, client and actor", lo)
	}

	// Pages of two, by next_cursor, give every event once.
	var paged []int64
	for q := "?limit=2"; ; {
		p := getAudit(t, e, admin, q)
		for _, ev := range p.Events {
			paged = append(paged, ev.ID)
		}
		if p.NextCursor == "" {
			break
		}
		q = "?limit=2&before=" + p.NextCursor
	}
	if len(paged) != len(all.Events) {
		t.Errorf("paged ids %v, want all %d", paged, len(all.Events))
	}
	for i, ev := range all.Events {
		if i < len(paged) && paged[i] != ev.ID {
			t.Errorf("page order %v differs from %v", paged, all.Events)
			break
		}
	}

	filters := []struct {
		query string
		want  int
	}{
		{"?user=Rita", 2},
		{"?user=alice", 3}, // her logins, and the change she made
		{"?user=nobody", 0},
		{"?since=30m", 5},
		{"?since=" + e.clock.Now().Add(-30*time.Minute).UTC().Format(time.RFC3339), 5},
		{"?user=eddie&since=30m", 2},
	}
	for _, f := range filters {
		if got := getAudit(t, e, admin, f.query); len(got.Events) != f.want {
			t.Errorf("GET /audit%s: %d events, want %d", f.query, len(got.Events), f.want)
		}
	}

	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?before=0", "?before=x", "?since=-1h", "?since=yesterday", "?user=a&user=b"} {
		wantProblem(t, e.get("/audit"+q, admin), http.StatusBadRequest, codeInvalidRequest)
	}
	wantProblem(t, e.get("/audit", e.login("edna")), http.StatusForbidden, codeForbidden)
	wantProblem(t, e.get("/audit", ""), http.StatusUnauthorized, codeTokenMissing)
}

// No password or token reaches the trail through the HTTP calls.
func TestAuditEndpointHoldsNoCredential(t *testing.T) {
	e := auditEnv(t)
	admin := e.login("alice")
	r := e.sendJSON("POST", "/login", "", `{"username":"rita","password":"`+pw("alice")+`"}`)
	wantStatus(t, r, http.StatusUnauthorized)
	body := string(e.get("/audit", admin).body)
	for _, s := range []string{pw("alice"), admin} {
		if strings.Contains(body, s) {
			t.Errorf("GET /audit holds a credential: %s", body)
		}
	}
	if !strings.Contains(body, `"event":"login.failure"`) {
		t.Errorf("GET /audit: %s, want the failed login", body)
	}
}

// Client changes through the admin API name the acting admin and the
// client address.
func TestAuditClientChanges(t *testing.T) {
	e := auditEnv(t)
	admin := e.login("alice")
	r := e.sendJSON("POST", "/clients", admin, `{"name":"Wiki","redirect_uris":["https://wiki.example/cb"]}`)
	wantStatus(t, r, http.StatusCreated)
	var c struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(r.body, &c); err != nil || c.ClientID == "" {
		t.Fatalf("POST /clients: %s", r.body)
	}
	wantStatus(t, e.send(req{method: "POST", path: "/clients/" + c.ClientID + "/secret", token: admin}), http.StatusOK)
	wantStatus(t, e.send(req{method: "DELETE", path: "/clients/" + c.ClientID, token: admin}), http.StatusNoContent)
	var got []string
	for _, ev := range getAudit(t, e, admin, "").Events {
		if strings.HasPrefix(ev.Event, "client.") {
			if ev.Actor != "alice" || ev.ClientIP != "127.0.0.1" || ev.ClientID != c.ClientID {
				t.Errorf("%s: %+v, want actor alice from 127.0.0.1 and the client's id", ev.Event, ev)
			}
			got = append(got, ev.Event)
		}
	}
	if want := []string{"client.delete", "client.secret_rotate", "client.register"}; !slices.Equal(got, want) {
		t.Errorf("client events %q, want %q", got, want)
	}
}
