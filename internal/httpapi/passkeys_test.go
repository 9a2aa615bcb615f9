package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/passkey/passkeytest"
)

// The faultStore keeps passkeys in its SQLite store.
func (f *faultStore) WebAuthnHandle(ctx context.Context, userID int64, fresh []byte) ([]byte, error) {
	return call(f, func() ([]byte, error) { return f.s.WebAuthnHandle(ctx, userID, fresh) })
}
func (f *faultStore) UserByWebAuthnHandle(ctx context.Context, h []byte) (*auth.User, error) {
	return call(f, func() (*auth.User, error) { return f.s.UserByWebAuthnHandle(ctx, h) })
}
func (f *faultStore) AddPasskey(ctx context.Context, p *auth.Passkey) error {
	return f.do(func() error { return f.s.AddPasskey(ctx, p) })
}
func (f *faultStore) Passkeys(ctx context.Context, userID int64, rpID string) ([]auth.Passkey, error) {
	return call(f, func() ([]auth.Passkey, error) { return f.s.Passkeys(ctx, userID, rpID) })
}
func (f *faultStore) UsePasskey(ctx context.Context, userID int64, id []byte, n uint32, flags byte, at time.Time) error {
	return f.do(func() error { return f.s.UsePasskey(ctx, userID, id, n, flags, at) })
}
func (f *faultStore) RenamePasskey(ctx context.Context, userID int64, id []byte, name string) error {
	return f.do(func() error { return f.s.RenamePasskey(ctx, userID, id, name) })
}
func (f *faultStore) DeletePasskey(ctx context.Context, userID int64, id []byte) error {
	return f.do(func() error { return f.s.DeletePasskey(ctx, userID, id) })
}
func (f *faultStore) SaveCeremony(ctx context.Context, c *auth.Ceremony) error {
	return f.do(func() error { return f.s.SaveCeremony(ctx, c) })
}
func (f *faultStore) TakeCeremony(ctx context.Context, key []byte, kind string, now time.Time) (*auth.Ceremony, error) {
	return call(f, func() (*auth.Ceremony, error) { return f.s.TakeCeremony(ctx, key, kind, now) })
}

func passkeyEnv(t *testing.T) (*env, *passkeytest.Authenticator) {
	t.Helper()
	e := newEnv(t, envOptions{publicURL: "https://auth.example"})
	rp, err := passkey.New(e.svc, "https://auth.example", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.h.passkeys = rp
	return e, passkeytest.New("auth.example", "https://auth.example")
}

func TestPasskeyAPI(t *testing.T) {
	e, a := passkeyEnv(t)
	tok := e.login("rita")
	if r := e.get("/login/passkey", ""); r.StatusCode != 200 || strings.TrimSpace(string(r.body)) != `{"enabled":true}` {
		t.Fatalf("GET /login/passkey: %v", r)
	}

	// Registration needs a session.
	if r := e.sendJSON("POST", "/me/passkeys/register/begin", "", `{}`); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("begin without a token: %v", r)
	}
	r := e.sendJSON("POST", "/me/passkeys/register/begin", tok, `{}`)
	if r.StatusCode != 200 {
		t.Fatalf("begin: %v", r)
	}
	cred, key, err := a.Create(r.body)
	if err != nil {
		t.Fatal(err)
	}
	r = e.sendJSON("POST", "/me/passkeys/register/finish", tok, `{"name":"Laptop","credential":`+string(cred)+`}`)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("finish: %v", r)
	}
	var pk passkeyJSON
	if err := json.Unmarshal(r.body, &pk); err != nil || pk.Name != "Laptop" || pk.AMR != "hwk" {
		t.Fatalf("registered %s", r.body)
	}

	// Passwordless sign-in, with cookies as /login gives them.
	r = e.sendJSON("POST", "/login/passkey/begin", "", `{}`)
	if r.StatusCode != 200 {
		t.Fatalf("login begin: %v", r)
	}
	assertion, _ := a.Get(r.body, key)
	r = e.sendJSON("POST", "/login/passkey/finish", "", `{"credential":`+string(assertion)+`}`)
	if r.StatusCode != 200 {
		t.Fatalf("login finish: %v", r)
	}
	var g grantResponse
	decodeStrict(t, r.body, &g)
	p, err := e.tokens.Verify(g.AccessToken)
	if err != nil || p.Name != "rita" || strings.Join(p.Claims.AMR, ",") != "hwk" || p.Claims.ACR != auth.ACRMFA {
		t.Fatalf("passwordless token: %+v, %v", p, err)
	}
	// Replayed: refused.
	if r := e.sendJSON("POST", "/login/passkey/finish", "", `{"credential":`+string(assertion)+`}`); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed assertion: %v", r)
	}

	r = e.get("/me/passkeys", tok)
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `"name":"Laptop"`) || strings.Contains(string(r.body), "public") {
		t.Fatalf("list: %v", r)
	}
	if r := e.sendJSON("PATCH", "/me/passkeys/"+pk.ID, tok, `{"name":"Work"}`); r.StatusCode != http.StatusNoContent {
		t.Fatalf("rename: %v", r)
	}
	// Another user cannot see, rename or delete it.
	other := e.login("eddie")
	if r := e.sendJSON("PATCH", "/me/passkeys/"+pk.ID, other, `{"name":"Mine"}`); r.StatusCode != http.StatusNotFound {
		t.Fatalf("rename by another user: %v", r)
	}
	if r := e.sendJSON("DELETE", "/me/passkeys/"+pk.ID, other, currentPW("eddie")); r.StatusCode != http.StatusNotFound {
		t.Fatalf("delete by another user: %v", r)
	}
	if r := e.sendJSON("DELETE", "/me/passkeys/"+pk.ID, tok, currentPW("rita")); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v", r)
	}
	if r := e.get("/me/passkeys", tok); !strings.Contains(string(r.body), `"passkeys":[]`) {
		t.Fatalf("list after delete: %v", r)
	}
	// A deleted passkey signs nobody in.
	r = e.sendJSON("POST", "/login/passkey/begin", "", `{}`)
	assertion, _ = a.Get(r.body, key)
	if r := e.sendJSON("POST", "/login/passkey/finish", "", `{"credential":`+string(assertion)+`}`); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("deleted passkey: %v", r)
	}
}

