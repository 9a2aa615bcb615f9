package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

const nginxBinary = "/usr/sbin/nginx"

// requireTool skips the test when an external program it drives is
// missing, except in CI, where the missing program is a broken setup.
func requireTool(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	testutil.Unavailable(t, fmt.Sprintf("%s not available: %v", what, err), "install it in .ci/run")
}

// nginxConfig is the reverse-proxy setup the README recommends: every
// request to /app/ and /admin/ is checked by jwtgate's /auth/verify
// through auth_request, and the identity it answers with is passed on to
// the upstream in X-Auth-User / X-Auth-Role (replacing whatever the client
// sent in those headers).
func nginxConfig(dir string, port int, jwtgateHostPort, upstreamHostPort string) string {
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody and could not use the
		// temporary directories below, which are private to root.
		user = "user root;\n"
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	return fmt.Sprintf(`%sdaemon off;
master_process on;
worker_processes 1;
pid %s;
error_log %s warn;

events {
    worker_connections 64;
}

http {
    access_log off;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;

    server {
        listen 127.0.0.1:%d;

        location = /_auth {
            internal;
            proxy_pass http://%s/auth/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
        }

        location = /_auth_admin {
            internal;
            proxy_pass http://%s/auth/verify?role=admin;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
        }

        location /app/ {
            auth_request /_auth;
            auth_request_set $auth_user $upstream_http_x_auth_user;
            auth_request_set $auth_role $upstream_http_x_auth_role;
            proxy_set_header X-Auth-User $auth_user;
            proxy_set_header X-Auth-Role $auth_role;
            proxy_pass http://%s;
        }

        location /admin/ {
            auth_request /_auth_admin;
            auth_request_set $auth_user $upstream_http_x_auth_user;
            auth_request_set $auth_role $upstream_http_x_auth_role;
            proxy_set_header X-Auth-User $auth_user;
            proxy_set_header X-Auth-Role $auth_role;
            proxy_pass http://%s;
        }
    }
}
`, user, p("nginx.pid"), p("error.log"),
		p("client_body"), p("proxy"), p("fastcgi"), p("uwsgi"), p("scgi"),
		port, jwtgateHostPort, jwtgateHostPort, upstreamHostPort, upstreamHostPort)
}

// freeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment
// ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNginx writes the configuration, checks it with nginx -t and runs
// nginx in the foreground until the test ends. It returns the base URL.
func startNginx(t *testing.T, jwtgateHostPort, upstreamHostPort string) string {
	t.Helper()
	// The port is picked free and then handed to nginx: another process
	// may take it in between, so a failed bind is retried with a new one.
	for attempt := 1; ; attempt++ {
		base, err := tryStartNginx(t, jwtgateHostPort, upstreamHostPort)
		if err == nil {
			return base
		}
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("nginx: %v; retrying with another port", err)
	}
}

var errPortTaken = errors.New("port taken")

func tryStartNginx(t *testing.T, jwtgateHostPort, upstreamHostPort string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	port := freeLoopbackPort(t)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(dir, port, jwtgateHostPort, upstreamHostPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	errorLog := filepath.Join(dir, "error.log")
	args := []string{"-p", dir, "-c", conf, "-e", errorLog}
	if out, err := exec.Command(nginxBinary, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\nconfig:\n%s", err, out, readFileString(conf))
	}

	cmd := exec.Command(nginxBinary, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // workers die with the group
	out := &testutil.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: finish requests, then exit
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Logf("nginx ignored SIGQUIT; killing it\n%s", readFileString(errorLog))
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("nginx error log:\n%s%s", readFileString(errorLog), out)
		}
	})

	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			stopped = true
			log := readFileString(errorLog) + out.String()
			if strings.Contains(log, "Address already in use") {
				return "", fmt.Errorf("%w: %s", errPortTaken, addr)
			}
			return "", fmt.Errorf("nginx exited at start: %v\n%s", err, log)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("nginx not listening on %s after 30s: %v\n%s%s", addr, err, readFileString(errorLog), out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFileString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// proxyClient talks to nginx; generous timeout for a loaded machine.
var proxyClient = &http.Client{Timeout: 30 * time.Second}

type proxyReply struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

// proxyDo sends a request with the given headers (Authorization, Cookie,
// ...) and decodes a JSON answer if there is one.
func proxyDo(t *testing.T, method, url string, header map[string]string, body string) proxyReply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := proxyClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	r := proxyReply{code: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &r.body)
	return r
}

