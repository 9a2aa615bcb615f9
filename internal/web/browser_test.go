package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

const chromiumPath = "/usr/bin/chromium"

// One headless Chromium serves every test of the package; each test gets
// a tab in its own browser context (its own cookie jar: the test servers
// all live on 127.0.0.1, and cookies ignore the port).
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	dir    string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.dir != "" {
		os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

func browserContext(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("drives Chromium, about 40 s for the package: skipped by -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("no Chromium at %s: %v", chromiumPath, err), "the browser tests need it")
	}
	browser.once.Do(func() {
		browser.dir, browser.err = os.MkdirTemp("", "jwtgate-chromium-*")
		if browser.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromiumPath),
			chromedp.UserDataDir(browser.dir),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
			chromedp.Flag("password-store", "basic"),
			chromedp.Flag("use-mock-keychain", true),
			chromedp.WindowSize(1200, 900),
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		// The first Run starts the browser; its context must outlive it.
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void]("1")); err != nil {
			browser.err = fmt.Errorf("starting Chromium: %w", err)
		}
		browser.ctx = bctx
		browser.cancel = func() { bcancel(); acancel() }
	})
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	return browser.ctx
}

// tab is one test's browser tab.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
}

// newTab opens a tab in a fresh browser context. When the test ends it
// saves a screenshot of the page and fails the test on any uncaught
// exception or Content-Security-Policy violation the page reported.
func newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserContext(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.log = append(tb.log, m)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(tb.finish)
	return tb
}

func (tb *tab) finish() {
	t := tb.t
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	tb.screenshot(ctx, "")
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.log {
		switch {
		case strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy"):
			t.Errorf("CSP violation reported by the page: %s (%s)", m.Text, m.URL)
		case m.Type == chromedp.ConsoleException:
			t.Errorf("uncaught exception in the page: %s (%s:%d)", m.Text, m.URL, m.Line)
		}
	}
}

// shot saves a screenshot of the page's current state, named after the
// test and state.
func (tb *tab) shot(state string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	tb.screenshot(ctx, state)
}

// screenshot saves the page as <test>[_<state>].png in $JWTGATE_SCREENSHOTS,
// else in the test's artifact directory, and logs the path.
func (tb *tab) screenshot(ctx context.Context, state string) {
	t := tb.t
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name := t.Name()
	if state != "" {
		name += "_" + state
	}
	name = strings.NewReplacer("/", "_", " ", "_").Replace(name) + ".png"
	dir := t.ArtifactDir()
	if d := os.Getenv("JWTGATE_SCREENSHOTS"); d != "" {
		dir = d
		os.MkdirAll(dir, 0o755)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Errorf("saving screenshot: %v", err)
	} else {
		t.Logf("screenshot: %s", p)
	}
}

// do runs actions with a time limit.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the expression is truthy.
func (tb *tab) waitJS(expr string, timeout time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		tb.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// text returns the textContent of the element with this id.
func (tb *tab) text(id string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.getElementById(%q)?.textContent ?? '<missing>').trim()`, id))
}

// visible reports whether the element exists and is rendered.
func (tb *tab) visible(sel string) bool {
	tb.t.Helper()
	return eval[bool](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0; })()`, sel))
}

