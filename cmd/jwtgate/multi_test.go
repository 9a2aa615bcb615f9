package main

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// backend is where instances under test keep their data: the arguments
// that point serve and the CLI at it.
type backend struct {
	name string
	args func(t *testing.T) []string
}

var sqliteBackend = backend{"sqlite", func(t *testing.T) []string { return []string{"--data", t.TempDir()} }}

// postgresBackend is a fresh schema on the test server (pgtest).
var postgresBackend = backend{"postgres", func(t *testing.T) []string { return []string{"--db", pgtest.URL(t)} }}

// postJSON posts body and returns the status and decoded JSON reply.
func postJSON(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	code, _, m := call(t, "POST", url, token, "application/json", body)
	return code, m
}

// testTwoInstances runs two servers on one backend, as behind a load
// balancer, and checks that they share users, sessions, revocations and
// keys.
func testTwoInstances(t *testing.T, be backend) {
	args := be.args(t)
	if out, err := runBinary(t, "multi-password-1\n", append([]string{"user", "add", "mia", "--role", "editor"}, args...)...); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	// Only SIGHUP, a grace end or an unknown kid reloads keys here.
	a := startProcess(t, "", append(args, "--key-reload", "1h")...)
	b := startProcess(t, "", append(args, "--key-reload", "1h")...)

	// Log in on A, use the token on B.
	code, g := postJSON(t, a.base+"/login", "", `{"username":"mia","password":"multi-password-1"}`)
	if code != 200 {
		t.Fatalf("login on A: %d %v", code, g)
	}
	access, refresh1 := g["access_token"].(string), g["refresh_token"].(string)
	if code, _, _ := call(t, "GET", b.base+"/me", access, "", ""); code != 200 {
		t.Fatalf("A's token on B: %d", code)
	}
	// A lists the posts first: nothing A keeps may hide B's write later.
	if code, _, list := call(t, "GET", a.base+"/posts", access, "", ""); code != 200 {
		t.Fatalf("GET /posts on A: %d %v", code, list)
	}
	code, m := postJSON(t, b.base+"/posts", access, `{"title":"from B","body":"written on B"}`)
	if code != 201 {
		t.Fatalf("post on B: %d %v", code, m)
	}
	// A reads what B wrote, by id and in the list.
	id, _ := m["id"].(float64)
	if code, _, got := call(t, "GET", fmt.Sprintf("%s/posts/%d", a.base, int64(id)), access, "", ""); code != 200 || got["title"] != "from B" || got["body"] != "written on B" {
		t.Fatalf("B's post %v read on A: %d %v", m["id"], code, got)
	}
	if code, _, list := call(t, "GET", a.base+"/posts", access, "", ""); code != 200 || !hasPost(list, id, "from B") {
		t.Fatalf("B's post %v missing from GET /posts on A: %d %v", m["id"], code, list)
	}
	// Refresh on B; replaying the used token on A revokes the family everywhere.
	code, g2 := postJSON(t, b.base+"/refresh", "", `{"refresh_token":"`+refresh1+`"}`)
	if code != 200 {
		t.Fatalf("refresh on B: %d %v", code, g2)
	}
	access2, refresh2 := g2["access_token"].(string), g2["refresh_token"].(string)
	if code, m := postJSON(t, a.base+"/refresh", "", `{"refresh_token":"`+refresh1+`"}`); code != 401 || m["code"] != "refresh_invalid" {
		t.Fatalf("replay on A: %d %v", code, m)
	}
	if code, _ := postJSON(t, b.base+"/refresh", "", `{"refresh_token":"`+refresh2+`"}`); code != 401 {
		t.Fatalf("the family's newest token still works on B: %d", code)
	}
	testutil.Eventually(t, time.Second, "family revoked on B", func() bool {
		code, _, _ := call(t, "GET", b.base+"/me", access2, "", "")
		return code == 401
	})

	// Logout on A is enforced on B within a second.
	_, g = postJSON(t, a.base+"/login", "", `{"username":"mia","password":"multi-password-1"}`)
	access = g["access_token"].(string)
	if code, _, _ := call(t, "GET", b.base+"/me", access, "", ""); code != 200 {
		t.Fatalf("fresh token on B: %d", code)
	}
	if code, _, _ := call(t, "POST", a.base+"/logout", access, "", ""); code != 204 {
		t.Fatalf("logout on A: %d", code)
	}
	took := testutil.Eventually(t, time.Second, "logout on A seen by B", func() bool {
		code, _, _ := call(t, "GET", b.base+"/me", access, "", "")
		return code == 401
	})
	t.Logf("%s: logout on A refused on B after %v", be.name, took)

	// Rotate on A (CLI + SIGHUP); B picks the key up when it first meets it.
	if out, err := runBinary(t, "", append([]string{"key", "rotate", "--alg", "EdDSA"}, args...)...); err != nil {
		t.Fatalf("key rotate: %v %s", err, out)
	}
	a.cmd.Process.Signal(syscall.SIGHUP)
	var tok string
	testutil.Eventually(t, 2*time.Second, "A signs with the new key", func() bool {
		_, g := postJSON(t, a.base+"/login", "", `{"username":"mia","password":"multi-password-1"}`)
		tok, _ = g["access_token"].(string)
		u, err := jwt.DecodeUnverified(tok)
		return err == nil && u.Algorithm == "EdDSA"
	})
	// The first request with the new kid makes B reload, and is accepted.
	if code, _, body := call(t, "GET", b.base+"/me", tok, "", ""); code != 200 {
		t.Fatalf("B refused the first token with A's new key: %d %v", code, body)
	}
	r, err := http.Get(b.base + "/.well-known/jwks.json")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("JWKS on B: %v %v", r, err)
	}
	r.Body.Close()
	if !strings.Contains(b.logs.String(), "unknown kid") {
		t.Errorf("B did not reload on the unknown kid: %s", b.logs)
	}
}

// hasPost reports whether a GET /posts answer lists the post id with title.
func hasPost(list map[string]any, id float64, title string) bool {
	posts, _ := list["posts"].([]any)
	for _, p := range posts {
		if p, ok := p.(map[string]any); ok && p["id"] == id && p["title"] == title {
			return true
		}
	}
	return false
}

func TestTwoInstancesSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	testTwoInstances(t, sqliteBackend)
}

func TestTwoInstancesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	testTwoInstances(t, postgresBackend)
}
