package httpapi

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/lograte"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// TestReadyzNeedsWrites: with the disk full (writes fail, reads and Ping
// work) every login and logout fails, so the server is not ready.
func TestReadyzNeedsWrites(t *testing.T) {
	e := newEnv(t, envOptions{})
	eddie := e.login("eddie")
	wantStatus(t, e.get("/readyz", ""), 200)

	e.store.full.Store(true)
	wantStatus(t, e.get("/posts", eddie), 200) // reads still work
	// A success is trusted for a second (readiness checks are public and
	// each probe is a write), so the 503 may take that long.
	wantProblem(t, e.eventually("/readyz", 503), 503, codeUnavailable)
	wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"eddie","password":"`+pw("eddie")+`"}`), 503, codeUnavailable)

	e.store.full.Store(false)
	wantStatus(t, e.get("/readyz", ""), 200)
}

// eventually GETs path until it answers status, for up to a minute, and
// returns the last response.
func (e *env) eventually(path string, status int) resp {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := e.get(path, "")
		if r.StatusCode == status || time.Now().After(deadline) {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEvery503SaysWhenToRetry sends requests that fail with 503 for each
// reason the server has: every one carries Retry-After in seconds.
func TestEvery503SaysWhenToRetry(t *testing.T) {
	e := newEnv(t, envOptions{})
	eddie := e.login("eddie")
	alice := e.login("alice")
	g, _ := e.loginGrant("rita", "")
	requests := []struct {
		name string
		q    req
	}{
		{"readyz", req{method: "GET", path: "/readyz"}},
		{"login", req{method: "POST", path: "/login", ctype: "application/json", body: `{"username":"eddie","password":"` + pw("eddie") + `"}`}},
		{"refresh", req{method: "POST", path: "/refresh", ctype: "application/json", body: `{"refresh_token":"` + g.RefreshToken + `"}`}},
		{"logout", req{method: "POST", path: "/logout", token: eddie}},
		{"logout with a refresh token", req{method: "POST", path: "/logout", ctype: "application/json", body: `{"refresh_token":"` + g.RefreshToken + `"}`}},
		{"list posts", req{method: "GET", path: "/posts", token: eddie}},
		{"create post", req{method: "POST", path: "/posts", token: eddie, ctype: "application/json", body: `{"title":"t","body":"b"}`}},
		{"create user", req{method: "POST", path: "/users", token: alice, ctype: "application/json", body: `{"username":"newbie","password":"newbie-password","role":"reader"}`}},
		{"update user", req{method: "PATCH", path: "/users/rita", token: alice, ctype: "application/json", body: `{"role":"editor"}`}},
	}
	for _, mode := range []string{"down", "full"} {
		for _, tc := range requests {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				e.store.down.Store(mode == "down")
				e.store.full.Store(mode == "full")
				defer e.store.down.Store(false)
				defer e.store.full.Store(false)
				r := e.send(tc.q)
				if r.StatusCode != 503 {
					if mode == "full" && (tc.name == "list posts") {
						return // a read: works on a full disk
					}
					t.Fatalf("got %v, want 503", r)
				}
				wantProblem(t, r, 503, codeUnavailable)
				s, err := strconv.Atoi(r.Header.Get("Retry-After"))
				if err != nil || s < 1 {
					t.Fatalf("Retry-After %q, want a number of seconds", r.Header.Get("Retry-After"))
				}
			})
		}
	}
}

// TestLogoutUnavailableSaysTokensStillWork: a logout the store could not
// record says that the tokens still work, and they do, until a retry
// succeeds.
func TestLogoutUnavailableSaysTokensStillWork(t *testing.T) {
	e := newEnv(t, envOptions{})
	g, _ := e.loginGrant("rita", "")
	e.store.full.Store(true)
	for _, q := range []req{
		{method: "POST", path: "/logout", token: g.AccessToken},
		{method: "POST", path: "/logout", ctype: "application/json", body: `{"refresh_token":"` + g.RefreshToken + `"}`},
	} {
		p := wantProblem(t, e.send(q), 503, codeUnavailable)
		if !strings.Contains(p.Detail, "still work") || !strings.Contains(p.Detail, "retry") {
			t.Fatalf("detail %q does not say the tokens still work and to retry", p.Detail)
		}
	}
	wantStatus(t, e.get("/me", g.AccessToken), 200) // as the detail says
	e.store.full.Store(false)
	wantStatus(t, e.send(req{method: "POST", path: "/logout", token: g.AccessToken}), 204)
	wantProblem(t, e.get("/me", g.AccessToken), 401, codeTokenRevoked)
}

// TestOutageLogStorm: with the database down, a burst of requests writes
// one WARN line per distinct failure, not one per request, while the
// access log keeps a line per request.
func TestOutageLogStorm(t *testing.T) {
	e := newEnv(t, envOptions{logWrap: func(h slog.Handler) slog.Handler {
		return lograte.New(h, lograte.Options{Every: time.Hour})
	}})
	eddie := e.login("eddie")
	e.store.down.Store(true)
	const n = 200
	for i := range n {
		wantProblem(t, e.send(req{method: "POST", path: "/posts", token: eddie, ctype: "application/json",
			body: fmt.Sprintf(`{"title":"t%d","body":"b"}`, i)}), 503, codeUnavailable)
	}
	var warns, requests int
	deadline := time.Now().Add(time.Minute)
	for {
		warns, requests = 0, 0
		for _, l := range testutil.JSONLines(t, e.logs.String()) {
			switch {
			case l["level"] == "WARN" && l["msg"] == "storage unavailable":
				warns++
			case l["msg"] == "request" && l["status"] == float64(503):
				requests++
			}
		}
		if requests == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond) // the access line follows the response
	}
	if warns != 1 || requests != n {
		t.Fatalf("%d storage warnings (want 1) and %d access lines (want %d) for %d failed requests", warns, requests, n, n)
	}
}
