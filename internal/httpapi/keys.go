package httpapi

import (
	"net/http"
	"slices"
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

// openidConfiguration is the discovery document: OpenID Connect Discovery
// 1.0 section 3 and RFC 8414 section 2 (the same members serve both). It
// lists only what the server does.
type openidConfiguration struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string   `json:"token_endpoint,omitempty"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI               string   `json:"jwks_uri"`
	EndSessionEndpoint    string   `json:"end_session_endpoint,omitempty"`
	RevocationEndpoint    string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint string   `json:"introspection_endpoint,omitempty"`
	ScopesSupported       []string `json:"scopes_supported,omitempty"`
	ResponseTypes         []string `json:"response_types_supported,omitempty"`
	ResponseModes         []string `json:"response_modes_supported,omitempty"`
	GrantTypes            []string `json:"grant_types_supported,omitempty"`
	SubjectTypes          []string `json:"subject_types_supported,omitempty"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuth     []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	RevocationAuth        []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionAuth     []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	ClaimsSupported       []string `json:"claims_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported,omitempty"`
	ISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	RequestParameter      *bool    `json:"request_parameter_supported,omitempty"`
	RequestURIParameter   *bool    `json:"request_uri_parameter_supported,omitempty"`
	ClaimsParameter       *bool    `json:"claims_parameter_supported,omitempty"`
}

// openidConfiguration serves the discovery document. On an OpenID
// provider (see oidcIssuer) it is the full document, whose issuer is the
// public URL. Otherwise, with public keys and an external base URL, it
// is a verifier's document: the issuer of the access tokens, jwks_uri and
// the algorithms, and no endpoints (the password grant of POST /login is
// not offered to other applications).
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
	if issuer, _ := s.oidcIssuer(); issuer != "" {
		// ID tokens are signed with the current key only.
		algs = []string{string(s.tokens.SigningKey().Algorithm())}
	} else {
		for _, k := range keys {
			if a := string(k.Algorithm()); !slices.Contains(algs, a) {
				algs = append(algs, a)
			}
		}
	}
	w.Header()["Cache-Control"] = hJWKSCache
	writeJSON(w, http.StatusOK, s.discoveryDocument(base, algs))
}

// authorizationServerMetadata serves the RFC 8414 document: the same as
// the OpenID provider's.
func (s *server) authorizationServerMetadata(w http.ResponseWriter, r *http.Request, issuer string) {
	w.Header()["Cache-Control"] = hJWKSCache
	writeJSON(w, http.StatusOK, s.discoveryDocument(issuer, []string{string(s.tokens.SigningKey().Algorithm())}))
}

func (s *server) discoveryDocument(base string, algs []string) openidConfiguration {
	issuer, _ := s.oidcIssuer()
	if issuer == "" {
		iss := s.tokens.Issuer()
		if iss == "" {
			iss = base
		}
		return openidConfiguration{
			Issuer:          iss,
			JWKSURI:         base + "/.well-known/jwks.json",
			SigningAlgs:     algs,
			ClaimsSupported: []string{"sub", "name", "role", "sid", "iss", "aud", "iat", "exp", "jti"},
		}
	}
	no := false
	authMethods := []string{authBasic, authPost, authNone}
	return openidConfiguration{
		Issuer:                issuer,
		AuthorizationEndpoint: issuer + "/oauth2/authorize",
		TokenEndpoint:         issuer + "/oauth2/token",
		UserinfoEndpoint:      issuer + "/oauth2/userinfo",
		JWKSURI:               issuer + "/.well-known/jwks.json",
		EndSessionEndpoint:    issuer + "/oauth2/logout",
		RevocationEndpoint:    issuer + "/oauth2/revoke",
		IntrospectionEndpoint: issuer + "/oauth2/introspect",
		ScopesSupported:       knownScopes,
		ResponseTypes:         []string{"code"},
		ResponseModes:         []string{"query"},
		GrantTypes:            []string{"authorization_code", "refresh_token"},
		SubjectTypes:          []string{"public"},
		SigningAlgs:           algs,
		TokenEndpointAuth:     authMethods,
		RevocationAuth:        authMethods,
		IntrospectionAuth:     authMethods[:2],
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp",
			"name", "preferred_username"},
		CodeChallengeMethods:  []string{"S256"},
		ISSParameterSupported: true,
		RequestParameter:      &no,
		RequestURIParameter:   &no,
		ClaimsParameter:       &no,
	}
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