// login fills and submits the login form of the current page.
func (tb *tab) login(user, password string) {
	tb.t.Helper()
	tb.do(
		chromedp.WaitVisible(chromedp.CSS("#login-username")),
		chromedp.SendKeys(chromedp.CSS("#login-username"), user),
		chromedp.SendKeys(chromedp.CSS("#login-password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
}

// loginAs opens / and logs in, waiting for the posts to load.
func (tb *tab) loginAs(s *stack, user string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.login(user, pw(user))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
	tb.waitJS(`document.getElementById('session-name').textContent === `+jsString(user), 10*time.Second)
}

// cookie returns the browser's cookie called name for the stack's URL.
func (tb *tab) cookie(s *stack, name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL + "/"}})
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// noSideScroll fails the test if the page is wider than the screen.
func noSideScroll(tb *tab, page string) {
	tb.t.Helper()
	w := eval[[]int](tb, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	if w[0] > w[1] {
		tb.t.Errorf("%s is %d px wide on a %d px screen: it scrolls sideways", page, w[0], w[1])
	}
}

// expiresIn parses the session panel's "expires in 1 min 59 s (…)".
func expiresIn(t *testing.T, shown string) time.Duration {
	t.Helper()
	m := leftShown.FindStringSubmatch(shown)
	if m == nil {
		t.Fatalf("expiry shown = %q, want expires in <time left>", shown)
	}
	var d time.Duration
	f := strings.Fields(m[1])
	for i := 0; i+1 < len(f); i += 2 {
		n, _ := strconv.Atoi(f[i])
		d += time.Duration(n) * map[string]time.Duration{"h": time.Hour, "min": time.Minute, "s": time.Second}[f[i+1]]
	}
	return d
}

var leftShown = regexp.MustCompile(`^expires in ((?:\d+ (?:h|min|s) )+)\(`)

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func postCount(tb *tab) int {
	return eval[int](tb, `document.querySelectorAll('#post-list > li').length`)
}

func TestBrowserLoginShowsPosts(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	s.addPosts(t, "eddie", "Post", 23)
	tb := newTab(t)
	// Keyboard only: Tab from the username to the password, Enter submits.
	tb.do(
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-username")),
		chromedp.Focus(chromedp.CSS("#login-username")),
		chromedp.KeyEvent("rita\t"+pw("rita")+"\r"),
	)
	tb.waitJS(`document.getElementById('session-name').textContent === 'rita'`, 10*time.Second)
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 10`, 10*time.Second)
	if got := tb.text("session-role"); got != "reader" {
		t.Errorf("role shown = %q, want reader", got)
	}
	if first := eval[string](tb, `document.querySelector('#post-list .post-title').textContent`); first != "Post 23" {
		t.Errorf("first post = %q, want the newest, Post 23", first)
	}
	// Page through: 10, 20, then the last 3 and no More button.
	tb.do(chromedp.Click(chromedp.CSS("#more")))
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 20`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS("#more")))
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 23`, 10*time.Second)
	tb.waitJS(`document.getElementById('more').hidden`, 5*time.Second)
	if n := postCount(tb); n != 23 {
		t.Errorf("%d posts shown, want 23", n)
	}
	// The tokens are HttpOnly: the page sees only the CSRF cookie.
	if c := eval[string](tb, `document.cookie`); strings.Contains(c, "access_token") || strings.Contains(c, "refresh_token") || !strings.Contains(c, "csrf_token=") {
		t.Errorf("document.cookie = %q: want only csrf_token readable", c)
	}
	if ls := eval[int](tb, `localStorage.length + sessionStorage.length`); ls != 0 {
		t.Errorf("page stored %d items in web storage", ls)
	}
	// Reloading keeps the session.
	tb.do(chromedp.Reload())
	tb.waitJS(`document.getElementById('session-name').textContent === 'rita'`, 10*time.Second)
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 10`, 10*time.Second)
}

