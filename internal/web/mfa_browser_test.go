package web_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// mfaLogin logs out if needed, enters the password on / and waits for
// the second step's form.
func (tb *tab) mfaLogin(s *stack, user string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.login(user, pw(user))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#mfa-form")))
}

// submitMFA types a code (a recovery code after switching to it) into the
// second step and submits it.
func (tb *tab) submitMFA(code string, recovery bool) {
	tb.t.Helper()
	if recovery && !strings.Contains(tb.text("mfa-code-label"), "Recovery") {
		tb.do(chromedp.Click(chromedp.CSS("#mfa-switch")))
	}
	setField(tb, "mfa-code", code)
	tb.do(chromedp.Click(chromedp.CSS("#mfa-submit")))
}

func (tb *tab) logout() {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
}

// TestBrowserTOTP: a user sets up an authenticator app on the Security
// page (the test plays the app, computing codes from the shown URI), then
// logs in with a code; the same code is refused the second time, and a
// recovery code works once.
func TestBrowserTOTP(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	key, err := auth.NewMFAKey(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s.svc.MFAKey = key
	tb := newTab(t)
	tb.loginAs(s, "eddie")
	tb.do(chromedp.Navigate(s.URL+"/security"), chromedp.WaitVisible(chromedp.CSS("#totp-begin")))
	tb.waitJS(`document.getElementById('totp-state').textContent.includes('No authenticator app')`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS("#totp-begin")), chromedp.WaitVisible(chromedp.CSS("#totp-enrol")))
	tb.waitJS(`(() => { const i = document.querySelector('#totp-qr img'); return !!i && i.complete && i.naturalWidth > 100; })()`, 10*time.Second)
	uri := eval[string](tb, `document.getElementById('totp-uri').getAttribute('href')`)
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" {
		t.Fatalf("the setup link %q is no otpauth URI (%v)", uri, err)
	}
	secret, err := auth.ParseTOTPSecret(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if shown, err := auth.ParseTOTPSecret(tb.text("totp-secret")); err != nil || !bytes.Equal(shown, secret) {
		t.Fatalf("the key shown for typing %q is not the link's (%v)", tb.text("totp-secret"), err)
	}
	tb.shot("totp_enrol")
	tb.axe("totp enrolment")

	setField(tb, "totp-code", auth.TOTPCode(secret, time.Now()))
	tb.do(chromedp.Click(chromedp.CSS("#totp-confirm")))
	tb.waitJS(`document.querySelectorAll('#recovery-list li').length === 10`, 10*time.Second)
	tb.waitJS(`document.getElementById('totp-state').textContent.includes('is set up')`, 10*time.Second)
	codes := strings.Fields(eval[string](tb, `[...document.querySelectorAll('#recovery-list li')].map((li) => li.textContent).join(' ')`))
	tb.shot("totp_recovery_codes")

	// A login asks for the code. The confirming code's step is used up:
	// an app shows the next one within 30 seconds, which the server takes
	// as within its window.
	tb.logout()
	tb.mfaLogin(s, "eddie")
	tb.shot("mfa_step")
	tb.axe("mfa step")
	code := auth.TOTPCode(secret, time.Now().Add(auth.TOTPPeriod))
	tb.submitMFA(code, false)
	tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
	tb.waitJS(`document.getElementById('session-name').textContent === 'eddie'`, 10*time.Second)

	// The same code again: refused, and the form stays for another try.
	tb.logout()
	tb.mfaLogin(s, "eddie")
	tb.submitMFA(code, false)
	tb.waitJS(`document.getElementById('mfa-error').textContent.includes('already used')`, 10*time.Second)
	tb.shot("mfa_replay_refused")

	// A recovery code works, once.
	tb.submitMFA(codes[0], true)
	tb.waitJS(`document.getElementById('session-name').textContent === 'eddie'`, 10*time.Second)
	tb.logout()
	tb.mfaLogin(s, "eddie")
	tb.submitMFA(codes[0], true)
	tb.waitJS(`document.getElementById('mfa-error').textContent.includes('already used')`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS("#mfa-cancel")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
}
