package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// mfaEnv is an env whose server can encrypt TOTP secrets.
func mfaEnv(t *testing.T, require ...auth.Role) *env {
	t.Helper()
	e := newEnv(t, envOptions{})
	key, err := auth.NewMFAKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.MFAKey, e.svc.RequireMFA = key, require
	return e
}

// loginBody is a JSON login body for name, with extra members.
func loginBody(name, extra string) string {
	return `{"username":` + jsonQuote(name) + `,"password":` + jsonQuote(pw(name)) + extra + `}`
}

// enrolTOTP sets up TOTP for the holder of token through the API and
// returns the secret, read from the otpauth URI, and the recovery codes.
func (e *env) enrolTOTP(token string) ([]byte, []string) {
	e.t.Helper()
	r := e.sendJSON("POST", "/me/mfa/totp", token, "")
	wantStatus(e.t, r, 200)
	var en struct {
		URI    string `json:"otpauth_uri"`
		Secret string `json:"secret"`
	}
	decodeStrict(e.t, r.body, &en)
	u, err := url.Parse(en.URI)
	if err != nil {
		e.t.Fatal(err)
	}
	secret, err := auth.ParseTOTPSecret(u.Query().Get("secret"))
	if err != nil || auth.TOTPSecretText(secret) != en.Secret {
		e.t.Fatalf("enrolment %+v: URI and secret differ (%v)", en, err)
	}
	r = e.sendJSON("POST", "/me/mfa/totp/confirm", token, `{"code":"`+auth.TOTPCode(secret, e.clock.Now())+`"}`)
	wantStatus(e.t, r, 200)
	var rc struct {
		Codes []string `json:"recovery_codes"`
	}
	decodeStrict(e.t, r.body, &rc)
	e.clock.Advance(auth.TOTPPeriod)
	return secret, rc.Codes
}

type mfaRequired struct {
	problem
	MFAToken  string          `json:"mfa_token"`
	Factors   []string        `json:"factors"`
	ExpiresIn int64           `json:"expires_in"`
	WebAuthn  json.RawMessage `json:"webauthn"`
}

// currentPW is the body that proves name's password to the operations
// that weaken a second factor.
func currentPW(name string) string {
	return `{"current_password":` + jsonQuote(pw(name)) + `}`
}

// mfaToken logs name in and expects mfa_required.
func (e *env) mfaToken(name, extra string) mfaRequired {
	e.t.Helper()
	r := e.sendJSON("POST", "/login", "", loginBody(name, extra))
	if r.StatusCode != 401 || r.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Fatalf("login %s: %v, want 401 mfa_required", name, r)
	}
	var m mfaRequired
	decodeStrict(e.t, r.body, &m)
	if m.Code != codeMFARequired || m.Type != "urn:jwtgate:problem:"+codeMFARequired || m.Status != 401 || m.Title == "" {
		e.t.Fatalf("login %s: %s, want mfa_required", name, r.body)
	}
	return m
}

func TestLoginMFA(t *testing.T) {
	e := mfaEnv(t)
	secret, codes := e.enrolTOTP(e.login("eddie"))
	if len(codes) != auth.RecoveryCodes {
		t.Fatalf("%d recovery codes", len(codes))
	}
	m := e.mfaToken("eddie", "")
	if !slices.Equal(m.Factors, []string{"totp", "recovery"}) || m.ExpiresIn != 300 || len(m.WebAuthn) != 0 {
		t.Fatalf("mfa_required: %+v", m)
	}
	code := auth.TOTPCode(secret, e.clock.Now())
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"000000x"}`), 401, codeMFACodeInvalid)
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"totp":"`+code+`"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"`+code+`","extra":1}`), 400, codeUnknownField)
	r := e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"`+code+`"}`)
	wantStatus(t, r, 200)
	var g grantResponse
	decodeStrict(t, r.body, &g)
	p, err := e.tokens.Verify(g.AccessToken)
	if err != nil || !slices.Equal(p.Claims.AMR, []string{"pwd", "otp"}) || p.Claims.ACR != auth.ACRMFA {
		t.Fatalf("token after /login/mfa: %+v, %v", p, err)
	}
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"`+code+`"}`), 401, codeMFATokenInvalid)
	m2 := e.mfaToken("eddie", "")
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m2.MFAToken+`","totp":"`+code+`"}`), 401, codeMFACodeInvalid)
	// A recovery code, once; the first step's cookie wish is kept.
	m3 := e.mfaToken("eddie", `,"cookie":true`)
	r = e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m3.MFAToken+`","recovery_code":"`+codes[0]+`"}`)
	wantStatus(t, r, 200)
	var cg grantResponse
	decodeStrict(t, r.body, &cg)
	if cg.TokenType != "cookie" || cg.AccessToken != "" || cg.CSRFToken == "" {
		t.Fatalf("cookie login through /login/mfa: %s", r.body)
	}
	m4 := e.mfaToken("eddie", "")
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m4.MFAToken+`","recovery_code":"`+codes[0]+`"}`), 401, codeMFACodeInvalid)
}

