package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// TestBrowserSignInForApplication: an application sends the browser to
// the authorization endpoint; without a session it lands on the login
// page, which names the application, logs in and returns to the flow,
// which redirects to the application with a code and its state.
func TestBrowserSignInForApplication(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{oidc: true})
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>wiki</title><p id="wiki">back at the wiki</p>`))
	}))
	t.Cleanup(rp.Close)
	c, secret, err := s.svc.RegisterClient(context.Background(), auth.ClientSpec{Name: "Team Wiki", RedirectURIs: []string{rp.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	verifier := base64.RawURLEncoding.EncodeToString(b)
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {rp.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid profile"},
		"state": {"st-42"}, "nonce": {"n-1"}, "code_challenge": {auth.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"}}
	authorize := s.URL + "/oauth2/authorize?" + q.Encode()

	tb := newTab(t)
	tb.do(chromedp.Navigate(authorize))
	tb.waitJS(`document.getElementById('login-client').textContent === 'Team Wiki asks you to sign in.'`, 10*time.Second)
	if !tb.visible("#login-form") || tb.visible("#app-section") {
		t.Fatal("the login form is not what the page shows")
	}
	tb.login("rita", pw("rita"))
	back, err := url.Parse(waitURL(tb, rp.URL+"/cb?"))
	if err != nil {
		t.Fatal(err)
	}
	code := back.Query().Get("code")
	if !strings.HasPrefix(back.String(), rp.URL+"/cb?") || code == "" || back.Query().Get("state") != "st-42" || back.Query().Get("iss") != s.URL {
		t.Fatalf("back at %s", back)
	}
	// The code is good for the application.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rp.URL + "/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest("POST", s.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("token exchange: %s", res.Status)
	}

	// With the session, the next sign-in goes straight through.
	tb.do(chromedp.Navigate(authorize))
	if u := waitURL(tb, rp.URL+"/cb?"); !strings.Contains(u, "code=") {
		t.Errorf("second sign-in: %s", u)
	}

	// prompt=login shows the form even then.
	q.Set("prompt", "login")
	tb.do(chromedp.Navigate(s.URL + "/oauth2/authorize?" + q.Encode()))
	tb.waitJS(`document.getElementById('login-client').textContent === 'Team Wiki asks you to sign in.'`, 10*time.Second)
	tb.login("rita", pw("rita"))
	if u := waitURL(tb, rp.URL+"/cb?"); !strings.Contains(u, "code=") {
		t.Errorf("sign-in with prompt=login: %s", u)
	}
}

// waitURL waits until the tab's document is at a URL starting with
// prefix and returns the URL. Navigations interrupt evaluations: those
// errors are retried.
func waitURL(tb *tab, prefix string) string {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		u, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? location.href : ''`))
		cancel()
		if err == nil {
			last = u
			if strings.HasPrefix(u, prefix) {
				return u
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.t.Fatalf("the tab is at %q, want %s...", last, prefix)
	return ""
}

// TestBrowserSignInReturnIsOnlyTheFlow: the login page follows a return
// parameter only to this server's authorization endpoint.
func TestBrowserSignInReturnIsOnlyTheFlow(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{oidc: true})
	for _, ret := range []string{
		"https://evil.example/oauth2/authorize?x=1",
		"//evil.example/oauth2/authorize?x=1",
		"/\\evil.example/oauth2/authorize?x=1",
		"/oauth2/authorize/../../evil?x=1",
		"/oauth2/authorizex?x=1",
		"javascript:alert(1)//",
		"/oauth2/authorize",
	} {
		t.Run(ret, func(t *testing.T) {
			tb := newTab(t)
			tb.do(chromedp.Navigate(s.URL + "/?return=" + url.QueryEscape(ret)))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
			if tb.visible("#login-client") {
				t.Errorf("return %q taken for a sign-in", ret)
			}
			tb.login("rita", pw("rita"))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
			if u := eval[string](tb, `location.href`); !strings.HasPrefix(u, s.URL+"/?") {
				t.Errorf("return %q: the page went to %s", ret, u)
			}
		})
	}
}

// TestBrowserAdminClients: an admin registers an application, sees its
// secret once, replaces it, and deletes the application.
func TestBrowserAdminClients(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{oidc: true})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/admin"))
	tb.login("alice", pw("alice"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#clients-none")))
	tb.do(
		chromedp.SendKeys(chromedp.CSS("#new-client-name"), "Grafana"),
		chromedp.SendKeys(chromedp.CSS("#new-client-uris"), "https://grafana.example/login/generic_oauth\nhttps://grafana2.example/cb"),
		chromedp.Click(chromedp.CSS("#client-submit")),
	)
	tb.waitJS(`document.querySelectorAll('#clients-body tr').length === 1 && !document.getElementById('client-secret-box').hidden`, 10*time.Second)
	if l := unlabelled(tb); len(l) > 0 {
		t.Errorf("fields without a label: %q", l)
	}
	secret := tb.text("client-secret")
	id := eval[string](tb, `document.querySelector('#clients-body tr').dataset.id`)
	cs, err := s.svc.Clients(context.Background())
	if err != nil || len(cs) != 1 || cs[0].ID != id || len(cs[0].RedirectURIs) != 2 {
		t.Fatalf("clients %+v, %v", cs, err)
	}
	if _, err := s.svc.AuthenticateClient(context.Background(), id, secret); err != nil {
		t.Fatalf("the secret shown does not authenticate the client: %v", err)
	}
	// The secret is not in the table.
	if strings.Contains(eval[string](tb, `document.getElementById('clients-table').textContent`), secret) {
		t.Error("the table shows the secret")
	}
	// A bad redirect URI is refused inline.
	tb.do(
		chromedp.SendKeys(chromedp.CSS("#new-client-name"), "Bad"),
		chromedp.SendKeys(chromedp.CSS("#new-client-uris"), "http://evil.example/cb"),
		chromedp.Click(chromedp.CSS("#client-submit")),
	)
	tb.waitJS(`document.getElementById('client-form-error').textContent !== ''`, 10*time.Second)

	// New secret (two clicks): the old one stops working.
	sel := `tr[data-id="` + id + `"]`
	tb.do(chromedp.Click(chromedp.CSS(sel + " .client-rotate")))
	tb.do(chromedp.Click(chromedp.CSS(sel + " .client-rotate")))
	tb.waitJS(`document.getElementById('client-secret').textContent !== `+jsString(secret), 10*time.Second)
	if _, err := s.svc.AuthenticateClient(context.Background(), id, secret); err == nil {
		t.Error("the old secret still works")
	}
	if _, err := s.svc.AuthenticateClient(context.Background(), id, tb.text("client-secret")); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	tb.do(chromedp.Click(chromedp.CSS(sel + " .client-delete")))
	tb.do(chromedp.Click(chromedp.CSS(sel + " .client-delete")))
	tb.waitJS(`document.querySelectorAll('#clients-body tr').length === 0`, 30*time.Second)
	if cs, _ := s.svc.Clients(context.Background()); len(cs) != 0 {
		t.Errorf("clients after delete: %+v", cs)
	}
}
