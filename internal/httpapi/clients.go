package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// clientJSON is the API's view of an OAuth client: never the secret's hash.
type clientJSON struct {
	ID                     string    `json:"client_id"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
	// Secret is set only in the responses that create it.
	Secret string `json:"client_secret,omitempty"`
}

func toClientJSON(c *auth.Client) clientJSON {
	out := clientJSON{ID: c.ID, Name: c.Name, Public: c.Public(), RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if out.RedirectURIs == nil {
		out.RedirectURIs = []string{}
	}
	if out.PostLogoutRedirectURIs == nil {
		out.PostLogoutRedirectURIs = []string{}
	}
	return out
}

func (s *server) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := s.svc.Clients(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Clients []clientJSON `json:"clients"`
	}{make([]clientJSON, len(cs))}
	for i, c := range cs {
		out.Clients[i] = toClientJSON(c)
	}
	writeJSON(w, http.StatusOK, out)
}

// createClient registers a client; a confidential client's secret is in
// this response only.
func (s *server) createClient(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name                   string   `json:"name"`
		RedirectURIs           []string `json:"redirect_uris"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
		Public                 bool     `json:"public"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	c, secret, err := s.svc.RegisterClient(s.auditCtx(r), auth.ClientSpec{Name: req.Name, RedirectURIs: req.RedirectURIs,
		PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, Public: req.Public})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := toClientJSON(c)
	out.Secret = secret
	w.Header().Set("Location", "/clients/"+url.PathEscape(c.ID))
	w.Header()["Pragma"] = hPragmaNoCache
	writeJSON(w, http.StatusCreated, out)
}

func (s *server) deleteClient(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteClient(s.auditCtx(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateClientSecret replaces a client's secret; the old one stops
// working at once. The new one is in this response only.
func (s *server) rotateClientSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, err := s.svc.RotateClientSecret(s.auditCtx(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header()["Pragma"] = hPragmaNoCache
	writeJSON(w, http.StatusOK, struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}{id, secret})
}