func bearerHeader(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// TestForwardAuthThroughNginx puts a real nginx in front of an upstream,
// with auth_request pointed at jwtgate's /auth/verify, and checks what
// reaches the upstream: nothing without a valid token, and the caller's
// identity in X-Auth-User / X-Auth-Role with one.
func TestForwardAuthThroughNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs nginx")
	}
	_, err := os.Stat(nginxBinary)
	requireTool(t, nginxBinary+" (Debian package nginx)", err)
	t.Parallel()

	data := t.TempDir()
	users := []struct{ name, role, password string }{
		{"alice", "admin", "nginx-admin-password-1"},
		{"edna", "editor", "nginx-editor-password-1"},
		{"rudi", "reader", "nginx-reader-password-1"},
	}
	for _, u := range users {
		if out, err := runBinary(t, u.password+"\n", "user", "add", u.name, "--role", u.role, "--data", data); err != nil {
			t.Fatalf("user add %s: %v %s", u.name, err, out)
		}
	}
	jg := startProcess(t, data)

	// The upstream echoes the identity nginx passes it.
	var hits atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"user":          r.Header.Get("X-Auth-User"),
			"role":          r.Header.Get("X-Auth-Role"),
			"method":        r.Method,
			"path":          r.URL.Path,
			"authorization": r.Header.Get("Authorization"),
		})
	}))
	t.Cleanup(upstream.Close)

	nx := startNginx(t, strings.TrimPrefix(jg.base, "http://"), strings.TrimPrefix(upstream.URL, "http://"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("jwtgate log:\n%s", jg.logs)
		}
	})

	// Sanity: we are talking to nginx, and it serves nothing unprotected
	// to the upstream.
	if r := proxyDo(t, "GET", nx+"/elsewhere", nil, ""); r.code != 404 || !strings.HasPrefix(r.header.Get("Server"), "nginx") {
		t.Fatalf("GET /elsewhere via nginx: %d Server=%q", r.code, r.header.Get("Server"))
	}

	admin := login(t, jg.base, "alice", "nginx-admin-password-1")
	editor := login(t, jg.base, "edna", "nginx-editor-password-1")
	reader := login(t, jg.base, "rudi", "nginx-reader-password-1")

	// expectRefused checks a refusal by nginx that never reached the upstream.
	expectRefused := func(what string, r proxyReply, code int, before int64) {
		t.Helper()
		if r.code != code {
			t.Errorf("%s: got %d, want %d (%s)", what, r.code, code, r.raw)
		}
		if n := hits.Load(); n != before {
			t.Errorf("%s: the upstream was reached (%d requests)", what, n-before)
		}
	}
	// expectThrough checks a request that reached the upstream with this
	// identity.
	expectThrough := func(what string, r proxyReply, user, role string, before int64) {
		t.Helper()
		if r.code != 200 {
			t.Errorf("%s: got %d, want 200 (%s)", what, r.code, r.raw)
			return
		}
		if r.body["user"] != user || r.body["role"] != role {
			t.Errorf("%s: upstream saw X-Auth-User=%v X-Auth-Role=%v, want %s/%s", what, r.body["user"], r.body["role"], user, role)
		}
		if n := hits.Load(); n != before+1 {
			t.Errorf("%s: upstream hit %d times, want once", what, n-before)
		}
	}

	// No token: 401 from nginx, with jwtgate's Bearer challenge passed on.
	before := hits.Load()
	r := proxyDo(t, "GET", nx+"/app/page", nil, "")
	expectRefused("no token", r, 401, before)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: WWW-Authenticate %q, want a Bearer challenge", r.header.Get("WWW-Authenticate"))
	}
	// A client cannot name itself by sending the identity headers.
	before = hits.Load()
	expectRefused("no token, forged identity headers", proxyDo(t, "GET", nx+"/app/page",
		map[string]string{"X-Auth-User": "alice", "X-Auth-Role": "admin"}, ""), 401, before)

	// Valid tokens: through, with the identity from the token.
	before = hits.Load()
	r = proxyDo(t, "GET", nx+"/app/page?x=1", bearerHeader(editor), "")
	expectThrough("editor token", r, "edna", "editor", before)
	if r.body["path"] != "/app/page" || r.body["method"] != "GET" {
		t.Errorf("editor token: upstream got %v %v", r.body["method"], r.body["path"])
	}
	before = hits.Load()
	expectThrough("reader token with forged identity headers", proxyDo(t, "GET", nx+"/app/page",
		map[string]string{"Authorization": "Bearer " + reader, "X-Auth-User": "alice", "X-Auth-Role": "admin"}, ""),
		"rudi", "reader", before)

	// Tampered tokens: one character of the encoded payload changed; one
	// character of a claim changed (the payload still parses, only the
	// signature is wrong); a reader's token claiming the admin role.
	before = hits.Load()
	expectRefused("token with a payload character changed", proxyDo(t, "GET", nx+"/app/page", bearerHeader(tamperPayload(t, editor)), ""), 401, before)
	before = hits.Load()
	expectRefused("token with a claim changed", proxyDo(t, "GET", nx+"/app/page", bearerHeader(editPayload(t, editor, `"name":"edna"`, `"name":"edno"`)), ""), 401, before)
	before = hits.Load()
	expectRefused("reader token forged to admin", proxyDo(t, "GET", nx+"/admin/panel", bearerHeader(editPayload(t, reader, `"role":"reader"`, `"role":"admin"`)), ""), 401, before)
	// Not a JWT at all.
	before = hits.Load()
	expectRefused("malformed token", proxyDo(t, "GET", nx+"/app/page", bearerHeader("not.a.jwt"), ""), 401, before)

	// /admin/ needs the admin role: auth_request passes jwtgate's 403 on.
	before = hits.Load()
	expectRefused("reader on /admin/", proxyDo(t, "GET", nx+"/admin/panel", bearerHeader(reader), ""), 403, before)
	before = hits.Load()
	expectRefused("editor on /admin/", proxyDo(t, "GET", nx+"/admin/panel", bearerHeader(editor), ""), 403, before)
	before = hits.Load()
	expectRefused("no token on /admin/", proxyDo(t, "GET", nx+"/admin/panel", nil, ""), 401, before)
	before = hits.Load()
	expectThrough("admin on /admin/", proxyDo(t, "GET", nx+"/admin/panel", bearerHeader(admin), ""), "alice", "admin", before)

	// Browser mode: the access token in the cookie jwtgate set.
	code, hdr, m := call(t, "POST", jg.base+"/login", "", "application/json", `{"username":"rudi","password":"nginx-reader-password-1","cookie":true}`)
	if code != 200 {
		t.Fatalf("cookie login: %d %v", code, m)
	}
	cookies := map[string]string{}
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		cookies[c.Name] = c.Value
	}
	if cookies["__Host-access_token"] == "" || cookies["__Host-csrf_token"] == "" {
		t.Fatalf("cookie login set %v", hdr.Values("Set-Cookie"))
	}
	cookieHeader := "__Host-access_token=" + cookies["__Host-access_token"] + "; __Host-csrf_token=" + cookies["__Host-csrf_token"]
	before = hits.Load()
	expectThrough("cookie GET", proxyDo(t, "GET", nx+"/app/page", map[string]string{"Cookie": cookieHeader}, ""), "rudi", "reader", before)
	// A cookie-authenticated write needs the CSRF header: jwtgate sees the
	// original method in X-Original-Method.
	before = hits.Load()
	expectRefused("cookie POST without CSRF header", proxyDo(t, "POST", nx+"/app/form",
		map[string]string{"Cookie": cookieHeader, "Content-Type": "application/json"}, `{"a":1}`), 403, before)
	before = hits.Load()
	r = proxyDo(t, "POST", nx+"/app/form",
		map[string]string{"Cookie": cookieHeader, "Content-Type": "application/json", "X-CSRF-Token": cookies["__Host-csrf_token"]}, `{"a":1}`)
	expectThrough("cookie POST with CSRF header", r, "rudi", "reader", before)
	if r.body["method"] != "POST" {
		t.Errorf("cookie POST: upstream got %v", r.body["method"])
	}

	// Logout on jwtgate: the token is refused through nginx within about a
	// second (the instance that ended the session knows at once).
	second := login(t, jg.base, "alice", "nginx-admin-password-1") // another session of the same user
	if code, _, _ := call(t, "POST", jg.base+"/logout", admin, "", ""); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	took := testutil.Eventually(t, time.Second, "logged-out token refused through nginx", func() bool {
		return proxyDo(t, "GET", nx+"/app/page", bearerHeader(admin), "").code == 401
	})
	t.Logf("logged-out token refused through nginx after %v", took)
	before = hits.Load()
	expectRefused("logged-out token on /admin/", proxyDo(t, "GET", nx+"/admin/panel", bearerHeader(admin), ""), 401, before)
	// Only that session ended.
	before = hits.Load()
	expectThrough("the user's other session", proxyDo(t, "GET", nx+"/admin/panel", bearerHeader(second), ""), "alice", "admin", before)
}

// tamperPayload changes one character in the middle of a JWT's encoded
// payload (still valid base64url).
func tamperPayload(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) < 8 {
		t.Fatalf("not a JWS compact token: %q", token)
	}
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}

// editPayload replaces old with new in a JWT's decoded payload and puts
// it back with the original header and signature: the claims stay well
// formed, so only the signature check can refuse the token.
func editPayload(t *testing.T, token, old, new string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact token: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("payload %s has no %s", b, old)
	}
	b = bytes.Replace(b, []byte(old), []byte(new), 1)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}