// The mfa_token is bound to the client that logged in.
func TestLoginMFAOtherClient(t *testing.T) {
	e := newEnv(t, envOptions{trustProxy: true})
	key, _ := auth.NewMFAKey(bytes.Repeat([]byte{1}, 32))
	e.svc.MFAKey = key
	secret, _ := e.enrolTOTP(e.login("eddie"))
	m := e.mfaToken("eddie", "")
	code := auth.TOTPCode(secret, e.clock.Now())
	other := e.send(req{method: "POST", path: "/login/mfa", ctype: "application/json",
		body: `{"mfa_token":"` + m.MFAToken + `","totp":"` + code + `"}`, header: http.Header{"X-Forwarded-For": {"198.51.100.9"}}})
	wantProblem(t, other, 401, codeMFATokenInvalid)
	wantStatus(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"`+code+`"}`), 200)
}

func TestMFAManagementAPI(t *testing.T) {
	e := mfaEnv(t, auth.RoleAdmin)
	// No token: no enrolment.
	for _, path := range []string{"/me/mfa/totp", "/me/mfa/totp/confirm", "/me/mfa/recovery"} {
		wantProblem(t, e.sendJSON("POST", path, "", `{"code":"123456"}`), 401, codeTokenMissing)
	}
	wantProblem(t, e.get("/me/mfa", ""), 401, codeTokenMissing)

	// An admin without a factor: enrolment only.
	admin := e.login("alice")
	for _, r := range []resp{e.get("/users", admin), e.get("/posts", admin), e.get("/auth/verify", admin)} {
		wantProblem(t, r, 403, codeMFAEnrollRequired)
	}
	wantStatus(t, e.get("/me", admin), 200)
	r := e.get("/me/mfa", admin)
	wantStatus(t, r, 200)
	var st mfaStatusJSON
	decodeStrict(t, r.body, &st)
	if !st.RequiredByRole || st.TOTP || len(st.Factors) != 0 || !slices.Equal(st.AMR, []string{"pwd"}) {
		t.Fatalf("status before enrolling: %+v", st)
	}
	wantProblem(t, e.sendJSON("POST", "/me/mfa/recovery", admin, currentPW("alice")), 409, codeConflict)
	wantProblem(t, e.sendJSON("POST", "/me/mfa/totp/confirm", admin, `{"code":"123456"}`), 409, codeConflict)

	secret, _ := e.enrolTOTP(admin)
	wantProblem(t, e.sendJSON("POST", "/me/mfa/totp", admin, ""), 409, codeConflict)
	// The enrolment-only token stays so; a new login with the code is full.
	wantProblem(t, e.get("/users", admin), 403, codeMFAEnrollRequired)
	m := e.mfaToken("alice", "")
	r = e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"`+auth.TOTPCode(secret, e.clock.Now())+`"}`)
	wantStatus(t, r, 200)
	var g grantResponse
	decodeStrict(t, r.body, &g)
	admin = g.AccessToken
	wantStatus(t, e.get("/users", admin), 200)
	wantProblem(t, e.sendJSON("DELETE", "/me/mfa/totp", admin, currentPW("alice")), 409, codeMFARequiredByRole)
	r = e.sendJSON("POST", "/me/mfa/recovery", admin, currentPW("alice"))
	wantStatus(t, r, 200)

	// A reader removes theirs; an admin resets another user's.
	reader := e.login("rita")
	e.enrolTOTP(reader)
	wantStatus(t, e.sendJSON("DELETE", "/me/mfa/totp", reader, currentPW("rita")), 204)
	wantProblem(t, e.sendJSON("DELETE", "/me/mfa/totp", reader, currentPW("rita")), 404, codeNotFound)

	editor := e.login("eddie")
	e.enrolTOTP(editor)
	wantProblem(t, e.sendJSON("POST", "/users/eddie/mfa-reset", reader, ""), 403, codeForbidden)
	wantStatus(t, e.sendJSON("POST", "/users/eddie/mfa-reset", admin, ""), 204)
	wantProblem(t, e.get("/me", editor), 401, codeTokenRevoked)
	wantStatus(t, e.sendJSON("POST", "/login", "", loginBody("eddie", "")), 200)
	wantProblem(t, e.sendJSON("POST", "/users/nobody/mfa-reset", admin, ""), 404, codeNotFound)
}

func TestMFAWithoutKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	wantProblem(t, e.sendJSON("POST", "/me/mfa/totp", e.login("rita"), ""), 503, codeMFAUnavailable)
}

// The OpenID sign-in of a user with a second factor: the browser's
// second step makes the session, whose amr and acr reach the ID token,
// the client's access token and their refreshes. A browser that may only
// enrol a factor gets no code.
func TestCodeFlowWithSecondFactor(t *testing.T) {
	o := newOIDCEnv(t)
	key, _ := auth.NewMFAKey(bytes.Repeat([]byte{1}, 32))
	o.svc.MFAKey = key
	secret, _ := o.enrolTOTP(o.login("rita"))
	m := o.mfaToken("rita", `,"cookie":true`)
	lr := o.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","totp":"`+auth.TOTPCode(secret, o.clock.Now())+`"}`)
	wantStatus(t, lr, 200)
	browser := cookieReq("GET", "", cookies(lr), "").header
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, browser)
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	id := o.idClaims(tr.IDToken, o.app.ID)
	if !slices.Equal(id.AMR, []string{"pwd", "otp"}) || id.ACR != auth.ACRMFA {
		t.Fatalf("ID token amr %q acr %q", id.AMR, id.ACR)
	}
	p, err := o.tokens.VerifyClient(tr.AccessToken)
	if err != nil || !slices.Equal(p.Claims.AMR, []string{"pwd", "otp"}) {
		t.Fatalf("client access token: %+v, %v", p, err)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	tr2 := o.tokens200(o.tokenReq(rf, basic(o.app.ID, o.appSecret)))
	if id2 := o.idClaims(tr2.IDToken, o.app.ID); !slices.Equal(id2.AMR, []string{"pwd", "otp"}) || id2.ACR != auth.ACRMFA {
		t.Fatalf("refreshed ID token amr %q acr %q", id2.AMR, id2.ACR)
	}

	// A password-only login says so.
	_, plain := o.loginGrant("eddie", `,"cookie":true`)
	code = o.code(o.app, challenge, cookieReq("GET", "", cookies(plain), "").header)
	tr = o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	if id := o.idClaims(tr.IDToken, o.app.ID); !slices.Equal(id.AMR, []string{"pwd"}) || id.ACR != "" {
		t.Fatalf("password-only ID token amr %q acr %q", id.AMR, id.ACR)
	}

	// An admin whose role requires a factor they lack gets no code.
	o.svc.RequireMFA = []auth.Role{auth.RoleAdmin}
	_, enrol := o.loginGrant("alice", `,"cookie":true`)
	r := o.authorize(authorizeQuery(o.app, challenge), cookieReq("GET", "", cookies(enrol), "").header)
	if r.StatusCode != http.StatusForbidden || r.Header.Get("Location") != "" || !bytes.Contains(r.body, []byte("second factor")) {
		t.Fatalf("authorize with an enrolment-only session: %v", r)
	}
}

// mfaState is GET /me/mfa of the holder of token.
func (e *env) mfaState(token string) mfaStatusJSON {
	e.t.Helper()
	r := e.get("/me/mfa", token)
	wantStatus(e.t, r, 200)
	var st mfaStatusJSON
	decodeStrict(e.t, r.body, &st)
	return st
}

