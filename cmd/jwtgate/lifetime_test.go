package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// refusedFor checks that url refuses tok with code for a while: long enough
// for many revocation polls of a server polling every 10ms.
func refusedFor(t *testing.T, what, url, tok, code string) {
	t.Helper()
	for end := time.Now().Add(150 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		status, _, m := call(t, "GET", url, tok, "", "")
		if status != 401 || m["code"] != code {
			t.Fatalf("%s: GET /me %d %v, want 401 %s", what, status, m["code"], code)
		}
	}
}

// The bug found by the audit: `jwtgate user disable` took the access-token
// lifetime from its own environment (here 10s), not from the servers'
// flags, so the revocation it recorded ended long before the user's token
// expired and the token worked again. Server A issues 1-hour tokens (more
// than the command line's default of 15m30s, so only A's recorded
// lifetime can make the revocation long enough); server B, on the same
// database, was started with 10-second tokens, so it has no lifetime of
// its own to hold the revocation by either. Both must refuse A's token
// until it expires. The servers' clock is moved instead of waiting.
func TestUserDisableRefusesTokensForTheServersTokenAge(t *testing.T) {
	data := t.TempDir()
	start := time.Now()
	clk := testutil.NewClock(start)
	a, _ := startServerAt(t, data, clk.Now, "--access-ttl", "1h", "--leeway", "0s", "--revocation-poll", "10ms")
	b, _ := startServerAt(t, data, clk.Now, "--access-ttl", "10s", "--leeway", "0s", "--revocation-poll", "10ms")
	addUser(t, data, "bob", "reader", "bob-password-1")
	tok := login(t, a, "bob", "bob-password-1")
	for _, base := range []string{a, b} {
		if code, _, _ := call(t, "GET", base+"/me", tok, "", ""); code != 200 {
			t.Fatalf("%s/me before disable: %d", base, code)
		}
	}

	shell := map[string]string{"JWTGATE_ACCESS_TTL": "10s", "JWTGATE_LEEWAY": "0s"}
	mustOK(t, jwtgate(t, shell, "", "user", "disable", "bob", "--data", data))
	for _, base := range []string{a, b} {
		testutil.Eventually(t, time.Second, base+" refuses the disabled user's token", func() bool {
			code, _, _ := call(t, "GET", base+"/me", tok, "", "")
			return code == 401
		})
	}
	for _, after := range []time.Duration{11 * time.Second, 16 * time.Minute, 59 * time.Minute} {
		clk.Set(start.Add(after))
		for name, base := range map[string]string{"A": a, "B": b} {
			refusedFor(t, fmt.Sprintf("%s at +%v", name, after), base+"/me", tok, "token_revoked")
		}
	}
	clk.Set(start.Add(time.Hour + time.Second))
	refusedFor(t, "B after the token's lifetime", b+"/me", tok, "token_expired")
}

// `jwtgate key rotate` without --grace keeps the old keys verifying for as
// long as the servers on the database accept tokens, as they recorded it
// (1h plus 30s of leeway here), however its own environment is set.
func TestKeyRotateDefaultGraceFollowsTheServers(t *testing.T) {
	data := t.TempDir()
	startServerAt(t, data, nil, "--access-ttl", "1h")
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// rotate runs key rotate and returns the grace period the key retired
	// by it got, to within the time the command took.
	rotate := func(env map[string]string, args ...string) (lo, hi time.Duration) {
		t.Helper()
		before, err := db.SigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		active := map[string]bool{}
		for _, k := range before {
			active[k.ID] = k.RetireAt.IsZero()
		}
		t0 := time.Now()
		mustOK(t, jwtgate(t, env, "", append([]string{"key", "rotate", "--data", data}, args...)...))
		t1 := time.Now()
		after, err := db.SigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range after {
			if active[k.ID] {
				return k.RetireAt.Sub(t1), k.RetireAt.Sub(t0)
			}
		}
		t.Fatalf("no key was retired: %+v", after)
		return 0, 0
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want time.Duration
	}{
		{"the server's recorded lifetime", nil, nil, time.Hour + 30*time.Second},
		{"a shorter environment changes nothing", map[string]string{"JWTGATE_ACCESS_TTL": "5m", "JWTGATE_LEEWAY": "0s"}, nil, time.Hour + 30*time.Second},
		{"a longer environment wins", map[string]string{"JWTGATE_ACCESS_TTL": "3h"}, nil, 3*time.Hour + 30*time.Second},
		{"--grace wins", nil, []string{"--grace", "1m"}, time.Minute},
	} {
		lo, hi := rotate(tc.env, tc.args...)
		// Stored times keep milliseconds.
		if tc.want < lo-time.Millisecond || tc.want > hi+time.Millisecond {
			t.Errorf("%s: grace between %v and %v, want %v", tc.name, lo, hi, tc.want)
		}
	}
	if age, err := auth.LongestTokenAge(context.Background(), db, time.Now(), 0); err != nil || age != time.Hour+30*time.Second {
		t.Errorf("recorded token age %v, %v; want 1h0m30s", age, err)
	}
}
