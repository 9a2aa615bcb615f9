package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// lifetimes returns s as an auth.TokenLifetimeStore: every backend must be
// one, or revocations made from the command line end too early.
func lifetimes(t *testing.T, s auth.Store) auth.TokenLifetimeStore {
	t.Helper()
	ls, ok := s.(auth.TokenLifetimeStore)
	if !ok {
		t.Fatalf("%T does not implement auth.TokenLifetimeStore", s)
	}
	return ls
}

func lifetimesAt(t *testing.T, ls auth.TokenLifetimeStore, now time.Time) map[string]auth.TokenLifetime {
	t.Helper()
	recs, err := ls.TokenLifetimes(ctx, now)
	if err != nil {
		t.Fatalf("TokenLifetimes: %v", err)
	}
	m := map[string]auth.TokenLifetime{}
	for _, r := range recs {
		if _, dup := m[r.Instance]; dup {
			t.Errorf("instance %s returned twice", r.Instance)
		}
		m[r.Instance] = r
	}
	return m
}

// sameLifetime compares records exactly: base-aligned values are kept
// exactly by every backend.
func sameLifetime(a, b auth.TokenLifetime) bool {
	return a.Instance == b.Instance && a.AccessTTL == b.AccessTTL && a.Leeway == b.Leeway && a.Until.Equal(b.Until)
}

func testTokenLifetimes(t *testing.T, s auth.Store) {
	ls := lifetimes(t, s)
	if got := lifetimesAt(t, ls, base); len(got) != 0 {
		t.Fatalf("a new store has records: %v", got)
	}
	long := auth.TokenLifetime{Instance: "long", AccessTTL: 2 * time.Hour, Leeway: 5 * time.Second, Until: base.Add(3 * time.Hour)}
	short := auth.TokenLifetime{Instance: "short", AccessTTL: 10 * time.Minute, Leeway: 45 * time.Second, Until: base.Add(30 * time.Minute)}
	for _, r := range []auth.TokenLifetime{long, short} {
		if err := ls.RecordTokenLifetime(ctx, r); err != nil {
			t.Fatalf("RecordTokenLifetime(%s): %v", r.Instance, err)
		}
	}
	got := lifetimesAt(t, ls, base)
	if len(got) != 2 || !sameLifetime(got["long"], long) || !sameLifetime(got["short"], short) {
		t.Errorf("records = %+v, want %+v and %+v", got, long, short)
	}
	if got := lifetimesAt(t, ls, short.Until); len(got) != 1 || !sameLifetime(got["long"], long) {
		t.Errorf("at short's Until the records are %+v, want only long", got)
	}
	// The longest lifetime plus the longest leeway: a token issued by one
	// instance may be checked by another.
	if age, err := auth.LongestTokenAge(ctx, ls, base, time.Minute); err != nil || age != 2*time.Hour+45*time.Second {
		t.Errorf("LongestTokenAge = %v, %v; want 2h0m45s", age, err)
	}
	if age, err := auth.LongestTokenAge(ctx, ls, base, 5*time.Hour); err != nil || age != 5*time.Hour {
		t.Errorf("LongestTokenAge at least 5h = %v, %v", age, err)
	}
	if age, err := auth.LongestTokenAge(ctx, ls, long.Until, time.Minute); err != nil || age != time.Minute {
		t.Errorf("LongestTokenAge without records in force = %v, %v; want the minimum", age, err)
	}

	// A record is never shortened; a longer one extends it.
	if err := ls.RecordTokenLifetime(ctx, auth.TokenLifetime{Instance: "long", AccessTTL: time.Minute, Leeway: 0, Until: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := lifetimesAt(t, ls, base); !sameLifetime(got["long"], long) {
		t.Errorf("a shorter record replaced long: %+v", got["long"])
	}
	longer := auth.TokenLifetime{Instance: "long", AccessTTL: 3 * time.Hour, Leeway: time.Minute, Until: base.Add(4 * time.Hour)}
	if err := ls.RecordTokenLifetime(ctx, longer); err != nil {
		t.Fatal(err)
	}
	if got := lifetimesAt(t, ls, base); len(got) != 2 || !sameLifetime(got["long"], longer) {
		t.Errorf("long = %+v, want %+v", got["long"], longer)
	}

	// Precision below the store's rounds up, never down.
	odd := auth.TokenLifetime{Instance: "odd", AccessTTL: time.Second + 1, Leeway: 1, Until: base.Add(time.Hour + 1)}
	if err := ls.RecordTokenLifetime(ctx, odd); err != nil {
		t.Fatal(err)
	}
	r := lifetimesAt(t, ls, base)["odd"]
	if r.AccessTTL < odd.AccessTTL || r.AccessTTL > odd.AccessTTL+time.Millisecond ||
		r.Leeway < odd.Leeway || r.Leeway > time.Millisecond ||
		r.Until.Before(odd.Until) || r.Until.After(odd.Until.Add(time.Millisecond)) {
		t.Errorf("odd = %+v, want %+v rounded up to at most a millisecond", r, odd)
	}
	if got := lifetimesAt(t, ls, odd.Until.Add(-1)); got["odd"].Instance == "" {
		t.Errorf("odd lapsed before its Until: %+v", got)
	}

	// A lifetime must be positive and a leeway not negative.
	for _, bad := range []auth.TokenLifetime{
		{Instance: "zero", AccessTTL: 0, Until: base.Add(time.Hour)},
		{Instance: "negative", AccessTTL: time.Minute, Leeway: -time.Second, Until: base.Add(time.Hour)},
	} {
		if err := ls.RecordTokenLifetime(ctx, bad); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("RecordTokenLifetime(%+v): %v, want ErrInvalid", bad, err)
		}
	}

	// PurgeExpired deletes records whose Until has passed, and only those.
	if err := s.PurgeExpired(ctx, base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := lifetimesAt(t, ls, base); len(got) != 1 || !sameLifetime(got["long"], longer) {
		t.Errorf("after the purge: %+v, want only long", got)
	}
}

// testTokenLifetimesUnavailable holds the lifetime methods to the
// contracts of a cancelled context and a closed store.
func testTokenLifetimesUnavailable(t *testing.T, s auth.Store) {
	ls := lifetimes(t, s)
	rec := auth.TokenLifetime{Instance: "i", AccessTTL: time.Minute, Until: base.Add(time.Hour)}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := ls.RecordTokenLifetime(c, rec); !errors.Is(err, context.Canceled) {
		t.Errorf("RecordTokenLifetime with a cancelled context: %v", err)
	}
	if _, err := ls.TokenLifetimes(c, base); !errors.Is(err, context.Canceled) {
		t.Errorf("TokenLifetimes with a cancelled context: %v", err)
	}
	if got := lifetimesAt(t, ls, base); len(got) != 0 {
		t.Errorf("a cancelled RecordTokenLifetime stored %+v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ls.RecordTokenLifetime(ctx, rec); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("RecordTokenLifetime after Close: %v, want ErrUnavailable", err)
	}
	if _, err := ls.TokenLifetimes(ctx, base); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("TokenLifetimes after Close: %v, want ErrUnavailable", err)
	}
}
