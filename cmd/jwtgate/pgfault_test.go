package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// TestPostgresOutage serves on PostgreSQL, cuts the network to it and
// brings it back: /readyz and every request that needs the database get
// 503 meanwhile, requests answered from the token alone keep working, and
// the server recovers by itself.
func TestPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	db := u.String()

	if out, err := runBinary(t, "outage-password\n", "user", "add", "olga", "--role", "editor", "--db", db); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	p := startProcess(t, "", "--db", db)
	login := `{"username":"olga","password":"outage-password"}`
	code, g := postJSON(t, p.base+"/login", "", login)
	if code != 200 {
		t.Fatalf("login: %d %v", code, g)
	}
	tok, refresh := g["access_token"].(string), g["refresh_token"].(string)
	if code, _ := postJSON(t, p.base+"/posts", tok, `{"title":"before"}`); code != 201 {
		t.Fatalf("post before the outage: %d", code)
	}

	proxy.Cut()
	start := time.Now()
	testutil.Eventually(t, 10*time.Second, "/readyz 503 during the outage", func() bool {
		code, _, _ := call(t, "GET", p.base+"/readyz", "", "", "")
		return code == 503
	})
	for _, rq := range []struct{ method, path, token, body string }{
		{"GET", "/posts", tok, ""},
		{"POST", "/posts", tok, `{"title":"during"}`},
		{"POST", "/login", "", login},
		{"POST", "/refresh", "", `{"refresh_token":"` + refresh + `"}`},
		{"GET", "/users", "", ""}, // 401 first: no token needs no database
	} {
		began := time.Now()
		code, _, m := call(t, rq.method, p.base+rq.path, rq.token, "application/json", rq.body)
		if d := time.Since(began); d > 3*time.Second { // README: 503 at once, not after a hang
			t.Errorf("%s %s during the outage took %v", rq.method, rq.path, d)
		}
		want := 503
		if rq.path == "/users" {
			want = 401
		}
		if code != want || (want == 503 && m["code"] != "unavailable") {
			t.Errorf("%s %s during the outage: %d %v, want %d", rq.method, rq.path, code, m, want)
		}
	}
	if code, _, m := call(t, "GET", p.base+"/me", tok, "", ""); code != 200 || m["name"] != "olga" {
		t.Errorf("/me needs no database, yet during the outage: %d %v", code, m)
	}
	if code, h, _ := call(t, "GET", p.base+"/auth/verify?role=editor", tok, "", ""); code != 200 || h.Get("X-Auth-User") != "olga" {
		t.Errorf("forward auth needs no database, yet during the outage: %d %v", code, h)
	}
	if code, _, _ := call(t, "GET", p.base+"/healthz", "", "", ""); code != 200 {
		t.Errorf("/healthz during the outage: %d", code)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("requests during the outage took %v: they should fail fast", d)
	}

	proxy.Restore()
	testutil.Eventually(t, 20*time.Second, "/readyz 200 after the database returned", func() bool {
		code, _, _ := call(t, "GET", p.base+"/readyz", "", "", "")
		return code == 200
	})
	// Recovered without a restart; nothing refused was half-written.
	code, g = postJSON(t, p.base+"/refresh", "", `{"refresh_token":"`+refresh+`"}`)
	if code != 200 {
		t.Fatalf("refresh after the outage: %d %v (the refused one must not have used the token)", code, g)
	}
	if code, _ := postJSON(t, p.base+"/posts", tok, `{"title":"after"}`); code != 201 {
		t.Fatalf("post after the outage: %d", code)
	}
	_, _, list := call(t, "GET", p.base+"/posts", tok, "", "")
	var titles []string
	for _, x := range list["posts"].([]any) {
		titles = append(titles, x.(map[string]any)["title"].(string))
	}
	if len(titles) != 2 || titles[0] != "after" || titles[1] != "before" {
		t.Fatalf("posts after the outage: %v, want [after before]", titles)
	}
	if code, _ := postJSON(t, p.base+"/login", "", login); code != 200 {
		t.Fatalf("login after the outage: %d", code)
	}
}

