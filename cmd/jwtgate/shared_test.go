package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// On PostgreSQL the per-address login burst is spent across instances:
// of attempts alternating between A and B, the burst passes in total and
// the next is refused on either.
func TestTwoInstancesShareLoginLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	args := append(postgresBackend.args(t), "--login-ip-burst", "3", "--login-ip-every", "1h")
	a := startProcess(t, "", args...)
	b := startProcess(t, "", args...)
	const guess = `{"username":"nobody","password":"a guess"}`
	for i, p := range []*process{a, b, a} {
		if code, m := postJSON(t, p.base+"/login", "", guess); code != 401 {
			t.Fatalf("attempt %d of the burst of 3: %d %v, want 401", i+1, code, m)
		}
	}
	for _, p := range []*process{b, a} {
		code, h, m := call(t, "POST", p.base+"/login", "", "application/json", guess)
		if code != 429 || m["code"] != "rate_limited" || h.Get("Retry-After") == "" {
			t.Fatalf("attempt past the burst: %d %v %v, want 429 rate_limited with Retry-After", code, h, m)
		}
	}
}

// On PostgreSQL a logout on A is refused on B at once, by notification,
// long before B's next poll of the revocations.
func TestTwoInstancesNotifyRevocations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	args := postgresBackend.args(t)
	if out, err := runBinary(t, "notify-password-1\n", append([]string{"user", "add", "mia"}, args...)...); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	args = append(args, "--revocation-poll", "1m")
	a := startProcess(t, "", args...)
	b := startProcess(t, "", args...)
	testutil.Eventually(t, 10*time.Second, "B listening", func() bool {
		return strings.Contains(b.logs.String(), "listening for revocations")
	})
	code, g := postJSON(t, a.base+"/login", "", `{"username":"mia","password":"notify-password-1"}`)
	if code != 200 {
		t.Fatalf("login on A: %d %v", code, g)
	}
	access := g["access_token"].(string)
	if code, _, _ := call(t, "GET", b.base+"/me", access, "", ""); code != 200 {
		t.Fatalf("A's token on B: %d", code)
	}
	if code, _, _ := call(t, "POST", a.base+"/logout", access, "", ""); code != 204 {
		t.Fatalf("logout on A: %d", code)
	}
	// Well within the minute of the poll, even on a loaded machine.
	took := testutil.Eventually(t, 10*time.Second, "logout on A seen by B", func() bool {
		code, _, _ := call(t, "GET", b.base+"/me", access, "", "")
		return code == 401
	})
	t.Logf("logout on A refused on B after %v", took)
}
