package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Passkeys runs the WebAuthn ceremonies (internal/passkey.RP): passkey
// registration and passwordless sign-in. The second factor of a password
// login goes through auth.Service.WebAuthn instead.
type Passkeys interface {
	BeginRegistration(ctx context.Context, u *auth.User) (json.RawMessage, error)
	FinishRegistration(ctx context.Context, actor *auth.Principal, u *auth.User, name string, response []byte) (*auth.Passkey, error)
	BeginPasswordless(ctx context.Context) (json.RawMessage, error)
	FinishPasswordless(ctx context.Context, assertion []byte) (*auth.User, *auth.Passkey, error)
}

const codePasskeysDisabled = "passkeys_disabled"

// passkeysOn answers 404 passkeys_disabled when the server has none.
func (s *server) passkeysOn(w http.ResponseWriter) bool {
	if s.passkeys == nil {
		writeProblem(w, http.StatusNotFound, codePasskeysDisabled, "this server has no passkeys: they need --public-url, whose host is the WebAuthn relying party id")
		return false
	}
	return true
}

// passkeyJSON is a passkey as the API shows it; never its public key.
type passkeyJSON struct {
	ID         string     `json:"id"` // the credential id, base64url
	Name       string     `json:"name"`
	AMR        string     `json:"amr"`    // "hwk" or "swk"
	Synced     bool       `json:"synced"` // backed up (a synced passkey)
	Transports []string   `json:"transports"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func passkeyOut(p *auth.Passkey) passkeyJSON {
	out := passkeyJSON{ID: p.IDString(), Name: p.Name, AMR: p.AMR(), Synced: p.Synced(), Transports: p.Transports, CreatedAt: p.CreatedAt.UTC()}
	if out.Transports == nil {
		out.Transports = []string{}
	}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt.UTC()
		out.LastUsedAt = &t
	}
	return out
}

// principalUser is the stored user of the request's token.
func (s *server) principalUser(w http.ResponseWriter, r *http.Request) (*auth.Principal, *auth.User, bool) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		writeProblem(w, http.StatusUnauthorized, codeTokenMissing, "no access token")
		return nil, nil, false
	}
	u, err := s.svc.Store.UserByID(r.Context(), p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	return p, u, true
}

func (s *server) listPasskeys(w http.ResponseWriter, r *http.Request) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		writeProblem(w, http.StatusUnauthorized, codeTokenMissing, "no access token")
		return
	}
	keys, err := s.svc.Passkeys(r.Context(), p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]passkeyJSON, len(keys))
	for i := range keys {
		out[i] = passkeyOut(&keys[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"passkeys": out, "enabled": s.passkeys != nil})
}

func (s *server) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w) {
		return
	}
	_, u, ok := s.principalUser(w, r)
	if !ok {
		return
	}
	opts, err := s.passkeys.BeginRegistration(r.Context(), u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeRawJSON(w, http.StatusOK, opts)
}

func (s *server) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w) {
		return
	}
	var req struct {
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	p, u, ok := s.principalUser(w, r)
	if !ok {
		return
	}
	pk, err := s.passkeys.FinishRegistration(s.auditCtx(r), p, u, req.Name, req.Credential)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, passkeyOut(pk))
}

// passkeyID reads the {id} of the path: a credential id in base64url.
func passkeyID(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	id, err := base64.RawURLEncoding.DecodeString(r.PathValue("id"))
	if err != nil || len(id) == 0 || len(id) > 1023 {
		writeProblem(w, http.StatusNotFound, codeNotFound, "no such passkey")
		return nil, false
	}
	return id, true
}

func (s *server) renamePasskey(w http.ResponseWriter, r *http.Request) {
	id, ok := passkeyID(w, r)
	if !ok {
		return
	}
	var req struct {
		Name string `json:"name"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	if err := s.svc.RenamePasskey(s.auditCtx(r), p, id, req.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) deletePasskey(w http.ResponseWriter, r *http.Request) {
	id, ok := passkeyID(w, r)
	if !ok {
		return
	}
	var req currentPassword
	if !s.decodeJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	err := s.svc.DeletePasskey(s.auditCtx(r), p, stateOf(r).ip, req.CurrentPassword, id, s.svc.KeepLastFactor)
	if errors.Is(err, auth.ErrMFARequiredByRole) {
		writeProblem(w, http.StatusConflict, "mfa_required_by_role", "your role requires a second factor: add another before removing this one")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// passkeyLogin tells the login page whether to offer "Sign in with a
// passkey", without the cost of a ceremony (and its login limit) that
// begin has.
func (s *server) passkeyLogin(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": s.passkeys != nil})
}

// beginPasskeyLogin starts a passwordless sign-in: the options for
// navigator.credentials.get, naming no user.
func (s *server) beginPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w) {
		return
	}
	if err := s.svc.SpendLoginAttempt(r.Context(), stateOf(r).ip); err != nil {
		s.fail(w, r, err)
		return
	}
	opts, err := s.passkeys.BeginPasswordless(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeRawJSON(w, http.StatusOK, opts)
}

// finishPasskeyLogin checks the assertion of a passwordless sign-in and
// answers as /login does.
func (s *server) finishPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn(w) {
		return
	}
	var req struct {
		Credential json.RawMessage `json:"credential"`
		Cookie     bool            `json:"cookie"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	u, pk, err := s.passkeys.FinishPasswordless(s.auditCtx(r), req.Credential)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.svc.PasskeySession(s.auditCtx(r), auth.LoginFrom{ClientIP: stateOf(r).ip, UserAgent: r.UserAgent()}, u, pk)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeGrant(w, r, g, req.Cookie, "")
}