func TestBrowserEditorCreatesAndDeletesPost(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	s.addPosts(t, "alice", "Admin post", 2)
	tb := newTab(t)
	tb.loginAs(s, "eddie")
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 2`, 10*time.Second)
	// Only own posts get a delete button (eddie is no admin).
	if n := eval[int](tb, `document.querySelectorAll('#post-list .post-delete').length`); n != 0 {
		t.Errorf("%d delete buttons on others' posts", n)
	}
	tb.do(
		chromedp.WaitVisible(chromedp.CSS("#post-form")),
		chromedp.SendKeys(chromedp.CSS("#post-title"), "Hello from the browser"),
		chromedp.SendKeys(chromedp.CSS("#post-body"), "Written <b>by</b> eddie"),
		chromedp.Click(chromedp.CSS("#post-submit")),
	)
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 3`, 10*time.Second)
	if got := eval[string](tb, `document.querySelector('#post-list .post-title').textContent`); got != "Hello from the browser" {
		t.Errorf("new post title = %q", got)
	}
	if got := eval[string](tb, `document.querySelector('#post-list .post-body').innerHTML`); got != "Written &lt;b&gt;by&lt;/b&gt; eddie" {
		t.Errorf("post body rendered as %q: want the text escaped", got)
	}
	// The post is really stored.
	var page struct {
		Posts []struct{ Title, Author string }
	}
	s.do(t, "GET", "/posts", s.login(t, "rita").AccessToken, "", nil, &page)
	if len(page.Posts) != 3 || page.Posts[0].Title != "Hello from the browser" || page.Posts[0].Author != "eddie" {
		t.Errorf("stored posts = %+v", page.Posts)
	}
	// Delete it: two clicks (the first asks for confirmation).
	tb.do(chromedp.Click(chromedp.CSS("#post-list .post-delete")))
	if got := eval[string](tb, `document.querySelector('#post-list .post-delete').textContent`); !strings.Contains(got, "Really") {
		t.Errorf("delete button after one click = %q, want a confirmation", got)
	}
	tb.do(chromedp.Click(chromedp.CSS("#post-list .post-delete")))
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 2`, 10*time.Second)
	if l := unlabelled(tb); len(l) > 0 {
		t.Errorf("fields without a label: %q", l)
	}
	// Leave a post in place for the screenshot, written with the keyboard
	// only: Tab from the last button of the session panel to the title,
	// Tab to the text, Tab to Publish and press Space.
	tb.do(
		chromedp.Focus(chromedp.CSS("#logout-all")),
		chromedp.KeyEvent("\tA second post\tPosts render as plain text, newest first.\t "),
	)
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 3`, 10*time.Second)
	if got := eval[string](tb, `document.querySelector('#post-list .post-title').textContent + ' / ' + document.querySelector('#post-list .post-body').textContent`); got != "A second post / Posts render as plain text, newest first." {
		t.Errorf("post written with the keyboard = %q", got)
	}
}

func TestBrowserLoginErrors(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{loginBurst: 3})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.login("eddie", "not-the-password")
	tb.waitJS(`document.getElementById('login-error').textContent.includes('Wrong username or password')`, 10*time.Second)
	if role := eval[string](tb, `document.getElementById('login-error').getAttribute('role')`); role != "alert" {
		t.Errorf("error element role = %q, want alert", role)
	}
	if tb.visible("#app-section") {
		t.Error("app shown after a failed login")
	}
	// Up to the limit of 3 attempts, then rate limited.
	for i := 0; !strings.Contains(tb.text("login-error"), "Too many login attempts"); i++ {
		if i == 5 {
			t.Fatalf("no rate limit after %d attempts; message %q", i+1, tb.text("login-error"))
		}
		tb.do(chromedp.Click(chromedp.CSS("#login-submit")))
		tb.waitJS(`!document.getElementById('login-submit').disabled`, 10*time.Second)
	}
	if msg := tb.text("login-error"); !strings.Contains(msg, "Try again in") {
		t.Errorf("rate limit message %q does not say when to retry", msg)
	}
	// The server goes away.
	s.srv.CloseClientConnections()
	s.srv.Close()
	tb.do(chromedp.Click(chromedp.CSS("#login-submit")))
	tb.waitJS(`document.getElementById('login-error').textContent.includes('Server unreachable')`, 10*time.Second)
}

