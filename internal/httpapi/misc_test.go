package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// openapiOperations parses the paths section of openapi.yaml: path keys
// at indent 2 under "paths:", method keys at indent 4 under them. It
// returns "METHOD /path" for each operation.
func openapiOperations(t *testing.T, doc []byte) []string {
	t.Helper()
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	var ops []string
	inPaths, path := false, ""
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " ")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(trimmed)
		if indent == 0 {
			inPaths = line == "paths:"
			continue
		}
		if !inPaths {
			continue
		}
		switch indent {
		case 2:
			if !strings.HasPrefix(trimmed, "/") || !strings.HasSuffix(trimmed, ":") {
				t.Fatalf("openapi.yaml: %q at indent 2 under paths is not a path key", line)
			}
			path = strings.Trim(strings.TrimSuffix(trimmed, ":"), `'"`)
		case 4:
			key := strings.TrimSuffix(trimmed, ":")
			if methods[key] {
				ops = append(ops, strings.ToUpper(key)+" "+path)
			} else if key != "summary" && key != "description" && key != "parameters" {
				t.Fatalf("openapi.yaml: unexpected key %q under %s", key, path)
			}
		}
	}
	return ops
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get("/openapi.yaml", "")
	wantStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type %q", ct)
	}
	if !bytes.Equal(r.body, openapiYAML) || !bytes.HasPrefix(r.body, []byte("openapi: 3.1.")) {
		t.Fatalf("served document differs from the embedded one or is not OpenAPI 3.1")
	}
	// The repository copy is what is embedded.
	if disk, err := os.ReadFile("openapi.yaml"); err != nil || !bytes.Equal(disk, openapiYAML) {
		t.Fatalf("openapi.yaml on disk differs from the embedded copy (%v)", err)
	}

	ops := openapiOperations(t, r.body)
	routes := Routes()
	if len(routes) < 13 {
		t.Fatalf("Routes() = %v", routes)
	}
	for _, rt := range routes {
		if strings.HasPrefix(rt, "/") { // any method: GET must be documented
			rt = "GET " + rt
		}
		if !slices.Contains(ops, rt) {
			t.Errorf("route %q is not documented in openapi.yaml (documented: %v)", rt, ops)
		}
	}
	for _, op := range ops {
		_, path, _ := strings.Cut(op, " ")
		if !slices.Contains(routes, op) && !slices.Contains(routes, path) {
			t.Errorf("openapi.yaml documents %q, which is not a route", op)
		}
	}
	// Routes() is what New registers: each one answers something other
	// than the mux's 404/405.
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		if strings.HasPrefix(rt, "/") {
			method, path = "POST", rt
		}
		path = strings.NewReplacer("{id}", "1", "{name}", "nobody").Replace(path)
		r := e.send(req{method: method, path: path})
		if r.StatusCode == 405 || (r.StatusCode == 404 && strings.Contains(string(r.body), "no such route")) {
			t.Errorf("%s is in Routes() but not served: %v", rt, r)
		}
	}
}