// TestPostgresStopped stops a real PostgreSQL server (a private cluster,
// pg_ctl stop -m fast: sessions end with "terminating connection due to
// administrator command", then connections are refused) under a serving
// jwtgate, and starts it again: /readyz and every request that needs the
// database get 503 meanwhile, at once; requests answered from the token
// alone keep working; jwtgate recovers by itself, and nothing refused
// during the outage was half-done.
func TestPostgresStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a PostgreSQL cluster")
	}
	pg := startPGCluster(t)
	db := pg.url
	if out, err := runBinary(t, "stopped-password\n", "user", "add", "pia", "--role", "editor", "--db", db); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	p := startProcess(t, "", "--db", db)
	login := `{"username":"pia","password":"stopped-password"}`
	code, g := postJSON(t, p.base+"/login", "", login)
	if code != 200 {
		t.Fatalf("login: %d %v", code, g)
	}
	tok, refresh := g["access_token"].(string), g["refresh_token"].(string)
	if code, _ := postJSON(t, p.base+"/posts", tok, `{"title":"before"}`); code != 201 {
		t.Fatalf("post before the stop: %d", code)
	}
	// Every pool connection has been used: the stop ends live sessions.
	if code, _, _ := call(t, "GET", p.base+"/posts", tok, "", ""); code != 200 {
		t.Fatalf("GET /posts before the stop: %d", code)
	}

	pg.Stop("fast")
	// The first request meets a pooled connection that the server ended
	// (57P01), the later ones a refused dial.
	for _, rq := range []struct{ method, path, token, body string }{
		{"GET", "/posts", tok, ""},
		{"POST", "/login", "", login},
		{"POST", "/posts", tok, `{"title":"during"}`},
		{"POST", "/refresh", "", `{"refresh_token":"` + refresh + `"}`},
		{"GET", "/readyz", "", ""},
	} {
		began := time.Now()
		code, _, m := call(t, rq.method, p.base+rq.path, rq.token, "application/json", rq.body)
		if d := time.Since(began); d > 3*time.Second { // README: 503 at once
			t.Errorf("%s %s with PostgreSQL stopped took %v", rq.method, rq.path, d)
		}
		if code != 503 || m["code"] != "unavailable" {
			t.Errorf("%s %s with PostgreSQL stopped: %d %v, want 503 unavailable", rq.method, rq.path, code, m)
		}
	}
	if code, _, m := call(t, "GET", p.base+"/me", tok, "", ""); code != 200 || m["name"] != "pia" {
		t.Errorf("/me needs no database, yet with PostgreSQL stopped: %d %v", code, m)
	}
	if code, h, _ := call(t, "GET", p.base+"/auth/verify?role=editor", tok, "", ""); code != 200 || h.Get("X-Auth-User") != "pia" {
		t.Errorf("forward auth needs no database, yet with PostgreSQL stopped: %d %v", code, h)
	}
	if code, _, _ := call(t, "GET", p.base+"/healthz", "", "", ""); code != 200 {
		t.Errorf("/healthz with PostgreSQL stopped: %d", code)
	}

	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, "unavailable (") {
			t.Logf("jwtgate saw: %s", line[strings.Index(line, "err="):])
		}
	}

	pg.Start()
	took := testutil.Eventually(t, 15*time.Second, "/readyz 200 after PostgreSQL started again", func() bool {
		code, _, _ := call(t, "GET", p.base+"/readyz", "", "", "")
		return code == 200
	})
	t.Logf("ready %v after PostgreSQL started again", took)
	// The refresh refused during the outage did not use the token.
	code, g = postJSON(t, p.base+"/refresh", "", `{"refresh_token":"`+refresh+`"}`)
	if code != 200 {
		t.Fatalf("refresh after the restart: %d %v", code, g)
	}
	if code, _ := postJSON(t, p.base+"/posts", g["access_token"].(string), `{"title":"after"}`); code != 201 {
		t.Fatalf("post after the restart: %d", code)
	}
	_, _, list := call(t, "GET", p.base+"/posts", tok, "", "")
	var titles []string
	for _, x := range list["posts"].([]any) {
		titles = append(titles, x.(map[string]any)["title"].(string))
	}
	if len(titles) != 2 || titles[0] != "after" || titles[1] != "before" {
		t.Fatalf("posts after the restart: %v, want [after before]", titles)
	}
	if code, _ := postJSON(t, p.base+"/login", "", login); code != 200 {
		t.Fatalf("login after the restart: %d", code)
	}
	if p.cmd.ProcessState != nil {
		t.Fatalf("jwtgate exited: %s", p.logs)
	}
}