func TestBrowserSilentRefresh(t *testing.T) {
	t.Parallel()
	const ttl = 4 * time.Second
	s := newStack(t, stackOptions{ttl: ttl})
	tb := newTab(t)
	start := time.Now()
	tb.loginAs(s, "rita")
	firstExp := eval[float64](tb, `+document.getElementById('session-expiry').dataset.expiresAt`)
	if !strings.Contains(tb.text("session-expiry"), "expires in") {
		t.Errorf("expiry shown = %q", tb.text("session-expiry"))
	}
	const renewed = `document.getElementById('refresh-count').parentElement.textContent`
	if got := eval[string](tb, renewed); got != "0 times" {
		t.Errorf("renewals shown = %q, want 0 times", got)
	}
	// Sample the expiry shown while the page renews the token.
	eval[chromedp.Void](tb, `void (window.expirySamples = [], setInterval(() => {
		const e = document.getElementById('session-expiry');
		window.expirySamples.push([e.dataset.expiresAt, e.textContent]);
	}, 100))`)
	// Outlive the access token twice over: the page must renew it. With
	// a lifetime this short it renews at half-life, every 2 s.
	tb.waitJS(`document.getElementById('refresh-count').textContent === '1'`, 2*ttl)
	if got := eval[string](tb, renewed); got != "1 time" {
		t.Errorf("renewals shown = %q, want 1 time", got)
	}
	tb.waitJS(`+document.getElementById('refresh-count').textContent >= 4`, 3*ttl)
	if got := eval[string](tb, renewed); !regexp.MustCompile(`^([4-9]|\d\d+) times$`).MatchString(got) {
		t.Errorf("renewals shown = %q, want 4 times or more", got)
	}
	// Between renewals the time left shown counts down, and never up.
	var down bool
	samples := eval[[][2]string](tb, `window.expirySamples`)
	if len(samples) == 0 {
		t.Fatal("no samples of the expiry shown")
	}
	shown := []string{samples[0][1]}
	for i := 1; i < len(samples); i++ {
		if samples[i][1] != samples[i-1][1] {
			shown = append(shown, samples[i][1])
		}
		if samples[i][0] != samples[i-1][0] {
			continue // renewed: a new expiry
		}
		switch prev, left := expiresIn(t, samples[i-1][1]), expiresIn(t, samples[i][1]); {
		case left < prev:
			down = true
		case left > prev:
			t.Errorf("the time left shown went up from %q to %q", samples[i-1][1], samples[i][1])
		}
	}
	if !down {
		t.Errorf("the time left shown never counted down; it showed %q", shown)
	}
	if el := time.Since(start); el < 3*ttl/2 {
		t.Errorf("4 refreshes within %v: the page refreshes too eagerly", el)
	}
	if n := s.refreshes.Load(); n < 4 {
		t.Errorf("server saw %d refreshes, want >= 4", n)
	}
	if exp := eval[float64](tb, `+document.getElementById('session-expiry').dataset.expiresAt`); exp <= firstExp {
		t.Errorf("expiry did not move on: %v then %v", firstExp, exp)
	}
	if !tb.visible("#session-panel") || tb.visible("#login-section") {
		t.Error("the session ended")
	}
	status := eval[int](tb, `fetch('/me', {credentials: 'same-origin'}).then(r => r.status)`)
	if status != 200 {
		t.Errorf("GET /me from the page after %v = %d, want 200", time.Since(start), status)
	}

	// An API call that finds the access cookie gone refreshes once and
	// retries: reload the page without the access token.
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "access_token", URL: s.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	before := s.refreshes.Load()
	tb.do(chromedp.Reload())
	tb.waitJS(`document.getElementById('session-name').textContent === 'rita'`, 10*time.Second)
	if s.refreshes.Load() == before {
		t.Error("no refresh after /me answered 401")
	}
	if tb.visible("#login-section") {
		t.Error("login form shown although the refresh cookie was valid")
	}
}

