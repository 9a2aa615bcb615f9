package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// The OpenID Connect provider is tested here with clients written
// elsewhere (go-oidc, openid-client, oauth2-proxy), each against a fresh
// `jwtgate serve`.

// oidcUser is the account the clients sign in as. It has no email: the
// clients get preferred_username instead.
const (
	oidcUser     = "ada"
	oidcPassword = "ada-correct-horse-1"
)

// oidcServer is `jwtgate serve` as an OpenID provider: an EdDSA key
// generated on start and --public-url on its own loopback address (plain
// http is allowed there), so the issuer is the base URL.
type oidcServer struct {
	base, data string
	logs       *testutil.LockedBuffer
}

func startOIDCServer(t *testing.T, flags ...string) *oidcServer {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	data := t.TempDir()
	base, logs := startServerAt(t, data, nil, append([]string{"--addr", addr, "--public-url", "http://" + addr,
		"--alg", "EdDSA", "--insecure-cookies"}, flags...)...)
	if base != "http://"+addr {
		t.Fatalf("server on %s, want %s", base, addr)
	}
	addUser(t, data, oidcUser, "reader", oidcPassword)
	return &oidcServer{base: base, data: data, logs: logs}
}

// addClient registers a client the way `jwtgate client add` does, in the
// server's database, and returns its id and secret ("" for a public
// client).
func (s *oidcServer) addClient(t *testing.T, spec auth.ClientSpec) (id, secret string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(s.data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, secret, err := (&auth.Service{Store: db}).RegisterClient(ctx, spec)
	if err != nil {
		t.Fatalf("registering %+v: %v", spec, err)
	}
	return c.ID, secret
}

// browser is an HTTP client with a cookie jar standing in for a user's
// browser, logged in to jwtgate as oidcUser.
func (s *oidcServer) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := b.Post(s.base+"/login", "application/json",
		strings.NewReader(`{"username":"`+oidcUser+`","password":"`+oidcPassword+`","cookie":true}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	return b
}

// follow makes the browser's requests from start, following redirects
// until one leaves for stopAt (a client's redirect URI), and returns that
// redirect's URL without loading it.
func follow(t *testing.T, b *http.Client, start, stopAt string) *url.URL {
	t.Helper()
	u, err := url.Parse(start)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		res, err := b.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		loc := res.Header.Get("Location")
		if res.StatusCode < 300 || res.StatusCode > 399 || loc == "" {
			t.Fatalf("GET %s: %d without a redirect: %.300s", u, res.StatusCode, body)
		}
		if u, err = u.Parse(loc); err != nil {
			t.Fatalf("GET %s: Location %q: %v", res.Request.URL, loc, err)
		}
		if strings.HasPrefix(u.String(), stopAt) {
			return u
		}
	}
	t.Fatalf("more than 10 redirects from %s", start)
	return nil
}

// PKCE is required of every client unless the operator lets confidential
// clients leave it out (--oidc-pkce-optional); public clients need it
// either way.
func TestOIDCPKCEOptional(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	for _, optional := range []bool{false, true} {
		var flags []string
		if optional {
			flags = []string{"--oidc-pkce-optional"}
		}
		s := startOIDCServer(t, flags...)
		conf, _ := s.addClient(t, auth.ClientSpec{Name: "Wiki", RedirectURIs: []string{"http://127.0.0.1:1/cb"}})
		pub, _ := s.addClient(t, auth.ClientSpec{Name: "SPA", RedirectURIs: []string{"http://127.0.0.1:1/cb"}, Public: true})
		b := s.browser(t)
		for _, c := range []struct {
			id     string
			public bool
		}{{conf, false}, {pub, true}} {
			q := url.Values{"client_id": {c.id}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
			got := follow(t, b, s.base+"/oauth2/authorize?"+q.Encode(), "http://127.0.0.1:1/cb").Query()
			wantCode := optional && !c.public
			if (got.Get("code") != "") != wantCode || !wantCode && got.Get("error") != "invalid_request" {
				t.Errorf("optional=%v public=%v: redirect %v, want a code: %v", optional, c.public, got, wantCode)
			}
		}
	}
}
