package jwt

// Interoperability with PyJWT, through Debian's python3-jwt and
// python3-cryptography (testdata/interop.py). Tokens signed here must
// verify there and the other way round, with the claims unchanged, for
// HS256, ES256, EdDSA and RS256. Without those packages the test is
// skipped, except on CI (CI=true), where it fails. -short skips it: each
// token crosses a python3 process, about 25 s in all.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

const iopPython = "/usr/bin/python3" // Debian's, not whatever python3 is first on PATH

// iopRequire skips under -short, and skips (or, on CI, fails) unless PyJWT
// is importable.
func iopRequire(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python3 for every token, about 25 s: skipped by -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := iopCmd(ctx, "-c", "import jwt, cryptography; print(jwt.__version__)").CombinedOutput()
	if err != nil {
		why := fmt.Sprintf("%s with PyJWT and cryptography is not available: %v: %s", iopPython, err, bytes.TrimSpace(out))
		// The jwt module imports nothing of the server's, so this is the
		// server's testutil.Unavailable written out: CI=true (as .ci/run
		// sets) must provide PyJWT.
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: under CI=true this test must run (CI must install python3-jwt and python3-cryptography)", why)
		}
		t.Skip(why)
	}
	t.Logf("PyJWT %s", bytes.TrimSpace(out))
}

func iopCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, iopPython, args...)
	// A clean environment: no PYTHONPATH or virtualenv from the caller.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1"}
	return cmd
}

type iopRequest struct {
	Mode      string         `json:"mode"`
	Alg       Algorithm      `json:"alg"`
	SecretHex string         `json:"secret_hex,omitempty"`
	KeyPEM    string         `json:"key_pem,omitempty"`
	Claims    map[string]any `json:"claims,omitempty"`
	Token     string         `json:"token,omitempty"`
	Audience  string         `json:"audience,omitempty"`
	Issuer    string         `json:"issuer,omitempty"`
}

type iopResponse struct {
	Token  string         `json:"token"`
	Claims map[string]any `json:"claims"`
	Error  string         `json:"error"`
	Type   string         `json:"type"`
}

func iopRun(t *testing.T, req iopRequest) iopResponse {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := iopCmd(ctx, "testdata/interop.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("interop.py %s: %v\n%s", req.Mode, err, stderr.Bytes())
	}
	var resp iopResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("interop.py output %q: %v", out, err)
	}
	return resp
}

// iopKeys makes a fresh key pair for alg: our signing key, its verifying
// key, and PEM forms for PyJWT (or the hex secret for HMAC).
type iopKeys struct {
	sign, verify    *Key
	privPEM, pubPEM string
	secretHex       string
}

func iopNewKeys(t *testing.T, alg Algorithm) iopKeys {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case HS256:
		secret := make([]byte, 32)
		rand.Read(secret)
		k := rfcOK(NewHMACKey(alg, secret))
		return iopKeys{sign: k, verify: k, secretHex: hex.EncodeToString(secret)}
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	k := rfcOK(NewSigningKey(alg, priv))
	p8 := rfcOK(x509.MarshalPKCS8PrivateKey(priv))
	spki := rfcOK(x509.MarshalPKIXPublicKey(priv.Public()))
	return iopKeys{
		sign:    k,
		verify:  rfcOK(NewVerificationKey(alg, priv.Public())),
		privPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		pubPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
	}
}

// iopTamper changes one character in the middle of the payload segment.
func iopTamper(tok string) string {
	h, rest, _ := strings.Cut(tok, ".")
	p, s, _ := strings.Cut(rest, ".")
	b := []byte(p)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return h + "." + string(b) + "." + s
}

