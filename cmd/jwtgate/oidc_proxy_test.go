package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// oauth2ProxyVersion is the release .ci/run installs with go install.
const oauth2ProxyVersion = "v7.15.6"

// requireOAuth2Proxy finds oauth2-proxy on PATH or in Go's bin folder and
// checks that it is the release the test was written for.
func requireOAuth2Proxy(t *testing.T) string {
	t.Helper()
	hint := "go install github.com/oauth2-proxy/oauth2-proxy/v7@" + oauth2ProxyVersion
	bin, err := exec.LookPath("oauth2-proxy")
	if err != nil {
		gopath, gerr := exec.Command("go", "env", "GOPATH").Output()
		if gerr != nil {
			testutil.Unavailable(t, fmt.Sprintf("no oauth2-proxy on PATH (%v) and no go env GOPATH (%v)", err, gerr), hint)
		}
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "oauth2-proxy")
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		testutil.Unavailable(t, fmt.Sprintf("oauth2-proxy: %v", err), hint)
	}
	if info.Main.Path != "github.com/oauth2-proxy/oauth2-proxy/v7" || info.Main.Version != oauth2ProxyVersion {
		testutil.Unavailable(t, fmt.Sprintf("%s is %s %s, want %s", bin, info.Main.Path, info.Main.Version, oauth2ProxyVersion), hint)
	}
	return bin
}

const chromiumPath = "/usr/bin/chromium"

// chromium starts a headless Chromium for the test and returns its tab.
func chromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("no Chromium at %s: %v", chromiumPath, err), "install Debian's chromium")
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	// What the pages report (CSP violations, exceptions) helps when the
	// test fails.
	console := &testutil.LockedBuffer{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			fmt.Fprintf(console, "%s %s (%s)\n", m.Type, m.Text, m.URL)
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console)
		}
	})
	// The first Run starts the browser, which lives as long as that Run's
	// context: ctx, not one with a time limit.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void]("1")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// waitPage evaluates expr in the tab until it is true, across page loads
// (an evaluation during a navigation fails, and is tried again). On
// failure it shows where the tab is and what it says.
func waitPage(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			ctx, cancel := context.WithTimeout(tab, 5*time.Second)
			defer cancel()
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: not within 30s (last error %v); the tab shows %.1000s", what, err, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOIDCOAuth2Proxy puts oauth2-proxy (provider oidc, PKCE S256) in
// front of an app, and a user signs in with Chromium: the app's URL leads
// to jwtgate's login page, then back to the app, which gets the user's
// identity in oauth2-proxy's headers. Signing out of oauth2-proxy and of
// jwtgate (RP-initiated logout) ends both sessions.
func TestOIDCOAuth2Proxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs oauth2-proxy and Chromium: skipped by -short")
	}
	bin := requireOAuth2Proxy(t)
	t.Run("password", func(t *testing.T) { oauth2ProxyFlow(t, bin, false) })
	// The user has an authenticator app: the login page asks for its code
	// before the flow goes back to the app.
	t.Run("password and TOTP", func(t *testing.T) { oauth2ProxyFlow(t, bin, true) })
}

// enrolTOTP sets up TOTP for the user through the server's API, as the
// Security page does, and returns the secret.
func enrolTOTP(t *testing.T, base, user, password string) []byte {
	t.Helper()
	token := login(t, base, user, password)
	call := func(path, body string, out any) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s", path, res.Status)
		}
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	var en struct {
		URI string `json:"otpauth_uri"`
	}
	call("/me/mfa/totp", "", &en)
	u, err := url.Parse(en.URI)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := auth.ParseTOTPSecret(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	var done struct {
		Codes []string `json:"recovery_codes"`
	}
	call("/me/mfa/totp/confirm", `{"code":"`+auth.TOTPCode(secret, time.Now())+`"}`, &done)
	if len(done.Codes) == 0 {
		t.Fatal("TOTP confirmed without recovery codes")
	}
	return secret
}

