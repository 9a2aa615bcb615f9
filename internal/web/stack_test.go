package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/httpapi"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/web"
	"github.com/jwtgate/jwtgate/jwt"
)

// fastArgon keeps password hashing cheap in tests.
var fastArgon = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Seeded users; each one's password is pw(name).
var seedUsers = []struct {
	name string
	role auth.Role
}{
	{"alice", auth.RoleAdmin},
	{"eddie", auth.RoleEditor},
	{"rita", auth.RoleReader},
}

func pw(name string) string { return name + "-correct-horse" }

// stack is the whole server in process: SQLite in a temporary folder,
// the auth service, the HTTP API and the UI, on 127.0.0.1.
type stack struct {
	srv       *httptest.Server
	URL       string
	svc       *auth.Service
	refreshes atomic.Int64 // POST /refresh requests seen
	apiCalls  atomic.Int64 // requests other than plain GETs of pages and assets

	mu    sync.Mutex
	calls []string // "METHOD URL" of each request counted in apiCalls
}

type stackOptions struct {
	ttl        time.Duration // access token lifetime (default 15 min)
	loginBurst int           // login attempts per IP (0: unlimited)
	oidc       bool          // an OpenID provider: EdDSA key, public URL = the server's URL
	noUsers    bool          // seed no users
	secure     bool          // Secure, __Host- prefixed cookies (no --insecure-cookies)
	passkeys   bool          // passkeys: public URL = the server's URL on localhost, an RP ID browsers take
}

// setupHint is the first-admin command the stack's server shows.
const setupHint = "jwtgate user add admin --role admin --data '/srv/jwtgate data'"

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if o.ttl == 0 {
		o.ttl = 15 * time.Minute
	}
	key, err := jwt.NewHMACKey(jwt.HS256, bytes.Repeat([]byte("k"), 32))
	if o.oidc {
		key, err = jwt.GenerateKey(jwt.EdDSA)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{svc: nil}
	s.srv = httptest.NewUnstartedServer(nil)
	s.URL = "http://" + s.srv.Listener.Addr().String()
	if o.passkeys {
		s.URL = "http://localhost:" + strconv.Itoa(s.srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	publicURL := ""
	if o.oidc || o.passkeys {
		publicURL = s.URL
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{SigningKey: key, Issuer: "jwtgate", OIDCIssuer: httpapi.OIDCIssuer(publicURL), Audience: "jwtgate", TTL: o.ttl, Leeway: 0})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &auth.Service{Store: db, Hasher: auth.NewHasher(fastArgon, 4, 5*time.Second), Tokens: tokens, Log: log}
	if o.loginBurst > 0 {
		svc.IPLimit = auth.NewLimiter(time.Hour, o.loginBurst)
	}
	for _, u := range seedUsers {
		if o.noUsers {
			break
		}
		if _, err := svc.CreateUser(ctx, u.name, pw(u.name), u.role); err != nil {
			t.Fatal(err)
		}
	}
	var passkeys httpapi.Passkeys
	if o.passkeys {
		rp, err := passkey.New(svc, publicURL, "jwtgate")
		if err != nil {
			t.Fatal(err)
		}
		svc.WebAuthn, passkeys = rp, rp
	}
	api := httpapi.New(httpapi.Config{Service: svc, Log: log, InsecureCookies: !o.secure, UI: web.Handler(), PublicURL: publicURL, SetupHint: setupHint,
		Passkeys: passkeys})
	s.svc = svc
	s.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refresh" {
			s.refreshes.Add(1)
		}
		// Only a bare GET or HEAD of a page or an asset is not a call: a
		// query string or a body could carry what was pasted in a page.
		p := r.URL.Path
		plain := (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawQuery == "" && !r.URL.ForceQuery &&
			r.ContentLength == 0 && (p == "/" || p == "/admin" || p == "/inspect" || p == "/security" || strings.HasPrefix(p, "/ui/") || p == "/favicon.ico")
		if !plain {
			s.apiCalls.Add(1)
			s.mu.Lock()
			s.calls = append(s.calls, r.Method+" "+r.URL.RequestURI())
			s.mu.Unlock()
		}
		api.ServeHTTP(w, r)
	})
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// apiRequests returns "METHOD URL" of the requests counted in apiCalls.
func (s *stack) apiRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// do makes an API request and decodes a JSON answer into out (if not nil).
func (s *stack) do(t *testing.T, method, path, bearer, cookie string, body, out any) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return res
}

type grant struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// login logs in by the API in bearer mode.
func (s *stack) login(t *testing.T, name string) grant {
	t.Helper()
	var g grant
	if res := s.do(t, "POST", "/login", "", "", map[string]any{"username": name, "password": pw(name)}, &g); res.StatusCode != 200 {
		t.Fatalf("login %s: %s", name, res.Status)
	}
	return g
}

// addPosts creates n posts by user, titled "<prefix> 1" .. "<prefix> n".
func (s *stack) addPosts(t *testing.T, user, prefix string, n int) {
	t.Helper()
	g := s.login(t, user)
	for i := 1; i <= n; i++ {
		body := map[string]string{"title": prefix + " " + strconv.Itoa(i), "body": "Body of " + prefix + " " + strconv.Itoa(i)}
		if res := s.do(t, "POST", "/posts", g.AccessToken, "", body, nil); res.StatusCode != 201 {
			t.Fatalf("create post: %s", res.Status)
		}
	}
}
