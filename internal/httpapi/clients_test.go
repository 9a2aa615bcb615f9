package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

func TestClientsAdminAPI(t *testing.T) {
	o := newOIDCEnv(t)
	admin, editor := o.login("alice"), o.login("eddie")
	for _, q := range []req{
		{method: "GET", path: "/clients", token: editor},
		{method: "POST", path: "/clients", token: editor, ctype: "application/json", body: `{"name":"x","redirect_uris":["https://x.example/cb"]}`},
		{method: "DELETE", path: "/clients/" + o.app.ID, token: editor},
		{method: "POST", path: "/clients/" + o.app.ID + "/secret", token: editor},
	} {
		wantProblem(t, o.send(q), 403, codeForbidden)
	}
	wantProblem(t, o.get("/clients", ""), 401, codeTokenMissing)

	r := o.sendJSON("POST", "/clients", admin, `{"name":"Grafana","redirect_uris":["https://grafana.example/login/generic_oauth"],"post_logout_redirect_uris":["https://grafana.example/"]}`)
	wantStatus(t, r, 201)
	var c clientJSON
	decodeStrict(t, r.body, &c)
	if c.ID == "" || c.Secret == "" || c.Public || c.Name != "Grafana" || len(c.RedirectURIs) != 1 || r.Header.Get("Location") != "/clients/"+c.ID {
		t.Fatalf("created %s", r.body)
	}
	// The secret works at the token endpoint, and is never listed.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
	wantOAuthError(t, o.tokenReq(form, basic(c.ID, c.Secret)), 400, oauthInvalidGrant)
	r = o.get("/clients", admin)
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), c.Secret) || strings.Contains(string(r.body), "secret") || !strings.Contains(string(r.body), c.ID) {
		t.Fatalf("list %s", r.body)
	}

	r = o.send(req{method: "POST", path: "/clients/" + c.ID + "/secret", token: admin})
	wantStatus(t, r, 200)
	var rot struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	decodeStrict(t, r.body, &rot)
	if rot.ID != c.ID || rot.Secret == "" || rot.Secret == c.Secret {
		t.Fatalf("rotation %s", r.body)
	}
	wantOAuthError(t, o.tokenReq(form, basic(c.ID, c.Secret)), 401, oauthInvalidClient)
	wantOAuthError(t, o.tokenReq(form, basic(c.ID, rot.Secret)), 400, oauthInvalidGrant)

	r = o.sendJSON("POST", "/clients", admin, `{"name":"SPA","redirect_uris":["http://127.0.0.1:5173/cb"],"public":true}`)
	wantStatus(t, r, 201)
	if strings.Contains(string(r.body), "client_secret") {
		t.Errorf("a public client got a secret: %s", r.body)
	}
	for _, body := range []string{
		`{"name":"Bad","redirect_uris":["https://x.example/cb#frag"]}`,
		`{"name":"Bad","redirect_uris":["https://*.example/cb"]}`,
		`{"name":"Bad","redirect_uris":["http://x.example/cb"]}`,
		`{"name":"","redirect_uris":["https://x.example/cb"]}`,
		`{"name":"Bad","redirect_uris":[]}`,
	} {
		wantProblem(t, o.sendJSON("POST", "/clients", admin, body), 400, codeInvalidRequest)
	}
	wantProblem(t, o.sendJSON("POST", "/clients", admin, `{"name":"x","secret":"mine"}`), 400, codeUnknownField)

	wantStatus(t, o.send(req{method: "DELETE", path: "/clients/" + c.ID, token: admin}), 204)
	wantProblem(t, o.send(req{method: "DELETE", path: "/clients/" + c.ID, token: admin}), 404, codeNotFound)
	wantProblem(t, o.send(req{method: "POST", path: "/clients/" + c.ID + "/secret", token: admin}), 404, codeNotFound)
	wantOAuthError(t, o.tokenReq(form, basic(c.ID, rot.Secret)), 401, oauthInvalidClient)
}

// TestDeletedClientLosesItsTokens: deleting a client ends the sessions
// it started.
func TestDeletedClientLosesItsTokens(t *testing.T) {
	o := newOIDCEnv(t)
	verifier, challenge := newVerifier(t)
	code := o.code(o.app, challenge, o.browser("rita"))
	tr := o.tokens200(o.tokenReq(exchangeForm(o.app, code, verifier), basic(o.app.ID, o.appSecret)))
	wantStatus(t, o.send(req{method: "DELETE", path: "/clients/" + o.app.ID, token: o.login("alice")}), 204)
	if r := o.do(req{method: "GET", path: "/oauth2/userinfo", token: tr.AccessToken}); r.StatusCode != 401 {
		t.Errorf("userinfo after the client's deletion: %v", r)
	}
}