func TestBrowserLogout(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	tb.loginAs(s, "eddie")
	old := tb.cookie(s, "access_token")
	if old == "" {
		t.Fatal("no access_token cookie after login")
	}
	tb.do(chromedp.Click(chromedp.CSS("#logout")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if got := tb.text("login-error"); !strings.Contains(got, "logged out") {
		t.Errorf("message after logout = %q", got)
	}
	if c := tb.cookie(s, "access_token"); c != "" {
		t.Error("access_token cookie still set after logout")
	}
	// The protected page asks for a login again.
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if tb.visible("#app-section") {
		t.Error("posts shown after logout")
	}
	// The old access token is refused from now on.
	var p struct{ Code string }
	if res := s.do(t, "GET", "/me", "", "access_token="+old, nil, &p); res.StatusCode != 401 || p.Code != "token_revoked" {
		t.Errorf("old cookie after logout: %d %s, want 401 token_revoked", res.StatusCode, p.Code)
	}

	// Log out everywhere ends another session of the same user too.
	other := s.login(t, "eddie")
	tb.login("eddie", pw("eddie"))
	tb.waitJS(`document.getElementById('session-name').textContent === 'eddie'`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS("#logout-all")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if got := tb.text("login-error"); !strings.Contains(got, "every device") {
		t.Errorf("message after log out everywhere = %q", got)
	}
	p.Code = ""
	if res := s.do(t, "POST", "/refresh", "", "", map[string]string{"refresh_token": other.RefreshToken}, &p); res.StatusCode != 401 || p.Code != "refresh_invalid" {
		t.Errorf("other session's refresh after log out everywhere: %d %s, want 401 refresh_invalid", res.StatusCode, p.Code)
	}
}

// TestBrowserOnPhone checks every page on a phone-sized screen, where none
// may scroll sideways, and what a reader gets there.
func TestBrowserOnPhone(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	s.addPosts(t, "eddie", "Post", 3)
	tb := newTab(t)
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	// An admin's users table turns into cards.
	tb.do(chromedp.Navigate(s.URL + "/admin"))
	tb.login("alice", pw("alice"))
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 3`, 10*time.Second)
	noSideScroll(tb, "the users page")
	tb.do(chromedp.Click(chromedp.CSS("#logout")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))

	tb.loginAs(s, "rita")
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 3`, 10*time.Second)
	if eval[bool](tb, `document.getElementById('post-form') !== null`) {
		t.Error("a reader got the create-post form")
	}
	if n := eval[int](tb, `document.querySelectorAll('.post-delete').length`); n != 0 {
		t.Errorf("a reader got %d delete buttons", n)
	}
	noSideScroll(tb, "the posts page")
	// The admin page has nothing for readers.
	tb.do(chromedp.Navigate(s.URL + "/admin"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#admins-only")))
	if tb.visible("#users-table") {
		t.Error("a reader sees the users table")
	}
	// The inspector, with a token and its key pasted.
	k, err := jwt.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Sign(k, map[string]any{"sub": "42", "scope": strings.Repeat("posts:write,", 20), "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := jwt.MarshalJWKS(k)
	if err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.Navigate(s.URL + "/inspect"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#token")))
	tb.do(chromedp.Click(chromedp.CSS("#mode-jwks")))
	setField(tb, "jwks", string(jwks))
	setField(tb, "token", tok)
	verdict(tb, "valid")
	noSideScroll(tb, "the inspector")

	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.waitJS(`document.querySelectorAll('#post-list > li').length === 3`, 10*time.Second)
}

func TestBrowserAdminUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/admin"))
	tb.login("alice", pw("alice"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#users-table")))
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 3`, 10*time.Second)
	tb.do(
		chromedp.SendKeys(chromedp.CSS("#new-username"), "nora"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "nora-password"),
		chromedp.SetValue(chromedp.CSS("#new-role"), "editor"),
		chromedp.Click(chromedp.CSS("#user-submit")),
	)
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 4`, 10*time.Second)
	// The role selects of the rows get their labels at run time.
	if l := unlabelled(tb); len(l) > 0 {
		t.Errorf("fields without a label: %q", l)
	}
	// A duplicate is refused inline.
	tb.do(
		chromedp.SendKeys(chromedp.CSS("#new-username"), "nora"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "nora-password"),
		chromedp.Click(chromedp.CSS("#user-submit")),
	)
	tb.waitJS(`document.getElementById('user-form-error').textContent.includes('already exists')`, 10*time.Second)
	// Promote rita, disable eddie.
	// A role is saved when the select changes.
	eval[chromedp.Void](tb, `(() => { const s = document.querySelector('tr[data-name="rita"] .user-role'); s.value = 'editor'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`)
	tb.waitJS(`document.querySelector('tr[data-name="rita"] .user-role').value === 'editor' && document.getElementById('users-status').textContent.includes('rita')`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="eddie"] .user-toggle`)))
	tb.waitJS(`document.querySelector('tr[data-name="eddie"] .user-status').textContent === 'disabled'`, 10*time.Second)
	var list struct {
		Users []struct {
			Name     string
			Role     string
			Disabled bool
		}
	}
	s.do(t, "GET", "/users", s.login(t, "alice").AccessToken, "", nil, &list)
	got := map[string]string{}
	for _, u := range list.Users {
		got[u.Name] = fmt.Sprintf("%s/%v", u.Role, u.Disabled)
	}
	want := map[string]string{"alice": "admin/false", "eddie": "editor/true", "rita": "editor/false", "nora": "editor/false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("users = %v, want %v", got, want)
	}
	// Delete nora (two clicks).
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="nora"] .user-delete`)))
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="nora"] .user-delete`)))
	tb.waitJS(`document.querySelectorAll('#users-body tr').length === 3`, 10*time.Second)
}

const teachingToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc"

// setField sets an input's value as a paste would, firing input events.
func setField(tb *tab, id, value string) {
	tb.t.Helper()
	eval[chromedp.Void](tb, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})); })()`, id, jsString(value)))
}

// verdict waits for the verdict to settle on want ("valid" or "invalid")
// and returns its text.
func verdict(tb *tab, want string) string {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf(`document.getElementById('verdict').dataset.verdict === %q`, want), 10*time.Second)
	return tb.text("verdict")
}

