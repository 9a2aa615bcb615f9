package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserCrossOriginLogin is login CSRF: a page on another origin
// posts the login form with cookie=true as soon as it loads. The browser
// must stay logged out, or it would be working in the attacker's account.
func TestBrowserCrossOriginLogin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		host string // the attacker page's host; jwtgate is on 127.0.0.1
	}{
		{"cross-site", "localhost"},            // Sec-Fetch-Site: cross-site
		{"same-site, other port", "127.0.0.1"}, // Sec-Fetch-Site: same-site, and cookies ignore ports
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{})
			action := s.URL + "/login"
			evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte(`<!doctype html><title>Win a prize</title>
<form method="post" action="` + html.EscapeString(action) + `">
<input type="hidden" name="grant_type" value="password">
<input type="hidden" name="username" value="rita">
<input type="hidden" name="password" value="` + html.EscapeString(pw("rita")) + `">
<input type="hidden" name="cookie" value="true">
</form>
<script>addEventListener('load', () => setTimeout(() => document.forms[0].submit(), 0));</script>`))
			}))
			t.Cleanup(evil.Close)
			u, err := url.Parse(evil.URL)
			if err != nil {
				t.Fatal(err)
			}
			evilURL := "http://" + tc.host + ":" + u.Port() + "/"

			tb := newTab(t)
			tb.do(chromedp.Navigate(evilURL))
			// The form went out and the tab shows jwtgate's answer.
			tb.waitAcrossNavigation(`location.href === `+jsString(action)+` && document.readyState === 'complete' && document.body !== null && document.body.textContent.includes('}')`, 30*time.Second)
			if !slices.Contains(s.apiRequests(), "POST /login") {
				t.Fatalf("jwtgate saw no login; requests: %q", s.apiRequests())
			}
			if body := eval[string](tb, `document.body.textContent`); !strings.Contains(body, `"code":"cross_origin"`) {
				t.Errorf("answer to the cross-origin login: %s", body)
			}
			if c := tb.cookie(s, "access_token"); c != "" {
				t.Errorf("the browser holds an access_token cookie from the attacker's login")
			}
			cookies := browserCookies(tb, s.URL)
			var p struct{ Code string }
			if res := s.do(t, "GET", "/me", "", cookies, nil, &p); res.StatusCode != 401 {
				t.Errorf("GET /me with the browser's cookies (%q): %d, want 401", cookies, res.StatusCode)
			}
		})
	}
}

// browserCookies returns the browser's cookies for u as a Cookie header.
func browserCookies(tb *tab, u string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u + "/"}})
	if err != nil {
		tb.t.Fatal(err)
	}
	var parts []string
	for _, c := range res.Cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// waitAcrossNavigation waits until expr is true in whatever document the
// tab holds by then; chromedp.Poll fails instead when the page it polls
// navigates away.
func (tb *tab) waitAcrossNavigation(expr string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
