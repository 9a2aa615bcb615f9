package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// auditStore returns s as an auth.AuditStore: every backend keeps the
// audit trail.
func auditStore(t *testing.T, s auth.Store) auth.AuditStore {
	t.Helper()
	as, ok := s.(auth.AuditStore)
	if !ok {
		t.Fatalf("%T does not implement auth.AuditStore", s)
	}
	return as
}

func addAudit(t *testing.T, as auth.AuditStore, e auth.AuditEvent) auth.AuditEvent {
	t.Helper()
	if err := as.AddAuditEvent(ctx, &e); err != nil {
		t.Fatalf("AddAuditEvent(%s): %v", e.Kind, err)
	}
	return e
}

func auditIDs(t *testing.T, as auth.AuditStore, f auth.AuditFilter) []int64 {
	t.Helper()
	es, err := as.AuditEvents(ctx, f)
	if err != nil {
		t.Fatalf("AuditEvents(%+v): %v", f, err)
	}
	ids := []int64{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func sameAudit(a, b auth.AuditEvent) bool {
	return a.ID == b.ID && sameTime(a.Time, b.Time) && a.Kind == b.Kind && a.Actor == b.Actor && a.User == b.User &&
		a.UserKey == b.UserKey && a.UserID == b.UserID && a.ClientIP == b.ClientIP && a.SessionID == b.SessionID &&
		a.ClientID == b.ClientID && a.KeyID == b.KeyID && a.Reason == b.Reason
}

// Every field round-trips; ids increase; the newest comes first; a user
// filter matches the event's user or actor by NameKey; Since and Before
// narrow; pages by Before cover every event once.
func testAuditEvents(t *testing.T, s auth.Store) {
	as := auditStore(t, s)
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := addAudit(t, as, auth.AuditEvent{Time: base, Kind: auth.AuditLoginFailure, User: "ＡＤＡ 'x\"\\\n", UserKey: "ada 'x\"\\\n",
		UserID: 7, ClientIP: "2001:db8::1", SessionID: "sess-1", ClientID: "client-1", KeyID: "kid-1", Reason: auth.AuditBadPassword})
	if full.ID <= 0 {
		t.Fatalf("AddAuditEvent set ID %d, want > 0", full.ID)
	}
	events := []auth.AuditEvent{full}
	for i, e := range []auth.AuditEvent{
		{Kind: auth.AuditLoginSuccess, User: "Ada", UserKey: "ada"},
		{Kind: auth.AuditRoleChange, Actor: "root", User: "bob", UserKey: "bob", Reason: "role=admin"},
		{Kind: auth.AuditUserDelete, Actor: "ADA", User: "carl", UserKey: "carl"},
		{Kind: auth.AuditKeyRotate, Actor: "cli@host", KeyID: "kid-2"},
	} {
		e.Time = base.Add(time.Duration(i+1) * time.Minute)
		events = append(events, addAudit(t, as, e))
	}
	for i := 1; i < len(events); i++ {
		if events[i].ID <= events[i-1].ID {
			t.Fatalf("ids %d then %d, want increasing", events[i-1].ID, events[i].ID)
		}
	}
	all, err := as.AuditEvents(ctx, auth.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(events) {
		t.Fatalf("AuditEvents returned %d events, want %d", len(all), len(events))
	}
	for i, got := range all {
		if want := events[len(events)-1-i]; !sameAudit(got, want) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	id := func(i int) int64 { return events[i].ID }
	tests := []struct {
		name string
		f    auth.AuditFilter
		want []int64
	}{
		{"user or actor, any case", auth.AuditFilter{User: "aDa", Limit: 100}, []int64{id(3), id(1)}},
		{"width variant", auth.AuditFilter{User: "ｂｏｂ", Limit: 100}, []int64{id(2)}},
		{"actor only", auth.AuditFilter{User: "root", Limit: 100}, []int64{id(2)}},
		{"nobody", auth.AuditFilter{User: "zed", Limit: 100}, []int64{}},
		{"no LIKE", auth.AuditFilter{User: "%", Limit: 100}, []int64{}},
		{"since", auth.AuditFilter{Since: base.Add(2 * time.Minute), Limit: 100}, []int64{id(4), id(3), id(2)}},
		{"before", auth.AuditFilter{Before: id(2), Limit: 100}, []int64{id(1), id(0)}},
		{"limit", auth.AuditFilter{Limit: 2}, []int64{id(4), id(3)}},
		{"user and before", auth.AuditFilter{User: "ada", Before: id(3), Limit: 1}, []int64{id(1)}},
	}
	for _, tc := range tests {
		if got := auditIDs(t, as, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.name, got, tc.want)
		}
	}
	var paged []int64
	for before := int64(0); ; {
		page := auditIDs(t, as, auth.AuditFilter{Before: before, Limit: 2})
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		before = page[len(page)-1]
	}
	if want := []int64{id(4), id(3), id(2), id(1), id(0)}; !slices.Equal(paged, want) {
		t.Errorf("pages of 2: %v, want %v", paged, want)
	}
	for _, f := range []auth.AuditFilter{{Limit: 0}, {Limit: -1}, {Limit: 1, Before: -1}} {
		if _, err := as.AuditEvents(ctx, f); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("AuditEvents(%+v): %v, want ErrInvalid", f, err)
		}
	}
}

// PurgeAudit deletes exactly the events older than its time and says how
// many; ids are not reused after a purge.
func testAuditPurge(t *testing.T, s auth.Store) {
	as := auditStore(t, s)
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var last int64
	for i := range 5 {
		last = addAudit(t, as, auth.AuditEvent{Time: base.Add(time.Duration(i) * time.Hour), Kind: auth.AuditLogout, User: "ada"}).ID
	}
	n, err := as.PurgeAudit(ctx, base.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("PurgeAudit deleted %d, want 2", n)
	}
	es, err := as.AuditEvents(ctx, auth.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || !sameTime(es[2].Time, base.Add(2*time.Hour)) {
		t.Fatalf("after purge: %+v, want the 3 events from +2h on", es)
	}
	if n, err := as.PurgeAudit(ctx, base.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("PurgeAudit again: %d, %v; want 0, nil", n, err)
	}
	if _, err := as.PurgeAudit(ctx, base.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if e := addAudit(t, as, auth.AuditEvent{Time: base, Kind: auth.AuditLogout}); e.ID <= last {
		t.Errorf("id %d after purging up to %d: ids must not be reused", e.ID, last)
	}
}
