package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// openidClientDir holds the Node.js app (flow.mjs) and its pinned
// dependencies; .ci/run installs them with npm ci.
const openidClientDir = "testdata/openid-client"

// requireNode returns the node program, skipping the test (failing it
// under CI=true) when Node.js 20 or later or the app's node_modules are
// missing.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testutil.Unavailable(t, fmt.Sprintf("no node on PATH: %v", err), "install Node.js 20 or later")
	}
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		testutil.Unavailable(t, fmt.Sprintf("node --version: %v", err), "install Node.js 20 or later")
	}
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(v)), "v"), ".", 2)[0])
	if major < 20 {
		testutil.Unavailable(t, fmt.Sprintf("node %s: openid-client 6 needs Node.js 20 or later", bytes.TrimSpace(v)), "install Node.js 20 or later")
	}
	if _, err := os.Stat(filepath.Join(openidClientDir, "node_modules", "openid-client", "package.json")); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("openid-client not installed: %v", err), "run npm ci in cmd/jwtgate/"+openidClientDir)
	}
	return node
}

// TestOIDCOpenIDClient signs in a Node.js app written with openid-client
// 6 (flow.mjs): discovery, the code flow with PKCE, state and nonce
// (which the library checks), userinfo, refresh and reuse of a refresh
// token, then RP-initiated logout, which ends the browser session.
func TestOIDCOpenIDClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node.js: skipped by -short")
	}
	node := requireNode(t)
	s := startOIDCServer(t)
	const redirect, afterLogout = "http://127.0.0.1:9/callback", "http://127.0.0.1:9/signed-out"
	id, secret := s.addClient(t, auth.ClientSpec{Name: "Node app", RedirectURIs: []string{redirect},
		PostLogoutRedirectURIs: []string{afterLogout}})
	b := s.browser(t)
	var cookies []string
	for _, c := range b.Jar.Cookies(mustParse(t, s.base+"/oauth2/authorize")) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	in, _ := json.Marshal(map[string]string{
		"issuer": s.base, "client_id": id, "client_secret": secret, "redirect_uri": redirect,
		"post_logout_redirect_uri": afterLogout, "cookie": strings.Join(cookies, "; "),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "flow.mjs")
	cmd.Dir = openidClientDir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("flow.mjs: %v\n%s", err, stderr.String())
	}
	var out struct {
		Issuer          string `json:"issuer"`
		CallbackStateOK bool   `json:"callback_state_ok"`
		IDTokenClaims   struct {
			Iss, Sub, Nonce, Sid, Azp string
			Aud                       any
			PreferredUsername         string `json:"preferred_username"`
		} `json:"id_token_claims"`
		Scope           string `json:"scope"`
		HasRefreshToken bool   `json:"has_refresh_token"`
		Userinfo        struct {
			Sub               string
			PreferredUsername string `json:"preferred_username"`
		}
		RefreshedSub      string               `json:"refreshed_sub"`
		RefreshRotated    bool                 `json:"refresh_rotated"`
		RefreshedUserinfo struct{ Sub string } `json:"refreshed_userinfo"`
		ReuseError        any                  `json:"reuse_error"`
		EndSessionURL     string               `json:"end_session_url"`
		LogoutStateOK     bool                 `json:"logout_state_ok"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("flow.mjs printed %q: %v", stdout, err)
	}
	t.Logf("flow.mjs: %s", stdout)
	c := out.IDTokenClaims
	for _, check := range []struct {
		what string
		ok   bool
	}{
		{"issuer from discovery", out.Issuer == s.base},
		{"state returned on the callback", out.CallbackStateOK},
		{"ID token iss, sub, azp, sid", c.Iss == s.base && c.Sub != "" && c.Azp == id && c.Sid != ""},
		{"ID token aud is the client", c.Aud == id || fmt.Sprint(c.Aud) == "["+id+"]"},
		{"ID token preferred_username", c.PreferredUsername == oidcUser},
		{"scope granted", strings.Contains(" "+out.Scope+" ", " openid ") && strings.Contains(out.Scope, "offline_access")},
		{"refresh token for offline_access", out.HasRefreshToken},
		{"userinfo", out.Userinfo.Sub == c.Sub && out.Userinfo.PreferredUsername == oidcUser},
		{"refresh rotates the refresh token", out.RefreshRotated},
		{"refreshed ID token, if any, for the same user", out.RefreshedSub == "" || out.RefreshedSub == c.Sub},
		{"userinfo with the refreshed token", out.RefreshedUserinfo.Sub == c.Sub},
		{"spent refresh token refused as invalid_grant", out.ReuseError == "invalid_grant"},
		{"end session URL on the provider", strings.HasPrefix(out.EndSessionURL, s.base+"/oauth2/logout?")},
		{"logout returns to the registered URI with state", out.LogoutStateOK},
	} {
		if !check.ok {
			t.Errorf("%s: not as expected", check.what)
		}
	}
	// The nonce was checked by openid-client (expectedNonce); it is there.
	if c.Nonce == "" {
		t.Error("ID token without the nonce")
	}

	// The logout ended the browser session too: asked without showing a
	// login page (prompt=none), the provider answers login_required.
	q := url.Values{"client_id": {id}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
		"prompt": {"none"}, "state": {"after-logout"}}
	testutil.Eventually(t, 10*time.Second, "browser session ended by the logout", func() bool {
		return follow(t, b, s.base+"/oauth2/authorize?"+q.Encode(), redirect).Query().Get("error") == "login_required"
	})
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