// DELETE /me/mfa/totp and POST /me/mfa/recovery need the current
// password, as POST /me/password does: without it, or with a wrong one,
// they change nothing, and a wrong one is audited as a failed login.
func TestMFAChangesNeedThePassword(t *testing.T) {
	e := auditEnv(t)
	e.svc.MFAKey, _ = auth.NewMFAKey(bytes.Repeat([]byte{1}, 32))
	admin := e.login("alice")
	tok := e.login("rita")
	_, codes := e.enrolTOTP(tok)
	unchanged := func(when string) {
		t.Helper()
		if st := e.mfaState(tok); !st.TOTP || st.RecoveryLeft != auth.RecoveryCodes {
			t.Fatalf("%s: %+v, want TOTP and %d recovery codes", when, st, auth.RecoveryCodes)
		}
	}
	wrong := `{"current_password":"not-ritas-password"}`
	for _, path := range []struct{ method, path string }{{"DELETE", "/me/mfa/totp"}, {"POST", "/me/mfa/recovery"}} {
		wantProblem(t, e.send(req{method: path.method, path: path.path, token: tok}), 415, codeUnsupportedMediaType)
		wantProblem(t, e.sendJSON(path.method, path.path, tok, ""), 400, codeInvalidJSON)
		p := wantProblem(t, e.sendJSON(path.method, path.path, tok, `{}`), 403, codeForbidden)
		if !strings.Contains(p.Detail, "current_password") {
			t.Errorf("%s %s without a password: detail %q does not name current_password", path.method, path.path, p.Detail)
		}
		wantProblem(t, e.sendJSON(path.method, path.path, tok, `{"current_password":""}`), 403, codeForbidden)
		p = wantProblem(t, e.sendJSON(path.method, path.path, tok, wrong), 403, codeForbidden)
		if p.Detail != "the current password is wrong" {
			t.Errorf("%s %s with a wrong password: detail %q", path.method, path.path, p.Detail)
		}
		wantProblem(t, e.sendJSON(path.method, path.path, tok, `{"current_password":"x","code":"1"}`), 400, codeUnknownField)
		unchanged(path.method + " " + path.path + " refused")
	}
	// Both wrong passwords are failed logins of rita; nothing was removed,
	// and the codes were renewed only by the enrolment.
	count := map[string]int{}
	for _, ev := range getAudit(t, e, admin, "?user=rita").Events {
		count[ev.Event]++
		if ev.Event == string(auth.AuditLoginFailure) && (ev.Reason != auth.AuditBadPassword || ev.ClientIP != "127.0.0.1") {
			t.Errorf("failure %+v, want reason %s from 127.0.0.1", ev, auth.AuditBadPassword)
		}
	}
	if count[string(auth.AuditLoginFailure)] != 2 || count[string(auth.AuditMFATOTPRemove)] != 0 || count[string(auth.AuditMFARecoveryNew)] != 1 {
		t.Errorf("audit events by kind %v: want 2 login.failure, no mfa.totp_remove, 1 mfa.recovery_renew", count)
	}
	// The old recovery codes still sign in.
	m := e.mfaToken("rita", "")
	wantStatus(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","recovery_code":"`+codes[0]+`"}`), 200)

	// With the password: new codes, the old ones gone.
	r := e.sendJSON("POST", "/me/mfa/recovery", tok, currentPW("rita"))
	wantStatus(t, r, 200)
	var rc struct {
		Codes []string `json:"recovery_codes"`
	}
	decodeStrict(t, r.body, &rc)
	if len(rc.Codes) != auth.RecoveryCodes || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("regenerated: %s (Cache-Control %q)", r.body, r.Header.Get("Cache-Control"))
	}
	m = e.mfaToken("rita", "")
	wantProblem(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","recovery_code":"`+codes[1]+`"}`), 401, codeMFACodeInvalid)
	wantStatus(t, e.sendJSON("POST", "/login/mfa", "", `{"mfa_token":"`+m.MFAToken+`","recovery_code":"`+rc.Codes[0]+`"}`), 200)

	// With the password: TOTP removed, and the password alone logs in.
	wantStatus(t, e.sendJSON("DELETE", "/me/mfa/totp", tok, currentPW("rita")), 204)
	if st := e.mfaState(tok); st.TOTP || len(st.Factors) != 0 {
		t.Fatalf("after removing TOTP: %+v", st)
	}
	wantStatus(t, e.sendJSON("POST", "/login", "", loginBody("rita", "")), 200)
}
