package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// TestBrowserFirstRun: a server without users says so on its login page,
// with the command that creates the first admin; once a user exists the
// hint is gone.
func TestBrowserFirstRun(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{noUsers: true})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#first-run")))
	if got := tb.text("first-run-command"); got != setupHint {
		t.Errorf("first-run command %q, want %q", got, setupHint)
	}
	if !tb.visible("#login-form") {
		t.Error("the login form is hidden on first run")
	}
	tb.shot("no_users")

	if _, err := s.svc.CreateUser(context.Background(), "root", "root-correct-horse", auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	tb.waitJS(`performance.getEntriesByType('resource').some((e) => e.name.endsWith('/setup-status'))`, 10*time.Second)
	if tb.visible("#first-run") {
		t.Error("first-run hint shown although a user exists")
	}
	tb.login("root", "root-correct-horse")
	tb.waitJS(`document.getElementById('session-name').textContent === 'root'`, 10*time.Second)
}

// securityPage opens /security in a logged-in tab and waits for the
// sessions list.
func (tb *tab) securityPage(s *stack, rows int) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(s.URL + "/security"))
	tb.waitJS(`document.querySelectorAll('#session-list tr').length === `+strconv.Itoa(rows), 10*time.Second)
}

// TestBrowserPasswordChangeEndsOtherSessions: a password changed on the
// security page ends the user's session in another browser, whose next
// refresh fails, and keeps this one.
func TestBrowserPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	here, there := newTab(t), newTab(t)
	here.loginAs(s, "eddie")
	there.loginAs(s, "eddie")
	here.securityPage(s, 2)
	here.shot("two_sessions")

	// A wrong current password changes nothing and says why.
	here.do(
		chromedp.SendKeys(chromedp.CSS("#current-password"), "not-the-password"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "a-new-long-password"),
		chromedp.SendKeys(chromedp.CSS("#confirm-password"), "a-new-long-password"),
		chromedp.Click(chromedp.CSS("#password-submit")),
	)
	here.waitJS(`document.getElementById('password-error').textContent.includes('current password is wrong')`, 10*time.Second)
	here.shot("wrong_password")

	setField(here, "current-password", pw("eddie"))
	setField(here, "new-password", "a-new-long-password")
	setField(here, "confirm-password", "a-new-long-password")
	here.do(chromedp.Click(chromedp.CSS("#password-submit")))
	here.waitJS(`document.getElementById('password-status').textContent.includes('other sessions have ended')`, 10*time.Second)
	here.waitJS(`document.querySelectorAll('#session-list tr').length === 1`, 10*time.Second)
	if !here.visible(`#session-list tr[data-current="true"]`) {
		t.Error("the remaining session is not this one")
	}
	if got := here.text("password-error"); got != "" {
		t.Errorf("error after a successful change: %q", got)
	}
	here.shot("changed")

	// The other browser's next refresh fails, and its page asks for a login.
	status := eval[int](there, `fetch('/refresh', {method: 'POST', headers: {'X-CSRF-Token': document.cookie.match(/(?:^|; )csrf_token=([^;]*)/)[1]}}).then((r) => r.status)`)
	if status != 401 {
		t.Errorf("the other session's refresh after the change: %d, want 401", status)
	}
	there.do(chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	there.shot("other_browser_logged_out")
	// The new password logs in there; this tab still works.
	there.login("eddie", "a-new-long-password")
	there.waitJS(`document.getElementById('session-name').textContent === 'eddie'`, 10*time.Second)
	here.securityPage(s, 2)
}

