package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

// TestDiscoveryIgnoresRequestHost sends requests with a forged Host and
// forwarding headers: no response, however the server is configured, may
// carry that host, since the discovery document is cacheable by anyone
// in between.
func TestDiscoveryIgnoresRequestHost(t *testing.T) {
	key := genKey(t, jwt.EdDSA)
	const evil = "evil.example"
	tests := []struct {
		name       string
		opts       envOptions
		wantStatus int
		wantBase   string // "" when the document is refused
	}{
		{"no public URL, plain issuer", envOptions{key: key}, 404, ""},
		{"no public URL, http issuer", envOptions{key: key, issuer: "http://auth.example.test"}, 404, ""},
		{"no public URL, trusted proxy", envOptions{key: key, trustProxy: true}, 404, ""},
		{"public URL", envOptions{key: key, publicURL: "https://auth.example.test"}, 200, "https://auth.example.test"},
		{"https issuer", envOptions{key: key, issuer: "https://issuer.example.test/"}, 200, "https://issuer.example.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			forged := func(path string) resp {
				h := http.Header{}
				for _, k := range []string{"X-Forwarded-Host", "Forwarded", "X-Original-Host"} {
					h.Set(k, evil)
				}
				h.Set("X-Forwarded-Proto", "https")
				r := e.send(req{method: "GET", path: path, header: h, host: evil})
				for k, vs := range r.Header {
					if strings.Contains(strings.Join(vs, " "), evil) {
						t.Errorf("GET %s: header %s: %q names the forged host", path, k, vs)
					}
				}
				if strings.Contains(string(r.body), evil) {
					t.Errorf("GET %s: body names the forged host: %s", path, r.body)
				}
				return r
			}
			for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/nope", "/me", "/readyz", "/openapi.yaml"} {
				forged(path)
			}
			r := forged("/.well-known/openid-configuration")
			if tc.wantBase == "" {
				p := wantProblem(t, r, tc.wantStatus, codeNotFound)
				if !strings.Contains(p.Detail, "--public-url") {
					t.Errorf("detail %q does not say what to set", p.Detail)
				}
				return
			}
			wantStatus(t, r, tc.wantStatus)
			var oc openidConfiguration
			if err := json.Unmarshal(r.body, &oc); err != nil {
				t.Fatal(err)
			}
			if oc.JWKSURI != tc.wantBase+"/.well-known/jwks.json" || (oc.TokenEndpoint != "" && oc.TokenEndpoint != tc.wantBase+"/oauth2/token") {
				t.Errorf("jwks_uri %q, token_endpoint %q: want them under %s", oc.JWKSURI, oc.TokenEndpoint, tc.wantBase)
			}
		})
	}
}