func oauth2ProxyFlow(t *testing.T, bin string, withTOTP bool) {
	tab := chromium(t)
	s := startOIDCServer(t)
	var totpKey []byte
	if withTOTP {
		totpKey = enrolTOTP(t, s.base, oidcUser, oidcPassword)
	}

	// The app behind the proxy shows the identity headers it gets on its
	// page, and counts how often that page is served.
	var appHits atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r) // such as the browser's /favicon.ico, whenever it asks
			return
		}
		appHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>app</title><p id=user>%s</p><p id=email>%s</p><p id=preferred>%s</p>",
			html.EscapeString(r.Header.Get("X-Forwarded-User")), html.EscapeString(r.Header.Get("X-Forwarded-Email")),
			html.EscapeString(r.Header.Get("X-Forwarded-Preferred-Username")))
	}))
	t.Cleanup(app.Close)

	proxyAddr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	proxy := "http://" + proxyAddr
	id, secret := s.addClient(t, auth.ClientSpec{Name: "Intranet", RedirectURIs: []string{proxy + "/oauth2/callback"},
		PostLogoutRedirectURIs: []string{proxy + "/"}})
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testutil.LockedBuffer{}
	cmd := exec.CommandContext(ctx, bin,
		"--http-address="+proxyAddr,
		"--provider=oidc",
		"--oidc-issuer-url="+s.base,
		"--client-id="+id,
		"--client-secret="+secret,
		"--redirect-url="+proxy+"/oauth2/callback",
		"--code-challenge-method=S256",
		"--scope=openid profile",
		// jwtgate's users have no email; the username stands in for it.
		"--oidc-email-claim=preferred_username",
		"--email-domain=*",
		"--upstream="+app.URL,
		"--cookie-secret="+strings.Repeat("c", 32),
		"--cookie-secure=false",
		"--skip-provider-button",
		// Where sign_out may send the browser on: jwtgate's logout.
		"--whitelist-domain="+strings.TrimPrefix(s.base, "http://"),
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("oauth2-proxy log:\n%s", logs)
			t.Logf("jwtgate log:\n%s", s.logs)
		}
	})
	testutil.Eventually(t, 30*time.Second, "oauth2-proxy answering /ping", func() bool {
		res, err := http.Get(proxy + "/ping")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	// The app sends the browser to jwtgate's login page, which names it.
	browse(t, tab, chromedp.Navigate(proxy+"/"))
	waitPage(t, tab, "jwtgate's login page", `location.href.startsWith(`+jsQuote(s.base)+`) && !!document.querySelector('#login-username')`)
	if hits := appHits.Load(); hits != 0 {
		t.Fatalf("the app was reached %d times before the login", hits)
	}
	waitPage(t, tab, "login page naming the app", `document.body.innerText.includes('Intranet')`)
	browse(t, tab,
		chromedp.WaitVisible(chromedp.CSS("#login-username")),
		chromedp.SendKeys(chromedp.CSS("#login-username"), oidcUser),
		chromedp.SendKeys(chromedp.CSS("#login-password"), oidcPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	if withTOTP {
		// The next step's code: the one of this step was spent on the
		// enrolment, and a code is accepted once.
		waitPage(t, tab, "the login page asking for the code", `!!document.querySelector('#mfa-code')`)
		browse(t, tab,
			chromedp.SendKeys(chromedp.CSS("#mfa-code"), auth.TOTPCode(totpKey, time.Now().Add(auth.TOTPPeriod))),
			chromedp.Click(chromedp.CSS("#mfa-submit")),
		)
	}
	waitPage(t, tab, "the app showing the user", `location.href === `+jsQuote(proxy+"/")+` && !!document.getElementById('preferred')`)
	var user, email, preferred string
	runText(t, tab, "#user", &user)
	runText(t, tab, "#email", &email)
	runText(t, tab, "#preferred", &preferred)
	if user == "" || email != oidcUser || preferred != oidcUser {
		t.Errorf("app got X-Forwarded-User %q, X-Forwarded-Email %q, X-Forwarded-Preferred-Username %q; want the user id, %q, %q",
			user, email, preferred, oidcUser, oidcUser)
	}

	// Sign out of oauth2-proxy, which sends the browser on to jwtgate's
	// logout. Without an ID token to vouch for it, jwtgate asks the user to
	// confirm, then sends the browser back to the app: no session left
	// anywhere, so the login page again, and the app not reached.
	logout := s.base + "/oauth2/logout?" + url.Values{"client_id": {id}, "post_logout_redirect_uri": {proxy + "/"}}.Encode()
	hits := appHits.Load()
	browse(t, tab, chromedp.Navigate(proxy+"/oauth2/sign_out?rd="+url.QueryEscape(logout)))
	waitPage(t, tab, "jwtgate asking to confirm the logout", `location.href.startsWith(`+jsQuote(s.base+"/oauth2/logout")+`) && !!document.querySelector('#logout-confirm')`)
	browse(t, tab, chromedp.Click(chromedp.CSS("#logout-confirm")))
	waitPage(t, tab, "jwtgate's login page after signing out", `location.href.startsWith(`+jsQuote(s.base)+`) && !!document.querySelector('#login-username')`)
	if appHits.Load() != hits {
		t.Error("the app was reached after signing out")
	}
}

func browse(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func runText(t *testing.T, tab context.Context, sel string, out *string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+jsQuote(sel)+`).textContent`))
	if err != nil {
		t.Fatal(err)
	}
	*out = v
}

// jsQuote makes s a JavaScript string literal.
func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
