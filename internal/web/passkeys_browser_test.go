package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// virtualAuthenticator gives the tab a platform authenticator that holds
// discoverable credentials and verifies its user at once, as a laptop's
// fingerprint reader would; it returns the authenticator's id.
func (tb *tab) virtualAuthenticator() webauthn.AuthenticatorID {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		tb.t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		tb.t.Fatal(err)
	}
	return res.AuthenticatorID
}

// credentials returns how many credentials the virtual authenticator holds.
func (tb *tab) credentials(id webauthn.AuthenticatorID) int {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		tb.t.Fatal(err)
	}
	return len(res.Credentials)
}

// accessAMR returns the amr claim of an access token.
func accessAMR(t *testing.T, token string) []string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("access token cookie %q is no JWT", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.AMR
}

// TestBrowserPasskeys: a passkey added on the Security page signs the
// user in without a password after logging out, can be renamed, and once
// removed no longer signs anyone in.
func TestBrowserPasskeys(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{passkeys: true})
	tb := newTab(t)
	auth := tb.virtualAuthenticator()
	tb.loginAs(s, "eddie")
	tb.do(chromedp.Navigate(s.URL + "/security"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#passkeys")))
	if !tb.visible("#passkeys-empty") {
		t.Error("no passkeys, but the section does not say so")
	}

	setField(tb, "passkey-name", "Test laptop")
	tb.do(chromedp.Click(chromedp.CSS("#passkey-add")))
	tb.waitJS(`document.querySelectorAll('#passkey-list tr').length === 1`, 10*time.Second)
	if got := tb.text("passkeys-status"); got != "The passkey Test laptop is added: use it to sign in." {
		t.Errorf("status after adding: %q", got)
	}
	if got := eval[string](tb, `document.querySelector('#passkey-list .passkey-name').textContent`); got != "Test laptop" {
		t.Errorf("listed name %q", got)
	}
	if n := tb.credentials(auth); n != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", n)
	}
	tb.shot("passkey_added")

	// Rename it in place.
	tb.do(chromedp.Click(chromedp.CSS("#passkey-list .rename-passkey")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#passkey-list .passkey-rename input")))
	tb.do(
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#passkey-list .passkey-rename input').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#passkey-list .passkey-rename input"), "Work laptop"),
		chromedp.Click(chromedp.CSS(`#passkey-list .passkey-rename button[type="submit"]`)),
	)
	tb.waitJS(`document.querySelector('#passkey-list .passkey-name')?.textContent === 'Work laptop'`, 10*time.Second)

	// Log out, then in with the passkey alone.
	tb.do(chromedp.Click(chromedp.CSS("#logout")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-passkey")))
	tb.shot("login_with_passkey")
	tb.do(chromedp.Click(chromedp.CSS("#login-passkey")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
	tb.waitJS(`document.getElementById('session-name').textContent === 'eddie'`, 10*time.Second)
	if amr := accessAMR(t, tb.cookie(s, "access_token")); len(amr) != 1 || (amr[0] != "hwk" && amr[0] != "swk") {
		t.Errorf("amr of the passwordless session: %q, want [hwk] or [swk]", amr)
	}
	tb.waitJS(`document.querySelector('#passkey-list tr td[data-label="Last used"]')?.textContent !== 'never'`, 10*time.Second)

	// After the password the passkey is the second step: amr pwd and the key's.
	tb.do(chromedp.Click(chromedp.CSS("#logout")))
	tb.login("eddie", pw("eddie"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#mfa-passkey")))
	if tb.visible("#login-passkey") {
		t.Error("the second step still offers a passwordless sign-in beside it")
	}
	tb.do(chromedp.Click(chromedp.CSS("#mfa-passkey")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
	if amr := accessAMR(t, tb.cookie(s, "access_token")); len(amr) != 2 || amr[0] != "pwd" || (amr[1] != "hwk" && amr[1] != "swk") {
		t.Errorf("amr after password and passkey: %q, want [pwd hwk] or [pwd swk]", amr)
	}
	tb.waitJS(`document.querySelectorAll('#passkey-list tr').length === 1`, 10*time.Second)

	// Removing it needs the password: a wrong one keeps it.
	tb.do(chromedp.Click(chromedp.CSS("#passkey-list .remove-passkey")))
	tb.confirmPassword("not-" + pw("eddie"))
	tb.waitJS(`document.getElementById('password-dialog-error').textContent.includes('current password is wrong')`, 10*time.Second)
	tb.do(chromedp.Click(chromedp.CSS("#password-dialog-cancel")))
	tb.do(chromedp.Reload())
	tb.waitJS(`document.querySelectorAll('#passkey-list tr').length === 1`, 10*time.Second)

	// Remove it: the authenticator still holds the credential, but the
	// server refuses it.
	tb.do(chromedp.Click(chromedp.CSS("#passkey-list .remove-passkey")))
	tb.confirmPassword(pw("eddie"))
	tb.waitJS(`document.querySelectorAll('#passkey-list tr').length === 0`, 10*time.Second)
	if !tb.visible("#passkeys-empty") {
		t.Error("the last passkey is removed, but the section does not say there are none")
	}
	tb.do(chromedp.Click(chromedp.CSS("#logout")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-passkey")))
	tb.do(chromedp.Click(chromedp.CSS("#login-passkey")))
	tb.waitJS(`document.getElementById('login-error').textContent.includes('not accepted')`, 10*time.Second)
	if tb.visible("#session-panel") {
		t.Error("a removed passkey signed the user in")
	}
}

// TestBrowserNoPasskeys: without a public URL the login page offers no
// passkey and the Security page has no Passkeys section.
func TestBrowserNoPasskeys(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#login-form")))
	tb.waitJS(`performance.getEntriesByType('resource').some((e) => e.name.endsWith('/login/passkey'))`, 10*time.Second)
	if tb.visible("#login-passkey") {
		t.Error("a server without passkeys offers passkey sign-in")
	}
	tb.login("eddie", pw("eddie"))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#session-panel")))
	tb.do(chromedp.Navigate(s.URL + "/security"))
	tb.waitJS(`performance.getEntriesByType('resource').some((e) => e.name.endsWith('/me/passkeys'))`, 10*time.Second)
	tb.waitJS(`document.querySelectorAll('#session-list tr').length > 0`, 10*time.Second)
	if tb.visible("#passkeys") {
		t.Error("a server without passkeys shows the Passkeys section")
	}
}