func TestPasskeysDisabled(t *testing.T) {
	e := newEnv(t, envOptions{})
	if r := e.get("/login/passkey", ""); r.StatusCode != 200 || strings.TrimSpace(string(r.body)) != `{"enabled":false}` {
		t.Fatalf("GET /login/passkey without passkeys: %v", r)
	}
	if r := e.sendJSON("POST", "/login/passkey/begin", "", `{}`); r.StatusCode != http.StatusNotFound || !strings.Contains(string(r.body), codePasskeysDisabled) {
		t.Fatalf("begin without passkeys: %v", r)
	}
}

// DELETE /me/passkeys/{id} needs the current password, as POST
// /me/password does: without it, or with a wrong one, the passkey stays.
func TestPasskeyDeleteNeedsThePassword(t *testing.T) {
	e, a := passkeyEnv(t)
	tok := e.login("rita")
	r := e.sendJSON("POST", "/me/passkeys/register/begin", tok, `{}`)
	wantStatus(t, r, 200)
	cred, _, err := a.Create(r.body)
	if err != nil {
		t.Fatal(err)
	}
	r = e.sendJSON("POST", "/me/passkeys/register/finish", tok, `{"name":"Laptop","credential":`+string(cred)+`}`)
	wantStatus(t, r, http.StatusCreated)
	var pk passkeyJSON
	if err := json.Unmarshal(r.body, &pk); err != nil {
		t.Fatal(err)
	}
	path := "/me/passkeys/" + pk.ID
	listed := func() bool {
		t.Helper()
		r := e.get("/me/passkeys", tok)
		wantStatus(t, r, 200)
		return strings.Contains(string(r.body), `"id":"`+pk.ID+`"`)
	}
	wantProblem(t, e.send(req{method: "DELETE", path: path, token: tok}), 415, codeUnsupportedMediaType)
	wantProblem(t, e.sendJSON("DELETE", path, tok, ""), 400, codeInvalidJSON)
	wantProblem(t, e.sendJSON("DELETE", path, tok, `{}`), 403, codeForbidden)
	p := wantProblem(t, e.sendJSON("DELETE", path, tok, `{"current_password":"not-ritas-password"}`), 403, codeForbidden)
	if p.Detail != "the current password is wrong" {
		t.Errorf("wrong password: detail %q", p.Detail)
	}
	if !listed() {
		t.Fatal("a refused delete removed the passkey")
	}
	wantStatus(t, e.sendJSON("DELETE", path, tok, currentPW("rita")), http.StatusNoContent)
	if listed() {
		t.Fatal("the passkey is still listed after its delete")
	}
	wantProblem(t, e.sendJSON("DELETE", path, tok, currentPW("rita")), 404, codeNotFound)
}
