package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// axePath is axe-core's browser build, installed by npm ci in
// testdata/axe (.ci/run does it).
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeFinding is one rule that axe-core reports as violated, or cannot
// decide and leaves for a person to review ("incomplete").
type axeFinding struct {
	Kind  string   `json:"kind"`
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// axe runs axe-core on the page as it is now and fails the test for each
// violation and each item needing review, naming the state.
func (tb *tab) axe(state string) {
	tb.t.Helper()
	src, err := axeSource()
	if err != nil {
		testutil.Unavailable(tb.t, fmt.Sprintf("no axe-core at %s: %v", axePath, err), "run npm ci in internal/web/testdata/axe")
	}
	if !eval[bool](tb, `typeof axe === 'object'`) {
		tb.do(chromedp.Evaluate[chromedp.Void](src))
	}
	found := eval[[]axeFinding](tb, `axe.run(document, {resultTypes: ['violations', 'incomplete']}).then(r =>
		[['violation', r.violations], ['needs review', r.incomplete]].flatMap(([kind, list]) =>
			list.map(v => ({kind, id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))`)
	for _, f := range found {
		tb.t.Errorf("%s: axe-core %s %s (%s) at %s", state, f.Kind, f.ID, f.Help, strings.Join(f.Nodes, ", "))
	}
}

// Every page in each of its states, light and dark, wide and on a phone,
// has no accessibility violation and nothing that axe-core cannot decide.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	k, err := jwt.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Sign(k, map[string]any{"sub": "42", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	for _, look := range []struct {
		name  string
		dark  bool
		phone bool
	}{{"light", false, false}, {"dark", true, false}, {"phone", false, true}} {
		t.Run(look.name, func(t *testing.T) {
			// A stack each: the passkey added below makes the next login
			// of its user a two-step one.
			s := newStack(t, stackOptions{passkeys: true})
			s.addPosts(t, "eddie", "Post", 3)
			tb := newTab(t)
			scheme := "light"
			if look.dark {
				scheme = "dark"
			}
			ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if look.phone {
				tb.do(chromedp.EmulateViewport(375, 667, chromedp.EmulateScale(2)))
			}
			tb.do(chromedp.Navigate(s.URL + "/"))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
			tb.axe("the login page")
			tb.login("eddie", "wrong password")
			tb.waitJS(`document.getElementById('login-error').textContent !== ''`, 10*time.Second)
			tb.axe("the login page with an error")

			tb.loginAs(s, "eddie")
			tb.waitJS(`document.querySelectorAll('#post-list > li').length === 3`, 10*time.Second)
			tb.axe("the posts of an editor")

			tb.do(chromedp.Navigate(s.URL + "/security"))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#password-form")))
			tb.waitJS(`document.querySelectorAll('#session-list tr').length > 0`, 10*time.Second)
			tb.axe("the security page")
			tb.virtualAuthenticator()
			n := eval[int](tb, `document.querySelectorAll('#passkey-list tr').length`)
			setField(tb, "passkey-name", "Laptop "+look.name)
			tb.do(chromedp.Click(chromedp.CSS("#passkey-add")))
			tb.waitJS(`document.querySelectorAll('#passkey-list tr').length === `+strconv.Itoa(n+1), 10*time.Second)
			tb.axe("the security page with a passkey")

			tb.do(chromedp.Click(chromedp.CSS("#logout")))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
			tb.do(chromedp.Navigate(s.URL + "/admin"))
			tb.login("alice", pw("alice"))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#users-table")))
			tb.waitJS(`document.querySelectorAll('#users-body tr').length > 0`, 10*time.Second)
			tb.axe("the admin page")

			tb.do(chromedp.Navigate(s.URL + "/inspect"))
			tb.do(chromedp.WaitVisible(chromedp.CSS("#token")))
			tb.axe("the empty inspector")
			setField(tb, "token", tok)
			tb.waitJS(`document.getElementById('payload-json').textContent.includes('"sub"')`, 10*time.Second)
			tb.axe("the inspector with a token")
			setField(tb, "token", "not a token")
			tb.waitJS(`document.body.textContent.includes('not a JWT')`, 10*time.Second)
			tb.axe("the inspector with something that is not a token")
		})
	}
}