// TestBrowserSessionsList: the security page lists the user's sessions
// with where they came from, ends one, then all but this one.
func TestBrowserSessionsList(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	tb.loginAs(s, "rita")
	first, second := s.login(t, "rita"), s.login(t, "rita") // two more, by API
	other := s.login(t, "eddie")
	tb.securityPage(s, 3)
	rows := eval[[]string](tb, `[...document.querySelectorAll('#session-list tr')].map((tr) => tr.innerText.replace(/\s+/g, ' '))`)
	if !strings.Contains(rows[2], "This session") || !strings.Contains(rows[2], "127.0.0.1") || !strings.Contains(rows[2], "Chrome") {
		t.Errorf("this browser's session row %q: want marked, with its address and browser", rows[2])
	}
	if strings.Contains(rows[0], "This session") || !strings.Contains(rows[0], "Go-http-client") {
		t.Errorf("an API session's row %q", rows[0])
	}
	if n := eval[int](tb, `document.querySelectorAll('#session-list .end-session').length`); n != 2 {
		t.Errorf("%d end buttons, want one per other session", n)
	}
	tb.shot("three_sessions")

	// End the second one.
	p2, err := s.svc.Tokens.Verify(second.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.Click(chromedp.CSS(`#session-list tr[data-id=` + jsString(p2.Claims.SessionID) + `] .end-session`)))
	tb.waitJS(`document.querySelectorAll('#session-list tr').length === 2`, 10*time.Second)
	if got := tb.text("sessions-status"); got != "The session has ended." {
		t.Errorf("status %q", got)
	}
	var p struct{ Code string }
	if res := s.do(t, "POST", "/refresh", "", "", map[string]string{"refresh_token": second.RefreshToken}, &p); res.StatusCode != 401 {
		t.Errorf("ended session's refresh: %d %s", res.StatusCode, p.Code)
	}
	if res := s.do(t, "GET", "/me", first.AccessToken, "", nil, nil); res.StatusCode != 200 {
		t.Errorf("a session not ended: %d", res.StatusCode)
	}
	tb.shot("one_ended")

	tb.do(chromedp.Click(chromedp.CSS("#end-others")))
	tb.waitJS(`document.querySelectorAll('#session-list tr').length === 1 && document.getElementById('sessions-status').textContent.includes('everywhere else')`, 10*time.Second)
	if res := s.do(t, "POST", "/refresh", "", "", map[string]string{"refresh_token": first.RefreshToken}, nil); res.StatusCode != 401 {
		t.Errorf("refresh after everywhere else: %d", res.StatusCode)
	}
	if res := s.do(t, "GET", "/me", other.AccessToken, "", nil, nil); res.StatusCode != 200 {
		t.Errorf("another user's session after everywhere else: %d", res.StatusCode)
	}
	if !eval[bool](tb, `document.getElementById('end-others').disabled`) {
		t.Error("log out everywhere else stays enabled with no other session")
	}
	tb.shot("only_this_one")
	// This browser's session is intact.
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.waitJS(`document.getElementById('session-name').textContent === 'rita'`, 10*time.Second)
}

// TestBrowserSecureCookies: without --insecure-cookies the cookies carry
// the __Host- and __Secure- prefixes, and Chromium keeps Secure cookies
// from http://127.0.0.1 (a secure context), so the pages work there.
func TestBrowserSecureCookies(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{secure: true})
	tb := newTab(t)
	tb.loginAs(s, "eddie")
	for _, name := range []string{"__Host-access_token", "__Host-csrf_token"} {
		if tb.cookie(s, name) == "" {
			t.Errorf("no %s cookie", name)
		}
	}
	if tb.cookie(s, "access_token") != "" {
		t.Error("an unprefixed access_token cookie was set")
	}
	// A write by cookie works: the page finds the prefixed CSRF cookie.
	other := s.login(t, "eddie")
	tb.securityPage(s, 2)
	tb.do(chromedp.Click(chromedp.CSS("#end-others")))
	tb.waitJS(`document.getElementById('sessions-status').textContent.includes('everywhere else')`, 10*time.Second)
	if got := tb.text("sessions-error"); got != "" {
		t.Errorf("error: %q", got)
	}
	if res := s.do(t, "GET", "/me", other.AccessToken, "", nil, nil); res.StatusCode != 401 {
		t.Errorf("the other session after everywhere else: %d", res.StatusCode)
	}
}
