package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// systemPython is Debian's interpreter, the one python3-jwt (PyJWT) and
// python3-cryptography are installed for; a python3 earlier on PATH (pyenv,
// a virtualenv) may not have them.
const systemPython = "/usr/bin/python3"

// pyVerifier verifies a JWT the way a third-party service would: with
// PyJWT and nothing but the published JWKS. argv: JWKS file, algorithm,
// issuer, audience; the token on stdin. It prints the verified claims as
// JSON, or exits 3 with the PyJWT exception's class name on stderr.
const pyVerifier = `
import json, sys
import jwt

jwks_path, alg, issuer, audience = sys.argv[1:5]
token = sys.stdin.read().strip()
with open(jwks_path) as f:
    jwks = jwt.PyJWKSet.from_dict(json.load(f))
try:
    header = jwt.get_unverified_header(token)
    if header.get("alg") != alg:
        print("HeaderAlgMismatch: %r" % header.get("alg"), file=sys.stderr)
        sys.exit(4)
    key = jwks[header["kid"]]
    claims = jwt.decode(token, key.key, algorithms=[alg], issuer=issuer,
                        audience=audience,
                        options={"require": ["exp", "iat", "iss", "aud", "sub"]})
except (jwt.PyJWTError, KeyError) as e:
    print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(3)
json.dump(claims, sys.stdout)
`

// pyVerify runs the verifier; it returns the claims, or the exit code and
// stderr when it refuses the token.
func pyVerify(t *testing.T, script, jwksPath, alg, issuer, audience, token string) (map[string]any, int, string) {
	t.Helper()
	// -I: isolated mode, so that neither the environment nor a "jwt"
	// folder next to the script or in the working directory (this
	// repository has one) shadows the PyJWT package.
	cmd := exec.Command(systemPython, "-I", script, jwksPath, alg, issuer, audience)
	cmd.Dir = filepath.Dir(script)
	cmd.Stdin = strings.NewReader(token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running python: %v", err)
		}
		return nil, ee.ExitCode(), stderr.String()
	}
	var claims map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &claims); err != nil {
		t.Fatalf("verifier output %q: %v (stderr %s)", stdout.String(), err, stderr.String())
	}
	return claims, 0, stderr.String()
}

