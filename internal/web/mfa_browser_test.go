package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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

	// New recovery codes and removing the app need the password, asked
	// in a dialog.
	tb.mfaLogin(s, "eddie")
	tb.submitMFA(codes[1], true)
	tb.waitJS(`document.getElementById('session-name').textContent === 'eddie'`, 10*time.Second)
	tb.do(chromedp.Navigate(s.URL+"/security"), chromedp.WaitVisible(chromedp.CSS("#recovery-renew")))
	tb.waitJS(`document.getElementById('recovery-state').textContent.startsWith('8 unused')`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS("#recovery-renew")))
	tb.confirmPassword(pw("eddie"))
	tb.waitJS(`document.getElementById('recovery-state').textContent.startsWith('10 unused')`, 10*time.Second)
	fresh := strings.Fields(eval[string](tb, `[...document.querySelectorAll('#recovery-list li')].map((li) => li.textContent).join(' ')`))
	if len(fresh) != 10 || slices.Contains(fresh, codes[2]) {
		t.Fatalf("new recovery codes %q", fresh)
	}
	if tb.visible("#password-dialog") {
		t.Error("the password dialog stays open after the codes are made")
	}

	// A wrong password: the server's message in the dialog, and the app
	// stays, also for the server.
	tb.do(chromedp.Click(chromedp.CSS("#totp-remove")))
	tb.confirmPassword("not-" + pw("eddie"))
	tb.waitJS(`document.getElementById('password-dialog-error').textContent.includes('current password is wrong')`, 10*time.Second)
	if !tb.visible("#password-dialog") || !eval[bool](tb, `document.activeElement?.id === 'password-dialog-input'`) {
		t.Error("after a wrong password the dialog is closed or its field has no focus")
	}
	tb.shot("totp_remove_wrong_password")
	tb.axe("password dialog")
	tb.do(chromedp.Click(chromedp.CSS("#password-dialog-cancel")))
	tb.waitJS(`!document.getElementById('password-dialog').open && document.activeElement?.id === 'totp-remove'`, 10*time.Second)
	tb.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#totp-remove")))
	tb.waitJS(`document.getElementById('totp-state').textContent.includes('is set up')`, 10*time.Second)

	tb.do(chromedp.Click(chromedp.CSS("#totp-remove")))
	tb.confirmPassword(pw("eddie"))
	tb.waitJS(`document.getElementById('totp-state').textContent.includes('No authenticator app')`, 10*time.Second)
	if got := tb.text("totp-status"); got != "The authenticator app is removed." {
		t.Errorf("status after removing: %q", got)
	}
	tb.logout()
	tb.login("eddie", pw("eddie"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
}

// confirmPassword types password in the Security page's password dialog
// and submits it.
func (tb *tab) confirmPassword(password string) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS("#password-dialog-input")))
	setField(tb, "password-dialog-input", password)
	tb.do(chromedp.Click(chromedp.CSS("#password-dialog-submit")))
}

// TestBrowserSignInWithSecondFactor: an application's sign-in asks a
// user with an authenticator app for its code after the password, and
// the ID token says so.
func TestBrowserSignInWithSecondFactor(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{oidc: true})
	key, _ := auth.NewMFAKey(bytes.Repeat([]byte{6}, 32))
	s.svc.MFAKey = key
	ctx := context.Background()
	// Enrol rita as the API would.
	u, err := s.svc.Login(ctx, "127.0.0.1", "rita", pw("rita"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.svc.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.svc.Tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	en, err := s.svc.BeginTOTP(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := auth.ParseTOTPSecret(en.Secret)
	if _, err := s.svc.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, time.Now())); err != nil {
		t.Fatal(err)
	}

	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>wiki</title><p id="wiki">back at the wiki</p>`))
	}))
	t.Cleanup(rp.Close)
	c, clientSecret, err := s.svc.RegisterClient(ctx, auth.ClientSpec{Name: "Team Wiki", RedirectURIs: []string{rp.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("v", 43)
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {rp.URL + "/cb"}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"st-7"}, "nonce": {"n-7"}, "code_challenge": {auth.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"}}
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/oauth2/authorize?" + q.Encode()))
	tb.waitJS(`document.getElementById('login-client').textContent === 'Team Wiki asks you to sign in.'`, 10*time.Second)
	tb.login("rita", pw("rita"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#mfa-form")))
	tb.submitMFA(auth.TOTPCode(secret, time.Now().Add(auth.TOTPPeriod)), false)
	back, err := url.Parse(waitURL(tb, rp.URL+"/cb?"))
	if err != nil || back.Query().Get("code") == "" || back.Query().Get("state") != "st-7" {
		t.Fatalf("back at %v (%v)", back, err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {rp.URL + "/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest("POST", s.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(clientSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tr); err != nil || res.StatusCode != 200 {
		t.Fatalf("token exchange: %s %v", res.Status, err)
	}
	id, err := s.svc.Tokens.VerifyIDTokenHint(tr.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(id.AMR, []string{"pwd", "otp"}) || id.ACR != auth.ACRMFA {
		t.Fatalf("ID token amr %q acr %q", id.AMR, id.ACR)
	}
}

// TestBrowserAdminResetsSecondFactors: an admin removes a user's
// authenticator app from the admin page (two clicks), which ends the
// user's sessions; the user then logs in with the password alone.
func TestBrowserAdminResetsSecondFactors(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	key, _ := auth.NewMFAKey(bytes.Repeat([]byte{7}, 32))
	s.svc.MFAKey = key
	ctx := context.Background()
	u, err := s.svc.Login(ctx, "127.0.0.1", "eddie", pw("eddie"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.svc.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.svc.Tokens.Verify(g.AccessToken)
	en, err := s.svc.BeginTOTP(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := auth.ParseTOTPSecret(en.Secret)
	if _, err := s.svc.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, time.Now())); err != nil {
		t.Fatal(err)
	}

	tb := newTab(t)
	tb.loginAs(s, "alice")
	tb.do(chromedp.Navigate(s.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="eddie"] .user-mfa-reset`)))
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="eddie"] .user-mfa-reset`)))
	tb.waitJS(`document.querySelector('tr[data-name="eddie"] .user-mfa-reset').textContent.startsWith('Really')`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(`tr[data-name="eddie"] .user-mfa-reset`)))
	tb.waitJS(`document.getElementById('users-status').textContent.includes('second factors of eddie are removed')`, 10*time.Second)
	if _, err := s.svc.Tokens.Verify(g.AccessToken); err == nil {
		t.Error("eddie's token still valid after the reset")
	}
	st, err := s.svc.MFAStatus(ctx, u)
	if err != nil || st.HasFactor() {
		t.Fatalf("eddie's factors after the reset: %+v, %v", st, err)
	}
}