func TestBrowserInspector(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/inspect"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#token")))

	// Paste the teaching token, then the secret.
	tb.do(chromedp.Click(chromedp.CSS("#mode-secret")))
	setField(tb, "token", teachingToken)
	setField(tb, "secret", "my_super_secret_key")
	if v := verdict(tb, "valid"); v != "Signature valid" {
		t.Errorf("verdict = %q, want Signature valid", v)
	}
	if h := tb.text("header-json"); !strings.Contains(h, `"alg": "HS256"`) {
		t.Errorf("header shown = %q", h)
	}
	if p := tb.text("payload-json"); !strings.Contains(p, `"user_id": 123`) || !strings.Contains(p, `"role": "admin"`) {
		t.Errorf("payload shown = %q", p)
	}
	segs := eval[[]string](tb, `[...document.querySelectorAll('#colored > span:not(.seg-dot)')].map(s => s.className)`)
	if fmt.Sprint(segs) != "[seg-h seg-p seg-s]" {
		t.Errorf("coloured segments = %v", segs)
	}
	colors := eval[[]string](tb, `[...document.querySelectorAll('#colored > span:not(.seg-dot)')].map(s => getComputedStyle(s).color)`)
	if len(colors) != 3 || colors[0] == colors[1] || colors[1] == colors[2] || colors[0] == colors[2] {
		t.Errorf("segment colours = %v, want three different ones", colors)
	}

	// One payload character changed: 123 becomes 124.
	tampered := strings.Replace(teachingToken, "eyJ1c2VyX2lkIjoxMjMs", "eyJ1c2VyX2lkIjoxMjQs", 1)
	setField(tb, "token", tampered)
	if v := verdict(tb, "invalid"); !strings.HasPrefix(v, "Signature INVALID") {
		t.Errorf("verdict for a tampered token = %q", v)
	}
	if p := tb.text("payload-json"); !strings.Contains(p, `"user_id": 124`) {
		t.Errorf("payload shown = %q", p)
	}
	// The wrong secret.
	setField(tb, "token", teachingToken)
	verdict(tb, "valid")
	setField(tb, "secret", "my_super_secret_keY")
	verdict(tb, "invalid")

	// alg none is refused; sloppy base64url is refused.
	setField(tb, "token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	if v := verdict(tb, "invalid"); !strings.Contains(v, "none") {
		t.Errorf("verdict for alg none = %q", v)
	}
	setField(tb, "token", strings.Replace(teachingToken, ".", "=.", 1))
	verdict(tb, "invalid")
	if e := tb.text("decode-error"); !strings.Contains(e, "base64url") {
		t.Errorf("decode error for padded base64 = %q", e)
	}

	// Tokens jwtgate signs with public-key algorithms verify against a
	// pasted JWKS, and fail once tampered with.
	tb.do(chromedp.Click(chromedp.CSS("#mode-jwks")))
	iat := time.Now().Unix()
	exp := iat + 3600
	for _, alg := range []jwt.Algorithm{"RS256", "PS384", "ES256", "ES384", "ES512", "EdDSA"} {
		k, err := jwt.GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		k = k.WithKeyID("key-" + string(alg))
		tok, err := jwt.Sign(k, map[string]any{"sub": "42", "exp": exp, "iat": iat})
		if err != nil {
			t.Fatal(err)
		}
		jwks, err := jwt.MarshalJWKS(k)
		if err != nil {
			t.Fatal(err)
		}
		setField(tb, "jwks", string(jwks))
		setField(tb, "token", tok)
		if v := verdict(tb, "valid"); !strings.HasPrefix(v, "Signature valid") {
			t.Errorf("%s: verdict = %q", alg, v)
		}
		if alg == "RS256" {
			checkTimes(t, tb, map[string]int64{"iat": iat, "exp": exp})
		}
		parts := strings.Split(tok, ".")
		sig := []byte(parts[2])
		sig[3] ^= 1 // flips a bit of the signature, stays base64url
		if sig[3] == '-' || sig[3] == '_' {
			sig[3] = 'A'
		}
		setField(tb, "token", parts[0]+"."+parts[1]+"."+string(sig))
		if v := verdict(tb, "invalid"); !strings.HasPrefix(v, "Signature INVALID") {
			t.Errorf("%s tampered: verdict = %q", alg, v)
		}
	}
	// A JWKS URL on another origin is refused before any request: the
	// page must not become a way to make the browser call other sites.
	var foreign atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreign.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer other.Close()
	tb.do(chromedp.Click(chromedp.CSS("#mode-url")))
	setField(tb, "jwks-url", other.URL+"/jwks.json")
	tb.do(chromedp.Click(chromedp.CSS("#fetch-jwks")))
	tb.waitJS(`document.getElementById('url-status').textContent.startsWith('Not fetched')`, 10*time.Second)
	if st := tb.text("url-status"); !strings.Contains(st, "another site") {
		t.Errorf("status for a foreign JWKS URL = %q", st)
	}
	if n := foreign.Load(); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}

	if l := unlabelled(tb); len(l) > 0 {
		t.Errorf("fields without a label: %q", l)
	}

	// Finish on the teaching token for the screenshot.
	tb.do(chromedp.Click(chromedp.CSS("#example")))
	verdict(tb, "valid")
	if n := s.apiCalls.Load(); n != 0 {
		reqs := s.apiRequests()
		t.Errorf("the inspector made %d requests beyond plain GETs of its page and assets: pasted data must stay in the browser; the first: %.200q", n, reqs[:min(3, len(reqs))])
	}
}

