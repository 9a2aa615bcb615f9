package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/auth"
)

func rowCount(tb *tab) int {
	return eval[int](tb, `document.querySelectorAll('#users-body tr').length`)
}

// The users page searches by the start of names and pages through the
// matches; a new password and the end of a user's sessions reach the
// server.
func TestBrowserAdminSearchAndPaging(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	for i := range 23 {
		if _, err := s.svc.CreateUser(context.Background(), fmt.Sprintf("member%02d", i), pw("member"), auth.RoleReader); err != nil {
			t.Fatal(err)
		}
	}
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/admin"))
	tb.login("alice", pw("alice"))
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 20`, 10*time.Second)
	tb.do(chromedp.SendKeys(chromedp.CSS("#user-search"), "MEM"))
	tb.waitJS(`document.querySelector('#users-body tr')?.dataset.name === 'member00' && !document.getElementById('users-next').disabled`, 10*time.Second)
	if n := rowCount(tb); n != 20 {
		t.Errorf("first page has %d rows, want 20", n)
	}
	tb.do(chromedp.Click(chromedp.CSS("#users-next")))
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 3`, 10*time.Second)
	if first := eval[string](tb, `document.querySelector('#users-body tr').dataset.name`); first != "member20" {
		t.Errorf("second page starts with %q, want member20", first)
	}
	if !eval[bool](tb, `document.getElementById('users-next').disabled`) {
		t.Error("the last page offers a next page")
	}
	tb.do(chromedp.Click(chromedp.CSS("#users-prev")))
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 20`, 10*time.Second)
	// A search that finds nothing says so.
	setField(tb, "user-search", "zz")
	tb.waitJS(`!document.getElementById('users-empty').hidden`, 10*time.Second)
	setField(tb, "user-search", "ri")
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 1`, 10*time.Second)

	// rita gets a new password she must change, then loses her sessions.
	rita := s.login(t, "rita")
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="rita"] .user-reset`)))
	tb.do(chromedp.SendKeys(chromedp.CSS(`tr[data-name="rita"] .user-reset-password`), "temporary-password"),
		chromedp.Click(chromedp.CSS(`tr[data-name="rita"] .user-reset-submit`)))
	tb.waitJS(`document.getElementById('users-status').textContent.includes('new password')`, 10*time.Second)
	if res := s.do(t, "GET", "/me", rita.AccessToken, "", nil, nil); res.StatusCode != 401 {
		t.Errorf("rita's token after the reset: %s, want 401", res.Status)
	}
	// The row is drawn again with the flag.
	tb.waitJS(`document.querySelector('tr[data-name="rita"] .user-status')?.textContent.includes('must change')`, 10*time.Second)
	var g struct {
		MustChangePassword bool   `json:"must_change_password"`
		AccessToken        string `json:"access_token"`
	}
	s.do(t, "POST", "/login", "", "", map[string]any{"username": "rita", "password": "temporary-password"}, &g)
	if !g.MustChangePassword {
		t.Error("rita's login does not say she must change her password")
	}
	// Her sessions one by one: the list shows both, End ends one.
	s.do(t, "POST", "/login", "", "", map[string]any{"username": "rita", "password": "temporary-password"}, nil)
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="rita"] .user-sessions`)))
	tb.waitJS(`document.querySelectorAll('tr[data-name="rita"] .user-sessions-list li').length === 2`, 10*time.Second)
	tb.axe("a user's sessions on the admin page")
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="rita"] .user-session-end`)))
	tb.waitJS(`document.querySelectorAll('tr[data-name="rita"] .user-sessions-list li').length === 1`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="rita"] .user-end`)))
	tb.waitJS(`document.getElementById('users-status').textContent.includes('Every session of rita')`, 10*time.Second)
	if res := s.do(t, "GET", "/me", g.AccessToken, "", nil, nil); res.StatusCode != 401 {
		t.Errorf("rita's token after ending her sessions: %s, want 401", res.Status)
	}
}

// Readers and editors never see the admin link; the current page is
// underlined only once it shows, not under the login form.
func TestBrowserNavFollowsRole(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	adminLink := `document.querySelector('.top nav a[href="/admin"]')`
	current := `[...document.querySelectorAll('.top nav a[aria-current="page"]')].map(a => a.getAttribute('href')).join(' ')`
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if c := eval[string](tb, current); c != "" {
		t.Errorf("the login page marks %q as the current page", c)
	}
	for _, tc := range []struct {
		user  string
		admin bool
	}{{"rita", false}, {"eddie", false}, {"alice", true}} {
		tb.loginAs(s, tc.user)
		if got := tb.visible(`.top nav a[href="/admin"]`); got != tc.admin {
			t.Errorf("%s: admin link shown = %v, want %v", tc.user, got, tc.admin)
		}
		if c := eval[string](tb, current); c != "/" {
			t.Errorf("%s: current page %q, want /", tc.user, c)
		}
		tb.do(chromedp.Navigate(s.URL + "/inspect"))
		tb.do(chromedp.WaitVisible(chromedp.CSS("#token")))
		if c := eval[string](tb, current); c != "/inspect" {
			t.Errorf("%s: inspector's current page %q", tc.user, c)
		}
		if !tc.admin && eval[bool](tb, `!`+adminLink+`.hidden`) {
			t.Errorf("%s sees the admin link on the inspector", tc.user)
		}
		tb.do(chromedp.Navigate(s.URL + "/"))
		tb.do(chromedp.WaitVisible(chromedp.CSS("#logout")))
		tb.do(chromedp.Click(chromedp.CSS("#logout")))
		tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
		if eval[bool](tb, `!`+adminLink+`.hidden`) || eval[string](tb, current) != "" {
			t.Errorf("after %s logged out: admin link or current page left", tc.user)
		}
	}
}

// On a 375 × 667 phone the session panel takes at most a quarter of the
// screen, and the first post starts on the first screen.
func TestBrowserPhoneSessionPanel(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	s.addPosts(t, "eddie", "Post", 2)
	tb := newTab(t)
	tb.do(chromedp.EmulateViewport(375, 667, chromedp.EmulateScale(2)))
	tb.loginAs(s, "rita")
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 2`, 10*time.Second)
	h := eval[[]float64](tb, `[document.getElementById('session-panel').getBoundingClientRect().height, window.innerHeight,
		document.querySelector('#post-list > li').getBoundingClientRect().top]`)
	if h[0] > h[1]/4 {
		t.Errorf("session panel is %.0f px high on a %.0f px screen, want at most a quarter", h[0], h[1])
	}
	if h[2] >= h[1] {
		t.Errorf("the first post starts at %.0f px, below the %.0f px screen", h[2], h[1])
	}
	noSideScroll(tb, "the posts page")
}

// A pasted string that is not a JWT is called so, before any detail.
func TestBrowserInspectorNotAJWT(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/inspect"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#token")))
	for _, in := range []string{"hello world", "a.b", "abc.d!f.ghi"} {
		setField(tb, "token", in)
		tb.waitJS(`document.getElementById('decode-error').textContent !== ''`, 5*time.Second)
		if got := tb.text("decode-error"); !strings.HasPrefix(got, "Cannot decode: this is not a JWT: ") {
			t.Errorf("%q: %q", in, got)
		}
	}
	setField(tb, "token", teachingToken)
	verdict(tb, "unchecked")
	if v := tb.text("verdict"); !strings.Contains(v, "above") {
		t.Errorf("verdict %q does not point above, where the options are", v)
	}
}
