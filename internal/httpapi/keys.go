package httpapi

import (
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/jwt"
)

var hJWKSCache = []string{"public, max-age=300"}

// publicKeys returns the public halves of the asymmetric keys tokens are
// verified with. HMAC secrets are never published.
func (s *server) publicKeys() []*jwt.Key {
	var out []*jwt.Key
	for _, k := range s.tokens.VerifyKeys() {
		if !k.IsSymmetric() {
			out = append(out, k.Public())
		}
	}
	return out
}

// jwks serves the public verification keys (RFC 7517) so that other
// services verify jwtgate's tokens without holding a secret. Verifiers
// that meet an unknown kid after a rotation fetch it again.
func (s *server) jwks(w http.ResponseWriter, r *http.Request) {
	keys := s.publicKeys()
	if len(keys) == 0 {
		writeProblem(w, http.StatusNotFound, codeNoPublicKeys, "this server signs tokens with a shared secret (HS256): there are no public keys; configure an EdDSA, ES256 or RS256 key to publish a JWKS")
		return
	}
	b, err := jwt.MarshalJWKS(keys...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header()["Cache-Control"] = hJWKSCache
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

type openidConfiguration struct {
	Issuer            string   `json:"issuer"`
	JWKSURI           string   `json:"jwks_uri"`
	TokenEndpoint     string   `json:"token_endpoint"`
	GrantTypes        []string `json:"grant_types_supported"`
	ResponseTypes     []string `json:"response_types_supported"`
	SubjectTypes      []string `json:"subject_types_supported"`
	SigningAlgs       []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuth []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported   []string `json:"claims_supported"`
}

// openidConfiguration is the discovery document (OpenID Connect Discovery
// 1.0 section 3) that JWKS-aware verifiers start from.
func (s *server) openidConfiguration(w http.ResponseWriter, r *http.Request) {
	keys := s.publicKeys()
	if len(keys) == 0 {
		writeProblem(w, http.StatusNotFound, codeNoPublicKeys, "this server signs tokens with a shared secret (HS256): there is no discovery document without public keys")
		return
	}
	base := s.publicURL
	if base == "" {
		writeProblem(w, http.StatusNotFound, codeNotFound, "the discovery document needs the server's external URL: start jwtgate with --public-url (or an https:// --issuer)")
		return
	}
	var algs []string
	for _, k := range keys {
		a := string(k.Algorithm())
		if !strings.Contains(strings.Join(algs, " ")+" ", a+" ") {
			algs = append(algs, a)
		}
	}
	issuer := s.tokens.Issuer()
	if issuer == "" {
		issuer = base
	}
	w.Header()["Cache-Control"] = hJWKSCache
	writeJSON(w, http.StatusOK, openidConfiguration{
		Issuer:            issuer,
		JWKSURI:           base + "/.well-known/jwks.json",
		TokenEndpoint:     base + "/login",
		GrantTypes:        []string{"password", "refresh_token"},
		ResponseTypes:     []string{"token"},
		SubjectTypes:      []string{"public"},
		SigningAlgs:       algs,
		TokenEndpointAuth: []string{"none"},
		ClaimsSupported:   []string{"sub", "name", "role", "sid", "iss", "aud", "iat", "exp", "jti"},
	})
}

// DiscoveryBaseURL is the absolute base URL the discovery document's
// links start from: publicURL, else an https:// issuer, else "" (no
// document). It never comes from a request: a Host or X-Forwarded-*
// header is the client's to choose, and a document built from it would be
// cached (Cache-Control: public) for every other client.
func DiscoveryBaseURL(publicURL, issuer string) string {
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/")
	}
	if strings.HasPrefix(issuer, "https://") {
		return strings.TrimSuffix(issuer, "/")
	}
	return ""
}