// checkTimes checks that the inspector shows each of the time claims
// (name: NumericDate) as a date, in ISO 8601 and relative to now.
func checkTimes(t *testing.T, tb *tab, claims map[string]int64) {
	t.Helper()
	shown := eval[[]struct{ Name, DateTime, Text string }](tb, `[...document.querySelectorAll('#claims-times dt')].map(dt => {
		const time = dt.nextElementSibling.querySelector('time');
		return {name: dt.textContent, dateTime: time ? time.dateTime : '', text: dt.nextElementSibling.textContent};
	})`)
	if len(shown) != len(claims) {
		t.Errorf("times shown: %+v, want %d", shown, len(claims))
	}
	for _, c := range shown {
		v, ok := claims[c.Name]
		if !ok {
			t.Errorf("time shown for %q, which the token lacks", c.Name)
			continue
		}
		iso := time.Unix(v, 0).UTC().Format("2006-01-02T15:04:05.000Z")
		if c.DateTime != iso || !strings.Contains(c.Text, iso) || strings.Contains(c.Text, fmt.Sprint(v)) {
			t.Errorf("%s = %d shown as %q (datetime %q), want the date %s", c.Name, v, c.Text, c.DateTime, iso)
		}
		if rel := map[string]string{"iat": " ago)", "exp": "(in 60 min)"}[c.Name]; !strings.Contains(c.Text, rel) {
			t.Errorf("%s shown as %q, want %q in it", c.Name, c.Text, rel)
		}
	}
	if note := tb.text("time-note"); note != "" {
		t.Errorf("time note = %q for a token that is valid now", note)
	}
}

// unlabelled lists the form fields of the page that have no accessible
// label: a <label> (by for= or wrapping) with text, aria-label or
// aria-labelledby pointing at text.
func unlabelled(tb *tab) []string {
	tb.t.Helper()
	return eval[[]string](tb, `[...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden' &&
		![...e.labels].some(l => l.textContent.trim()) &&
		!(e.getAttribute('aria-label') || '').trim() &&
		!(e.getAttribute('aria-labelledby') || '').split(/\s+/).some(id => id && document.getElementById(id)?.textContent.trim())
	).map(e => e.outerHTML.slice(0, 80))`)
}