// iopNormalize round-trips v through encoding/json, so that claims built
// in Go compare equal to claims decoded from JSON.
func iopNormalize(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInteropPyJWT(t *testing.T) {
	iopRequire(t)
	const iss, aud = "https://issuer.example", "api"
	for _, alg := range []Algorithm{HS256, ES256, EdDSA, RS256} {
		t.Run(string(alg), func(t *testing.T) {
			keys := iopNewKeys(t, alg)
			now := time.Now().Unix()
			claims := iopNormalize(t, map[string]any{
				"iss":    iss,
				"sub":    "user-\u00fc-\U0001F600",
				"aud":    []string{aud, "web"},
				"exp":    now + 600,
				"nbf":    now - 5,
				"iat":    now - 1,
				"jti":    fmt.Sprintf("%x", now),
				"role":   "admin",
				"n":      123456789,
				"nested": map[string]any{"a": []any{1, "two", nil, true, -2.5}},
				"esc":    "quote\" backslash\\ slash/ <script>&amp; \u2028 \u00e9 tab\t nl\n",
			})
			v := rfcOK(NewVerifier([]*Key{keys.verify}, WithIssuer(iss), WithAudience(aud), WithLeeway(5*time.Second)))
			verifyReq := iopRequest{Mode: "verify", Alg: alg, SecretHex: keys.secretHex, KeyPEM: keys.pubPEM, Audience: aud, Issuer: iss}

			// Ours -> PyJWT.
			ours, err := Sign(keys.sign, claims)
			if err != nil {
				t.Fatal(err)
			}
			verifyReq.Token = ours
			resp := iopRun(t, verifyReq)
			if resp.Error != "" {
				t.Fatalf("PyJWT refuses our %s token: %s: %s\n%s", alg, resp.Type, resp.Error, ours)
			}
			if !reflect.DeepEqual(resp.Claims, claims) {
				t.Fatalf("PyJWT read our claims as\n%v\nwant\n%v", resp.Claims, claims)
			}
			// ... and refuses it once a payload character changes.
			verifyReq.Token = iopTamper(ours)
			if resp := iopRun(t, verifyReq); resp.Error == "" || resp.Type != "InvalidSignatureError" {
				t.Fatalf("PyJWT on our tampered token: %+v, want InvalidSignatureError", resp)
			}

			// PyJWT -> ours.
			signReq := iopRequest{Mode: "sign", Alg: alg, SecretHex: keys.secretHex, KeyPEM: keys.privPEM, Claims: claims}
			resp = iopRun(t, signReq)
			if resp.Error != "" || resp.Token == "" {
				t.Fatalf("PyJWT cannot sign: %s: %s", resp.Type, resp.Error)
			}
			theirs := resp.Token
			var got map[string]any
			if err := v.Verify(theirs, &got); err != nil {
				t.Fatalf("we refuse PyJWT's %s token: %v\n%s", alg, err, theirs)
			}
			if !reflect.DeepEqual(got, claims) {
				t.Fatalf("we read PyJWT's claims as\n%v\nwant\n%v", got, claims)
			}
			var reg Claims
			if err := v.Verify(theirs, &reg); err != nil {
				t.Fatal(err)
			}
			if reg.Issuer != iss || reg.Subject != claims["sub"] || len(reg.Audience) != 2 || reg.Audience[1] != "web" ||
				reg.ExpiresAt.Unix() != now+600 || reg.NotBefore.Unix() != now-5 || reg.IssuedAt.Unix() != now-1 {
				t.Fatalf("registered claims of PyJWT's token: %+v", reg)
			}
			if u, err := DecodeUnverified(theirs); err != nil || u.Algorithm != string(alg) {
				t.Fatalf("DecodeUnverified of PyJWT's token: %+v, %v", u, err)
			}
			if err := v.Verify(iopTamper(theirs), nil); !errors.Is(err, ErrSignature) {
				t.Fatalf("our Verify on PyJWT's tampered token: err = %v, want ErrSignature", err)
			}
			// Both sides refuse a token signed by another key.
			other := iopNewKeys(t, alg)
			wrong := rfcOK(Sign(other.sign, claims))
			verifyReq.Token = wrong
			if resp := iopRun(t, verifyReq); resp.Type != "InvalidSignatureError" {
				t.Fatalf("PyJWT on a token from another key: %+v", resp)
			}
			if err := v.Verify(wrong, nil); !errors.Is(err, ErrSignature) {
				t.Fatalf("our Verify on a token from another key: %v", err)
			}
		})
	}
}

// iopAppClaims is an application's claims type as the package doc
// recommends: Claims embedded, plus its own fields.
type iopAppClaims struct {
	Claims
	Role   string         `json:"role"`
	Scopes []string       `json:"scopes"`
	Tenant int64          `json:"tenant"`
	Extra  map[string]any `json:"extra"`
}

// A struct embedding Claims, signed here, reaches PyJWT with every field,
// and PyJWT's token of the same claims fills every field here.
func TestInteropPyJWTCustomClaims(t *testing.T) {
	iopRequire(t)
	const iss, aud = "https://issuer.example", "api"
	for _, alg := range []Algorithm{HS256, EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			keys := iopNewKeys(t, alg)
			now := time.Now().Truncate(time.Second)
			in := iopAppClaims{
				Claims: Claims{
					Issuer:    iss,
					Subject:   "user-\u00fc",
					Audience:  Audience{aud},
					ExpiresAt: NewNumericDate(now.Add(10 * time.Minute)),
					IssuedAt:  NewNumericDate(now),
					ID:        "id-1",
				},
				Role:   "admin",
				Scopes: []string{"posts:read", "posts:write"},
				Tenant: 42,
				Extra:  map[string]any{"ok": true, "note": "<&>"},
			}
			want := iopNormalize(t, in)
			if len(want) != 10 {
				t.Fatalf("the test's claims %v should have 10 members", want)
			}

			ours, err := Sign(keys.sign, &in)
			if err != nil {
				t.Fatal(err)
			}
			resp := iopRun(t, iopRequest{Mode: "verify", Alg: alg, SecretHex: keys.secretHex, KeyPEM: keys.pubPEM, Audience: aud, Issuer: iss, Token: ours})
			if resp.Error != "" {
				t.Fatalf("PyJWT refuses our token: %s: %s", resp.Type, resp.Error)
			}
			if !reflect.DeepEqual(resp.Claims, want) {
				t.Fatalf("PyJWT read our claims as\n%v\nwant\n%v", resp.Claims, want)
			}

			resp = iopRun(t, iopRequest{Mode: "sign", Alg: alg, SecretHex: keys.secretHex, KeyPEM: keys.privPEM, Claims: want})
			if resp.Error != "" || resp.Token == "" {
				t.Fatalf("PyJWT cannot sign: %s: %s", resp.Type, resp.Error)
			}
			v := rfcOK(NewVerifier([]*Key{keys.verify}, WithIssuer(iss), WithAudience(aud)))
			var got iopAppClaims
			if err := v.Verify(resp.Token, &got); err != nil {
				t.Fatalf("we refuse PyJWT's token: %v", err)
			}
			if !reflect.DeepEqual(iopNormalize(t, got), want) || got.Role != in.Role || got.Tenant != in.Tenant ||
				!reflect.DeepEqual(got.Scopes, in.Scopes) || !got.ExpiresAt.Equal(in.ExpiresAt.Time) || got.Subject != in.Subject {
				t.Fatalf("we read PyJWT's claims as\n%+v\nwant\n%+v", got, in)
			}
		})
	}
}
