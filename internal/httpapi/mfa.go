package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// failMFA writes the problem of a second-factor error and reports
// whether err was one.
func (s *server) failMFA(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, auth.ErrMFAToken):
		writeProblem(w, http.StatusUnauthorized, codeMFATokenInvalid, "the mfa_token is invalid, expired, used or from another client; log in again")
	case errors.Is(err, auth.ErrMFACode):
		writeProblem(w, http.StatusUnauthorized, codeMFACodeInvalid, "the code is wrong or was already used; try the next code")
	case errors.Is(err, auth.ErrMFAEnrollment):
		writeProblem(w, http.StatusForbidden, codeMFAEnrollRequired, mfaEnrollDetail)
	case errors.Is(err, auth.ErrMFARequiredByRole):
		writeProblem(w, http.StatusConflict, codeMFARequiredByRole, "the user's role requires a second factor: add another before removing this one")
	case errors.Is(err, auth.ErrMFAKeyMissing):
		writeProblem(w, http.StatusServiceUnavailable, codeMFAUnavailable, "TOTP is not configured on this server (no MFA key); tell its administrator")
	default:
		return false
	}
	return true
}

const mfaEnrollDetail = "your role requires a second factor: set one up (GET /me/mfa, POST /me/mfa/totp) and log in again"

// mfaRequiredProblem is the 401 of a right password whose user must
// present a second factor: POST /login/mfa with mfa_token and one factor.
type mfaRequiredProblem struct {
	problem
	MFAToken  string          `json:"mfa_token"`
	Factors   []string        `json:"factors"`
	ExpiresIn int64           `json:"expires_in"`
	WebAuthn  json.RawMessage `json:"webauthn,omitempty"` // assertion options for navigator.credentials.get
}

func (s *server) writeMFARequired(w http.ResponseWriter, e *auth.MFARequiredError) {
	p := mfaRequiredProblem{
		problem: problem{Type: problemTypePrefix + codeMFARequired, Title: problemTitles[codeMFARequired], Status: http.StatusUnauthorized,
			Detail: "the password is right; send a second factor to POST /login/mfa with this mfa_token", Code: codeMFARequired},
		MFAToken: e.Token, Factors: e.Factors, ExpiresIn: int64(time.Until(e.ExpiresAt).Round(time.Second) / time.Second),
		WebAuthn: e.WebAuthn,
	}
	if p.ExpiresIn <= 0 || p.ExpiresIn > int64(auth.MFAChallengeTTL/time.Second) {
		p.ExpiresIn = int64(auth.MFAChallengeTTL / time.Second)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(p)
	if st, ok := w.(*reqState); ok {
		st.problem = codeMFARequired
	}
	h := w.Header()
	h["Content-Type"] = hProblem
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// loginMFA is the second step of a login: {mfa_token} with one of totp,
// recovery_code or webauthn (the PublicKeyCredential JSON).
func (s *server) loginMFA(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MFAToken     string          `json:"mfa_token"`
		TOTP         string          `json:"totp"`
		RecoveryCode string          `json:"recovery_code"`
		WebAuthn     json.RawMessage `json:"webauthn"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	if req.MFAToken == "" {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "mfa_token is required")
		return
	}
	proof := auth.MFAProof{TOTP: req.TOTP, RecoveryCode: req.RecoveryCode}
	if len(req.WebAuthn) > 0 && string(req.WebAuthn) != "null" {
		proof.WebAuthn = req.WebAuthn
	}
	g, err := s.svc.LoginMFA(s.auditCtx(r), stateOf(r).ip, req.MFAToken, proof)
	s.metrics.Login(err)
	if err != nil {
		if !s.failMFA(w, err) {
			s.fail(w, r, err)
		}
		return
	}
	s.writeGrant(w, r, g, g.Cookie, "")
}

// mfaStatusJSON is GET /me/mfa.
type mfaStatusJSON struct {
	Factors        []string `json:"factors"`
	TOTP           bool     `json:"totp"`
	TOTPPending    bool     `json:"totp_pending"`
	WebAuthn       bool     `json:"webauthn"`
	RecoveryLeft   int      `json:"recovery_codes_left"`
	RequiredByRole bool     `json:"required_by_role"`
	// AMR is how the caller's own session authenticated.
	AMR []string `json:"amr"`
}

func (s *server) mfaStatus(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	u, err := s.svc.Store.UserByID(r.Context(), p.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.MFAStatus(r.Context(), u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := st.Factors()
	if f == nil {
		f = []string{}
	}
	amr := p.Claims.AMR
	if amr == nil {
		amr = []string{}
	}
	writeJSON(w, http.StatusOK, mfaStatusJSON{Factors: f, TOTP: st.TOTP, TOTPPending: st.TOTPPending, WebAuthn: st.WebAuthn,
		RecoveryLeft: st.RecoveryLeft, RequiredByRole: st.RequiredByRole, AMR: amr})
}

// mfaIssuer names the server in authenticator apps: the public URL's
// host, else the token issuer.
func (s *server) mfaIssuer() string {
	if u, err := url.Parse(s.publicURL); err == nil && u.Hostname() != "" && s.oidcBase != "" {
		return u.Hostname()
	}
	if iss := s.tokens.Issuer(); iss != "" && !strings.ContainsAny(iss, ":/") {
		return iss
	}
	return auth.DefaultIssuer
}

func (s *server) beginTOTP(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	e, err := s.svc.BeginTOTP(s.auditCtx(r), p, s.mfaIssuer())
	if err != nil {
		if !s.failMFA(w, err) {
			s.fail(w, r, err)
		}
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"otpauth_uri": e.URI, "secret": e.Secret})
}

func (s *server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	codes, err := s.svc.ConfirmTOTP(s.auditCtx(r), p, req.Code)
	if err != nil {
		if !s.failMFA(w, err) {
			s.fail(w, r, err)
		}
		return
	}
	if codes == nil {
		codes = []string{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}

// currentPassword is the body of the requests that weaken the caller's
// second factors: DELETE /me/mfa/totp, POST /me/mfa/recovery and
// DELETE /me/passkeys/{id} need the account's password, as POST
// /me/password does, so that a stolen session alone cannot strip them.
type currentPassword struct {
	CurrentPassword string `json:"current_password"`
}

func (s *server) removeTOTP(w http.ResponseWriter, r *http.Request) {
	var req currentPassword
	if !s.decodeJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	if err := s.svc.RemoveTOTP(s.auditCtx(r), p, stateOf(r).ip, req.CurrentPassword); err != nil {
		if !s.failMFA(w, err) {
			s.fail(w, r, err)
		}
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) regenerateRecovery(w http.ResponseWriter, r *http.Request) {
	var req currentPassword
	if !s.decodeJSON(w, r, &req) {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	codes, err := s.svc.RegenerateRecoveryCodes(s.auditCtx(r), p, stateOf(r).ip, req.CurrentPassword)
	if err != nil {
		if !s.failMFA(w, err) {
			s.fail(w, r, err)
		}
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}

// resetUserMFA is an admin's removal of every second factor of a user,
// which ends the user's sessions.
func (s *server) resetUserMFA(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if _, err := s.svc.ResetMFA(s.auditCtx(r), p, r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// enrollOnly reports whether path is one an enrolment-only token
// (MFAEnroll) may use: its own account's security (second factors,
// password, sessions), nothing else.
func enrollOnly(path string) bool {
	for _, p := range []string{"/me/mfa", "/me/passkeys", "/me/sessions"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return path == "/me" || path == "/me/password"
}