// httpGetRaw fetches url and returns the status, headers and body.
func httpGetRaw(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestJWKSInteropPyJWT checks that an independent implementation, PyJWT,
// verifies jwtgate's tokens for each asymmetric algorithm using only the
// published JWKS, and refuses altered ones.
func TestJWKSInteropPyJWT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs python3")
	}
	probe := exec.Command(systemPython, "-I", "-c", "import jwt, cryptography; print(jwt.__version__, cryptography.__version__)")
	probe.Dir = t.TempDir()
	out, err := probe.CombinedOutput()
	if err != nil {
		err = &probeError{err, string(out)}
	}
	requireTool(t, systemPython+" with PyJWT and cryptography (Debian packages python3-jwt python3-cryptography)", err)
	t.Logf("PyJWT, cryptography: %s", strings.TrimSpace(string(out)))
	t.Parallel()

	script := filepath.Join(t.TempDir(), "verify_jwks.py")
	if err := os.WriteFile(script, []byte(pyVerifier), 0o600); err != nil {
		t.Fatal(err)
	}

	wantKty := map[string]string{"EdDSA": "OKP", "ES256": "EC", "RS256": "RSA"}
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "key.pem")
			if out, err := runBinary(t, "", "key", "generate", "--alg", alg, "--out", keyFile); err != nil {
				t.Fatalf("key generate: %v %s", err, out)
			}
			data := filepath.Join(dir, "data")
			const issuer, audience = "https://auth.interop.test", "interop-api"
			if out, err := runBinary(t, "interop-password-1\n", "user", "add", "pyuser", "--role", "editor", "--data", data); err != nil {
				t.Fatalf("user add: %v %s", err, out)
			}
			p := startProcess(t, data, "--key-file", keyFile, "--issuer", issuer, "--audience", audience)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("jwtgate log:\n%s", p.logs)
				}
			})
			token := login(t, p.base, "pyuser", "interop-password-1")
			u, err := jwt.DecodeUnverified(token)
			if err != nil {
				t.Fatalf("token %q: %v", token, err)
			}
			if u.Algorithm != alg || u.KeyID == "" {
				t.Fatalf("token header %s, want alg %s and a kid", u.Header, alg)
			}
			var payload map[string]any
			if err := json.Unmarshal(u.Payload, &payload); err != nil {
				t.Fatalf("token payload: %v", err)
			}
			// What the server puts in iss and aud is what PyJWT must check.
			tokIss, _ := payload["iss"].(string)
			var tokAud string
			switch a := payload["aud"].(type) {
			case string:
				tokAud = a
			case []any:
				if len(a) > 0 {
					tokAud, _ = a[0].(string)
				}
			}
			if tokIss != issuer || tokAud != audience {
				t.Fatalf("token iss %v aud %v, want %s %s", payload["iss"], payload["aud"], issuer, audience)
			}

			// The JWKS document: public keys only, cacheable, the right type.
			code, hdr, body := httpGetRaw(t, p.base+"/.well-known/jwks.json")
			if code != 200 {
				t.Fatalf("JWKS: %d %s", code, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/jwk-set+json" {
				t.Errorf("JWKS Content-Type %q", ct)
			}
			if cc := hdr.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
				t.Errorf("JWKS Cache-Control %q has no max-age", cc)
			}
			var jwks struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(body, &jwks); err != nil || len(jwks.Keys) == 0 {
				t.Fatalf("JWKS %s: %v", body, err)
			}
			found := false
			for _, k := range jwks.Keys {
				for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
					if _, ok := k[priv]; ok {
						t.Errorf("JWKS key %v publishes the private member %q", k["kid"], priv)
					}
				}
				if k["kid"] == u.KeyID {
					found = true
					if k["kty"] != wantKty[alg] {
						t.Errorf("JWKS key kty %v, want %s", k["kty"], wantKty[alg])
					}
					if a, ok := k["alg"]; ok && a != alg {
						t.Errorf("JWKS key alg %v, want %s", a, alg)
					}
				}
			}
			if !found {
				t.Fatalf("the token's kid %v is not in the JWKS %s", u.KeyID, body)
			}
			jwksPath := filepath.Join(dir, "jwks.json")
			if err := os.WriteFile(jwksPath, body, 0o600); err != nil {
				t.Fatal(err)
			}

			// Discovery points at the same JWKS and names the algorithm.
			code, _, body = httpGetRaw(t, p.base+"/.well-known/openid-configuration")
			var disc struct {
				Issuer      string   `json:"issuer"`
				JWKSURI     string   `json:"jwks_uri"`
				SigningAlgs []string `json:"id_token_signing_alg_values_supported"`
			}
			if err := json.Unmarshal(body, &disc); code != 200 || err != nil {
				t.Fatalf("openid-configuration: %d %v %s", code, err, body)
			}
			// Its links start from the https:// issuer, not from the
			// address the request was sent to.
			if disc.JWKSURI != issuer+"/.well-known/jwks.json" {
				t.Errorf("jwks_uri %q, want %s/.well-known/jwks.json", disc.JWKSURI, issuer)
			}
			if !slices.Contains(disc.SigningAlgs, alg) {
				t.Errorf("id_token_signing_alg_values_supported %v lacks %s", disc.SigningAlgs, alg)
			}
			if disc.Issuer != issuer {
				t.Errorf("discovery issuer %q, want %q", disc.Issuer, issuer)
			}

			// PyJWT verifies the token with the JWKS alone and reads the
			// same identity /me reports.
			claims, exit, stderr := pyVerify(t, script, jwksPath, alg, tokIss, tokAud, token)
			if exit != 0 {
				t.Fatalf("PyJWT refused a valid %s token (exit %d): %s", alg, exit, stderr)
			}
			code, _, me := call(t, "GET", p.base+"/me", token, "", "")
			if code != 200 {
				t.Fatalf("/me: %d %v", code, me)
			}
			for _, c := range []string{"sub", "name", "role"} {
				if claims[c] == nil || claims[c] != me[c] {
					t.Errorf("claim %s: PyJWT read %v, /me says %v", c, claims[c], me[c])
				}
			}
			if me["name"] != "pyuser" || me["role"] != "editor" {
				t.Errorf("/me: %v", me)
			}

			// One payload character changed, in the encoding or in a claim:
			// the signature no longer holds.
			for what, bad := range map[string]string{
				"encoded payload": tamperPayload(t, token),
				"name claim":      editPayload(t, token, `"name":"pyuser"`, `"name":"pyusex"`),
			} {
				_, exit, stderr = pyVerify(t, script, jwksPath, alg, tokIss, tokAud, bad)
				if exit != 3 || !strings.HasPrefix(stderr, "InvalidSignatureError") {
					t.Errorf("PyJWT on a token with one character of the %s changed: exit %d, %s; want exit 3 InvalidSignatureError", what, exit, stderr)
				}
			}
			// Another key under the token's kid: refused too.
			otherKey := filepath.Join(dir, "other.pem")
			if out, err := runBinary(t, "", "key", "generate", "--alg", alg, "--out", otherKey); err != nil {
				t.Fatalf("key generate: %v %s", err, out)
			}
			otherJWKS, err := runBinary(t, "", "key", "jwks", otherKey)
			if err != nil {
				t.Fatalf("key jwks: %v %s", err, otherJWKS)
			}
			var other struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal([]byte(otherJWKS), &other); err != nil || len(other.Keys) != 1 {
				t.Fatalf("key jwks output %q: %v", otherJWKS, err)
			}
			other.Keys[0]["kid"] = u.KeyID
			b, _ := json.Marshal(other)
			otherPath := filepath.Join(dir, "other-jwks.json")
			if err := os.WriteFile(otherPath, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, exit, stderr = pyVerify(t, script, otherPath, alg, tokIss, tokAud, token)
			if exit != 3 || !strings.HasPrefix(stderr, "InvalidSignatureError") {
				t.Errorf("PyJWT with another key under the kid: exit %d, %s; want exit 3 InvalidSignatureError", exit, stderr)
			}
			// And the verifier does check the audience.
			_, exit, stderr = pyVerify(t, script, jwksPath, alg, tokIss, "some-other-api", token)
			if exit != 3 || !strings.HasPrefix(stderr, "InvalidAudienceError") {
				t.Errorf("PyJWT with another audience: exit %d, %s; want exit 3 InvalidAudienceError", exit, stderr)
			}
		})
	}
}

type probeError struct {
	err error
	out string
}

func (e *probeError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.out) }