func TestProblemCodesDocumented(t *testing.T) {
	src, err := os.ReadFile("problem.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(problemTitles) != 30 {
		t.Errorf("%d problem codes, want 30", len(problemTitles))
	}
	for code := range problemTitles {
		if !bytes.Contains(readme, []byte("| `"+code+"` |")) {
			t.Errorf("code %s is not in the README's table of codes", code)
		}
		if !bytes.Contains(openapiYAML, []byte("\n        - "+code+"\n")) {
			t.Errorf("code %s is not in openapi.yaml's ProblemCode enum", code)
		}
		if !bytes.Contains(openapiYAML, []byte("| `"+code+"` |")) {
			t.Errorf("code %s is not in openapi.yaml's table of codes", code)
		}
		if !bytes.Contains(src, []byte("//\t"+code+" ")) {
			t.Errorf("code %s is not in problem.go's doc comment", code)
		}
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t, envOptions{})
	secret := pw("eddie")
	// JSON and form logins, a failed login, a token in use, a query string.
	r := e.sendJSON("POST", "/login", "", `{"username":"eddie","password":"`+secret+`"}`)
	wantStatus(t, r, 200)
	token := e.login("eddie")
	wantStatus(t, e.send(req{method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: loginForm("rita", pw("rita"))}), 200)
	wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"eddie","password":"wrong-`+secret+`"}`), 401, codeInvalidCredentials)
	wantStatus(t, e.get("/me", token), 200)
	wantProblem(t, e.get("/me", token+"x"), 401, codeTokenInvalid)
	wantStatus(t, e.sendJSON("POST", "/posts", token, `{"title":"t"}`), 201)
	last := e.send(req{method: "GET", path: "/posts?limit=1&cursor=secret-cursor", token: token, header: http.Header{"X-Request-Id": {"last-request"}, "Cookie": {"session=cookie-value"}}})
	wantProblem(t, last, 400, codeInvalidRequest)

	logs := e.waitLog(`"request_id":"last-request"`)
	sig := token[strings.LastIndexByte(token, '.')+1:]
	payload := strings.Split(token, ".")[1]
	for _, s := range []string{secret, pw("rita"), token, sig, payload, "Bearer", "secret-cursor", "limit=", "cookie-value"} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %q:\n%s", s, logs)
		}
	}
	if strings.Contains(strings.ToLower(logs), "authorization") {
		t.Errorf("log mentions the Authorization header:\n%s", logs)
	}

	// One access line per request, with the expected members.
	var access []map[string]any
	for _, l := range testutil.JSONLines(t, logs) {
		if l["msg"] == "request" {
			access = append(access, l)
		}
	}
	if len(access) != 8 {
		t.Fatalf("%d access lines, want 8:\n%s", len(access), logs)
	}
	l := access[len(access)-1]
	if l["method"] != "GET" || l["path"] != "/posts" || l["status"] != float64(400) || l["request_id"] != "last-request" ||
		l["client_ip"] != "127.0.0.1" || l["problem"] != codeInvalidRequest || l["duration"] == nil || l["level"] != "INFO" {
		t.Fatalf("access line %v", l)
	}
	if access[0]["path"] != "/login" || access[0]["status"] != float64(200) || access[0]["problem"] != nil {
		t.Fatalf("first access line %v", access[0])
	}
}

func TestPanicRecovery(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.h.mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/elsewhere")
		panic("boom")
	})
	e.h.mux.HandleFunc("GET /panic-late", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("partial"))
		http.NewResponseController(w).Flush()
		panic("late boom")
	})
	r := e.send(req{method: "GET", path: "/panic", header: http.Header{"X-Request-Id": {"panic-1"}}})
	wantProblem(t, r, 500, codeInternal)
	if r.Header.Get("X-Request-Id") != "panic-1" {
		t.Errorf("X-Request-Id %q", r.Header.Get("X-Request-Id"))
	}
	logs := e.waitLog(`"status":500`)
	if !strings.Contains(logs, `"msg":"panic serving request"`) || !strings.Contains(logs, `"panic":"boom"`) || !strings.Contains(logs, `"request_id":"panic-1"`) {
		t.Errorf("panic not logged:\n%s", logs)
	}

	// After the response has started, the connection is cut so the client
	// cannot mistake the partial body for a whole one.
	res, err := e.srv.Client().Get(e.srv.URL + "/panic-late")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Fatal("a response interrupted by a panic looked complete")
	}
	// The server survives.
	wantStatus(t, e.get("/healthz", ""), 200)
}

func TestClientIP(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:1234": "192.0.2.1", "[2001:db8::1]:443": "2001:db8::1", "192.0.2.1": "192.0.2.1",
		"2001:db8::1": "2001:db8::1", "": "", "[::1]": "::1",
	} {
		if got := hostOnly(addr); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", addr, got, want)
		}
	}
	trusting, plain := &server{trustProxy: true}, &server{}
	for _, tc := range []struct {
		xff  []string
		want string
	}{
		{nil, "192.0.2.1"},
		{[]string{"203.0.113.5"}, "203.0.113.5"},
		{[]string{"198.51.100.1, 203.0.113.5"}, "203.0.113.5"},
		{[]string{"198.51.100.1", "203.0.113.5 "}, "203.0.113.5"},
		{[]string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{[]string{"2001:db8::7"}, "2001:db8::7"},
		{[]string{"unknown"}, "192.0.2.1"},
		{[]string{"203.0.113.5:80"}, "192.0.2.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:5555"
		if tc.xff != nil {
			r.Header["X-Forwarded-For"] = tc.xff
		}
		if got := trusting.clientIP(r); got != tc.want {
			t.Errorf("trusted XFF %q: %q, want %q", tc.xff, got, tc.want)
		}
		if got := plain.clientIP(r); got != "192.0.2.1" {
			t.Errorf("untrusted XFF %q: %q", tc.xff, got)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	e := newEnv(t, envOptions{})
	if e.h.maxBody != 64<<10 || e.h.log == nil {
		t.Fatalf("defaults: maxBody %d", e.h.maxBody)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no Service", Config{}},
		{"Service without Tokens", Config{Service: &auth.Service{Store: e.store, Hasher: e.svc.Hasher}}},
		{"Service without Hasher", Config{Service: &auth.Service{Store: e.store, Tokens: e.tokens}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("New did not panic")
				}
			}()
			New(tc.cfg)
		})
	}
}

// The issuer is configured once, in the Service's Tokens: the API verifies
// with them and the discovery document names their issuer.
func TestConfigTakesTokensFromService(t *testing.T) {
	key, err := jwt.GenerateKey(jwt.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{key: key, issuer: "https://issuer.example"})
	h := New(Config{Service: e.svc})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if doc.Issuer != "https://issuer.example" || doc.JWKSURI != "https://issuer.example/.well-known/jwks.json" {
		t.Fatalf("discovery document %+v, want the Service's issuer", doc)
	}
}
