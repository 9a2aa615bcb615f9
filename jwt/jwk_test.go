package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The key material tests share: RSA generation is slow, so one RSA key
// serves every RS*/PS* algorithm.
var jwkTestMaterial = sync.OnceValues(func() (map[string]crypto.Signer, error) {
	m := map[string]crypto.Signer{}
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	m["RSA"] = r
	for name, c := range map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()} {
		e, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, err
		}
		m[name] = e
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	m["Ed25519"] = ed
	return m, nil
})

// jwkTestSigner returns a signing key for alg with kid "test-kid".
func jwkTestSigner(t testing.TB, alg Algorithm) *Key {
	t.Helper()
	m, err := jwkTestMaterial()
	if err != nil {
		t.Fatal(err)
	}
	var k *Key
	switch alg {
	case HS256, HS384, HS512:
		secret := make([]byte, 64)
		rand.Read(secret)
		k, err = NewHMACKey(alg, secret)
	case RS256, RS384, RS512, PS256, PS384, PS512:
		k, err = NewSigningKey(alg, m["RSA"])
	case ES256:
		k, err = NewSigningKey(alg, m["P-256"])
	case ES384:
		k, err = NewSigningKey(alg, m["P-384"])
	case ES512:
		k, err = NewSigningKey(alg, m["P-521"])
	case EdDSA:
		k, err = NewSigningKey(alg, m["Ed25519"])
	default:
		t.Fatalf("no test key for %s", alg)
	}
	if err != nil {
		t.Fatalf("test key %s: %v", alg, err)
	}
	return k.WithKeyID("test-kid")
}

func jwkReadFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwkSetEntries splits a JWKS into its raw entries.
func jwkSetEntries(t testing.TB, set []byte) []json.RawMessage {
	t.Helper()
	var s struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(set, &s); err != nil {
		t.Fatal(err)
	}
	return s.Keys
}

// jwkMembers decodes a JWK into a map, to assert on member names.
func jwkMembers(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return m
}

// jwkEdit marshals k's private (or public) JWK, applies edit to its
// members and returns the JSON.
func jwkEdit(t testing.TB, k *Key, private bool, edit func(m map[string]any)) []byte {
	t.Helper()
	var b []byte
	var err error
	if private {
		b, err = k.MarshalPrivateJWK()
	} else {
		b, err = k.MarshalPublicJWK()
	}
	if err != nil {
		t.Fatal(err)
	}
	m := jwkMembers(t, b)
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jwkThumbprint(t testing.TB, k *Key) string {
	t.Helper()
	tp, err := k.Thumbprint()
	if err != nil {
		t.Fatalf("Thumbprint: %v", err)
	}
	return tp
}

// jwkSameKey fails unless a and b hold the same material, alg and kid.
func jwkSameKey(t testing.TB, a, b *Key) {
	t.Helper()
	if a.Algorithm() != b.Algorithm() || a.KeyID() != b.KeyID() {
		t.Fatalf("got alg %s kid %q, want alg %s kid %q", b.Algorithm(), b.KeyID(), a.Algorithm(), a.KeyID())
	}
	if a.CanSign() != b.CanSign() {
		t.Fatalf("CanSign = %v, want %v", b.CanSign(), a.CanSign())
	}
	if a.IsSymmetric() {
		if !bytes.Equal(a.secret, b.secret) {
			t.Fatal("HMAC secrets differ")
		}
		return
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if !a.PublicKey().(equaler).Equal(b.PublicKey()) {
		t.Fatal("public keys differ")
	}
	if a.CanSign() {
		type privEqualer interface{ Equal(crypto.PrivateKey) bool }
		if !a.priv.(privEqualer).Equal(b.priv) {
			t.Fatal("private keys differ")
		}
	}
}

var jwkPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"}

func TestJWKRoundTrip(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := jwkTestSigner(t, alg)
			priv, err := k.MarshalPrivateJWK()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseJWK(priv)
			if err != nil {
				t.Fatalf("ParseJWK(private): %v\n%s", err, priv)
			}
			jwkSameKey(t, k, back)
			if jwkThumbprint(t, back) != jwkThumbprint(t, k) {
				t.Fatal("thumbprint changed across private round trip")
			}
			if alg.IsHMAC() {
				return
			}
			pub, err := k.MarshalPublicJWK()
			if err != nil {
				t.Fatal(err)
			}
			pk, err := ParseJWK(pub)
			if err != nil {
				t.Fatalf("ParseJWK(public): %v\n%s", err, pub)
			}
			jwkSameKey(t, k.Public(), pk)
			if jwkThumbprint(t, pk) != jwkThumbprint(t, k) {
				t.Fatal("thumbprint differs between public and private forms")
			}
		})
	}
}

func TestJWKPublicHasNoPrivateMembers(t *testing.T) {
	for _, alg := range Algorithms() {
		if alg.IsHMAC() {
			continue
		}
		t.Run(string(alg), func(t *testing.T) {
			k := jwkTestSigner(t, alg)
			pub, err := k.MarshalPublicJWK()
			if err != nil {
				t.Fatal(err)
			}
			m := jwkMembers(t, pub)
			for _, name := range jwkPrivateMembers {
				if _, ok := m[name]; ok {
					t.Errorf("public JWK has private member %q: %s", name, pub)
				}
			}
			if m["use"] != "sig" || m["alg"] != string(alg) || m["kid"] != "test-kid" || m["kty"] == nil {
				t.Errorf("public JWK lacks use/alg/kid/kty: %s", pub)
			}
			// The private form must carry d, or this test proves nothing.
			priv, err := k.MarshalPrivateJWK()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := jwkMembers(t, priv)["d"]; !ok {
				t.Errorf("private JWK has no d: %s", priv)
			}
			// The same holds for a verify-only copy and inside a JWKS.
			if pub2, err := k.Public().MarshalPublicJWK(); err != nil || !bytes.Equal(pub, pub2) {
				t.Errorf("verify-only key: %v, %s != %s", err, pub2, pub)
			}
			set, err := MarshalJWKS(k)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range jwkSetEntries(t, set) {
				m := jwkMembers(t, e)
				for _, name := range jwkPrivateMembers {
					if _, ok := m[name]; ok {
						t.Errorf("JWKS entry has private member %q: %s", name, e)
					}
				}
			}
		})
	}
}

func TestJWKPrivateMembers(t *testing.T) {
	want := map[Algorithm][]string{
		RS256: {"n", "e", "d", "p", "q", "dp", "dq", "qi"},
		ES256: {"crv", "x", "y", "d"},
		EdDSA: {"crv", "x", "d"},
		HS256: {"k"},
	}
	for alg, members := range want {
		k := jwkTestSigner(t, alg)
		b, err := k.MarshalPrivateJWK()
		if err != nil {
			t.Fatal(err)
		}
		m := jwkMembers(t, b)
		for _, name := range members {
			if s, ok := m[name].(string); !ok || s == "" {
				t.Errorf("%s private JWK lacks %q", alg, name)
			}
		}
	}
}

func TestJWKSymmetricHasNoPublicForm(t *testing.T) {
	k := jwkTestSigner(t, HS256)
	if b, err := k.MarshalPublicJWK(); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("MarshalPublicJWK(HMAC) = %s, %v; want ErrInvalidKey", b, err)
	}
	if b, err := MarshalJWKS(jwkTestSigner(t, ES256), k); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("MarshalJWKS(HMAC) = %s, %v; want ErrInvalidKey", b, err)
	}
}

func TestJWKMarshalPrivateOfVerifyOnlyKey(t *testing.T) {
	for _, alg := range []Algorithm{RS256, ES256, EdDSA} {
		if b, err := jwkTestSigner(t, alg).Public().MarshalPrivateJWK(); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: MarshalPrivateJWK(verify-only) = %s, %v; want ErrInvalidKey", alg, b, err)
		}
	}
}

// EC members must be exactly the curve size (RFC 7518 section 6.2.1.2),
// RSA integers minimal. P-521 values have a zero top byte about half the
// time, so several keys make an unpadded encoder fail reliably.
func TestJWKEncodingSizes(t *testing.T) {
	dec := base64.RawURLEncoding.DecodeString
	for i := 0; i < 8; i++ {
		for _, alg := range []Algorithm{ES256, ES384, ES512} {
			k, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := k.MarshalPrivateJWK()
			if err != nil {
				t.Fatal(err)
			}
			var j JWK
			if err := json.Unmarshal(b, &j); err != nil {
				t.Fatal(err)
			}
			size := (curveFor(alg).Params().BitSize + 7) / 8
			for name, v := range map[string]string{"x": j.X, "y": j.Y, "d": j.D} {
				raw, err := dec(v)
				if err != nil || len(raw) != size {
					t.Errorf("%s %s has %d bytes (%v), want %d", alg, name, len(raw), err, size)
				}
			}
		}
	}
	var j JWK
	b, err := jwkTestSigner(t, RS256).MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.E != "AQAB" {
		t.Errorf("e = %q, want AQAB", j.E)
	}
	for name, v := range map[string]string{"n": j.N, "d": j.D, "p": j.P, "q": j.Q, "dp": j.DP, "dq": j.DQ, "qi": j.QI} {
		raw, err := dec(v)
		if err != nil || len(raw) == 0 || raw[0] == 0 {
			t.Errorf("RSA %s is not a minimal Base64urlUInt (%v)", name, err)
		}
	}
}

func TestThumbprintRFC7638(t *testing.T) {
	// RFC 7638 section 3.1: the RSA key of RFC 7517 appendix A.1.
	entries := jwkSetEntries(t, jwkReadFixture(t, "rfc7517-a1-public.json"))
	k, err := ParseJWK(entries[1])
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID() != "2011-04-29" {
		t.Fatalf("kid = %q", k.KeyID())
	}
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	if got := jwkThumbprint(t, k); got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
	// The private form of the same key (appendix A.2) has the same one.
	priv, err := ParseJWK(jwkSetEntries(t, jwkReadFixture(t, "rfc7517-a2-private.json"))[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := jwkThumbprint(t, priv); got != want {
		t.Errorf("private key thumbprint = %s, want %s", got, want)
	}
}

func TestThumbprintRFC8037(t *testing.T) {
	// RFC 8037 appendix A.3.
	const want = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
	for _, doc := range []string{
		`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		string(jwkReadFixture(t, "rfc8037-a1-ed25519.json")),
	} {
		k, err := ParseJWK([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if k.Algorithm() != EdDSA {
			t.Errorf("alg = %s, want EdDSA", k.Algorithm())
		}
		if got := jwkThumbprint(t, k); got != want {
			t.Errorf("thumbprint = %s, want %s", got, want)
		}
	}
}

func TestThumbprintIgnoresOptionalMembers(t *testing.T) {
	for _, alg := range []Algorithm{RS256, ES384, EdDSA, HS256} {
		k := jwkTestSigner(t, alg)
		other := k.WithKeyID("another")
		if jwkThumbprint(t, k) != jwkThumbprint(t, other) {
			t.Errorf("%s: kid changed the thumbprint", alg)
		}
	}
	// Same RSA material under another RSA alg: same thumbprint.
	if jwkThumbprint(t, jwkTestSigner(t, RS256)) != jwkThumbprint(t, jwkTestSigner(t, PS512)) {
		t.Error("alg changed the thumbprint")
	}
	// Different keys: different thumbprints. jwkTestSigner draws a fresh
	// random secret for each HMAC key.
	a, b := jwkTestSigner(t, HS256), jwkTestSigner(t, HS256)
	if jwkThumbprint(t, a) == jwkThumbprint(t, b) {
		t.Error("two random HMAC keys share a thumbprint")
	}
}

func TestJWKRFC7517Examples(t *testing.T) {
	t.Run("A.1 public", func(t *testing.T) {
		set := jwkReadFixture(t, "rfc7517-a1-public.json")
		e := jwkSetEntries(t, set)
		ec, err := ParseJWK(e[0])
		if err != nil {
			t.Fatal(err)
		}
		if ec.Algorithm() != ES256 || ec.KeyID() != "1" || ec.CanSign() {
			t.Errorf("EC key: alg %s kid %q CanSign %v", ec.Algorithm(), ec.KeyID(), ec.CanSign())
		}
		rsaKey, err := ParseJWK(e[1])
		if err != nil {
			t.Fatal(err)
		}
		if rsaKey.Algorithm() != RS256 || rsaKey.KeyID() != "2011-04-29" || rsaKey.CanSign() {
			t.Errorf("RSA key: alg %s kid %q CanSign %v", rsaKey.Algorithm(), rsaKey.KeyID(), rsaKey.CanSign())
		}
		// As a set, the "use":"enc" EC key is not a signature key.
		keys, err := ParseJWKS(set)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0].KeyID() != "2011-04-29" {
			t.Fatalf("ParseJWKS kept %d keys", len(keys))
		}
	})
	t.Run("A.2 private", func(t *testing.T) {
		pubs := jwkSetEntries(t, jwkReadFixture(t, "rfc7517-a1-public.json"))
		for i, e := range jwkSetEntries(t, jwkReadFixture(t, "rfc7517-a2-private.json")) {
			k, err := ParseJWK(e)
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if !k.CanSign() {
				t.Errorf("entry %d cannot sign", i)
			}
			pub, err := ParseJWK(pubs[i])
			if err != nil {
				t.Fatal(err)
			}
			jwkSameKey(t, pub, k.Public())
		}
	})
	t.Run("A.3 symmetric", func(t *testing.T) {
		set := jwkReadFixture(t, "rfc7517-a3-symmetric.json")
		e := jwkSetEntries(t, set)
		if _, err := ParseJWK(e[0]); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("A128KW key: %v, want ErrUnsupportedAlgorithm", err)
		}
		k, err := ParseJWK(e[1])
		if err != nil {
			t.Fatal(err)
		}
		if k.Algorithm() != HS256 || len(k.secret) != 64 || k.KeyID() != "HMAC key used in JWS spec Appendix A.1 example" {
			t.Errorf("HMAC key: alg %s, %d bytes, kid %q", k.Algorithm(), len(k.secret), k.KeyID())
		}
		keys, err := ParseJWKS(set)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0].KeyID() != k.KeyID() {
			t.Fatalf("ParseJWKS kept %d keys", len(keys))
		}
	})
}

func TestJWKWeakSecret(t *testing.T) {
	short := base64.RawURLEncoding.EncodeToString([]byte("my_super_secret_key"))
	doc := []byte(`{"kty":"oct","k":"` + short + `"}`)
	_, err := ParseJWK(doc)
	if !errors.Is(err, ErrWeakKey) {
		t.Fatalf("ParseJWK(short secret) = %v, want ErrWeakKey", err)
	}
	if strings.Contains(err.Error(), short) || strings.Contains(err.Error(), "my_super") {
		t.Errorf("error leaks the secret: %v", err)
	}
	k, err := ParseJWKInsecureWeakSecret(doc)
	if err != nil {
		t.Fatal(err)
	}
	if k.Algorithm() != HS256 || !k.CanSign() || string(k.secret) != "my_super_secret_key" {
		t.Errorf("insecure parse: alg %s", k.Algorithm())
	}
	// A set refuses it too: a weak entry of a supported type is an error.
	if _, err := ParseJWKS([]byte(`{"keys":[` + string(doc) + `]}`)); !errors.Is(err, ErrWeakKey) {
		t.Errorf("ParseJWKS(short secret) = %v, want ErrWeakKey", err)
	}
	// Long enough for HS256 but not for the HS512 it claims.
	k32 := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	if _, err := ParseJWK([]byte(`{"kty":"oct","alg":"HS512","k":"` + k32 + `"}`)); !errors.Is(err, ErrWeakKey) {
		t.Errorf("HS512 with 32 bytes = %v, want ErrWeakKey", err)
	}
	// The insecure variant still refuses an empty secret and non-oct junk.
	for _, d := range []string{`{"kty":"oct","k":""}`, `{"kty":"oct"}`, `{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`} {
		if _, err := ParseJWKInsecureWeakSecret([]byte(d)); err == nil {
			t.Errorf("ParseJWKInsecureWeakSecret(%s) succeeded", d)
		}
	}
}

func TestJWKRSA1024IsWeak(t *testing.T) {
	r, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	doc := `{"kty":"RSA","n":"` + enc(r.N.Bytes()) + `","e":"AQAB"}`
	if _, err := ParseJWK([]byte(doc)); !errors.Is(err, ErrWeakKey) {
		t.Errorf("public 1024-bit key: %v, want ErrWeakKey", err)
	}
	r.Precompute()
	priv := `{"kty":"RSA","n":"` + enc(r.N.Bytes()) + `","e":"AQAB","d":"` + enc(r.D.Bytes()) +
		`","p":"` + enc(r.Primes[0].Bytes()) + `","q":"` + enc(r.Primes[1].Bytes()) + `"}`
	if _, err := ParseJWK([]byte(priv)); !errors.Is(err, ErrWeakKey) {
		t.Errorf("private 1024-bit key: %v, want ErrWeakKey", err)
	}
}

func TestParseJWKErrors(t *testing.T) {
	es256 := jwkTestSigner(t, ES256)
	rs256 := jwkTestSigner(t, RS256)
	ed := jwkTestSigner(t, EdDSA)
	set := func(name string, v any) func(map[string]any) { return func(m map[string]any) { m[name] = v } }
	del := func(names ...string) func(map[string]any) {
		return func(m map[string]any) {
			for _, n := range names {
				delete(m, n)
			}
		}
	}
	b64 := base64.RawURLEncoding.EncodeToString
	otherEC := jwkMembers(t, jwkMust(jwkMust2(GenerateKey(ES256)).MarshalPrivateJWK()))
	p384 := jwkMembers(t, jwkMust(jwkTestSigner(t, ES384).MarshalPrivateJWK()))
	_, otherED, _ := ed25519.GenerateKey(rand.Reader)
	x := jwkMembers(t, jwkMust(es256.MarshalPublicJWK()))["x"].(string)
	xb, _ := base64.RawURLEncoding.DecodeString(x)
	n := jwkMembers(t, jwkMust(rs256.MarshalPublicJWK()))["n"].(string)
	nb, _ := base64.RawURLEncoding.DecodeString(n)

	tests := []struct {
		name string
		doc  []byte
		want error
	}{
		{"empty", nil, ErrInvalidKey},
		{"not JSON", []byte("garbage"), ErrInvalidKey},
		{"array", []byte(`[{"kty":"oct"}]`), ErrInvalidKey},
		{"string", []byte(`"kty"`), ErrInvalidKey},
		{"truncated", []byte(`{"kty":"EC","crv":"P-256"`), ErrInvalidKey},
		{"trailing data", append(jwkMust(es256.MarshalPublicJWK()), []byte(` {}`)...), ErrInvalidKey},
		{"duplicate member", []byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), ErrInvalidKey},
		{"duplicate kty", []byte(`{"kty":"OKP","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), ErrInvalidKey},
		{"case-folded member is not d", jwkEdit(t, ed, true, func(m map[string]any) { m["D"] = m["d"]; delete(m, "d") }), nil},
		{"no kty", jwkEdit(t, es256, false, del("kty")), ErrInvalidKey},
		{"unknown kty", jwkEdit(t, es256, false, set("kty", "DSA")), ErrInvalidKey},
		{"kty not a string", jwkEdit(t, es256, false, set("kty", 1)), ErrInvalidKey},
		{"kid not a string", jwkEdit(t, es256, false, set("kid", 7)), ErrInvalidKey},
		{"kid null", jwkEdit(t, es256, false, set("kid", nil)), ErrInvalidKey},
		{"key_ops not strings", jwkEdit(t, es256, false, set("key_ops", []int{1})), ErrInvalidKey},
		{"alg none", jwkEdit(t, es256, false, set("alg", "none")), ErrUnsupportedAlgorithm},
		{"alg unknown", jwkEdit(t, es256, false, set("alg", "ES256K")), ErrUnsupportedAlgorithm},
		{"EC P-256 with ES384", jwkEdit(t, es256, false, set("alg", "ES384")), ErrInvalidKey},
		{"EC with RS256", jwkEdit(t, es256, false, set("alg", "RS256")), ErrInvalidKey},
		{"EC with HS256", jwkEdit(t, es256, false, set("alg", "HS256")), ErrInvalidKey},
		{"RSA with ES256", jwkEdit(t, rs256, false, set("alg", "ES256")), ErrInvalidKey},
		{"RSA with HS256", jwkEdit(t, rs256, false, set("alg", "HS256")), ErrInvalidKey},
		{"OKP with ES256", jwkEdit(t, ed, false, set("alg", "ES256")), ErrInvalidKey},
		{"oct with RS256", []byte(`{"kty":"oct","alg":"RS256","k":"` + b64(make([]byte, 64)) + `"}`), ErrInvalidKey},
		{"EC curve unknown", jwkEdit(t, es256, false, set("crv", "secp256k1")), ErrInvalidKey},
		{"EC P-256 key labelled P-384", jwkEdit(t, es256, false, func(m map[string]any) { m["crv"] = "P-384"; delete(m, "alg") }), ErrInvalidKey},
		{"EC no y", jwkEdit(t, es256, false, del("y")), ErrInvalidKey},
		{"EC short x", jwkEdit(t, es256, false, set("x", b64(xb[1:]))), ErrInvalidKey},
		{"EC long x", jwkEdit(t, es256, false, set("x", b64(append([]byte{0}, xb...)))), ErrInvalidKey},
		{"EC point not on curve", jwkEdit(t, es256, false, set("x", b64(bytes.Repeat([]byte{1}, 32)))), ErrInvalidKey},
		{"EC padded base64", jwkEdit(t, es256, false, set("x", x+"=")), ErrInvalidKey},
		{"EC std base64", jwkEdit(t, es256, false, set("x", "+"+x[1:])), ErrInvalidKey},
		{"EC d of another key", jwkEdit(t, es256, true, set("d", otherEC["d"])), ErrInvalidKey},
		{"EC d zero", jwkEdit(t, es256, true, set("d", b64(make([]byte, 32)))), ErrInvalidKey},
		{"EC d too long", jwkEdit(t, es256, true, set("d", p384["d"])), ErrInvalidKey},
		{"OKP X25519", []byte(`{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`), ErrInvalidKey},
		{"OKP Ed448", []byte(`{"kty":"OKP","crv":"Ed448","x":"X9dEm1m0Yf0s54fsYWrUah2hNCSFpw4fig6nXYDpZ3jt8SR2m0bHBhvWeD3x5Q9s0foavq_oJWGA"}`), ErrInvalidKey},
		{"OKP no crv", jwkEdit(t, ed, false, del("crv")), ErrInvalidKey},
		{"OKP short x", []byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}`), ErrInvalidKey},
		{"OKP d of another key", jwkEdit(t, ed, true, set("d", b64(otherED.Seed()))), ErrInvalidKey},
		{"OKP short d", jwkEdit(t, ed, true, set("d", b64(otherED.Seed()[1:]))), ErrInvalidKey},
		{"EC short d", jwkEdit(t, es256, true, set("d", b64(make([]byte, 31)))), ErrInvalidKey},
		{"OKP d full private key", jwkEdit(t, ed, true, set("d", b64(ed.priv.(ed25519.PrivateKey)))), ErrInvalidKey},
		{"RSA no e", jwkEdit(t, rs256, false, del("e")), ErrInvalidKey},
		{"RSA even e", jwkEdit(t, rs256, false, set("e", "AQAA")), ErrInvalidKey},
		{"RSA huge e", jwkEdit(t, rs256, false, set("e", b64([]byte{1, 0, 0, 0, 1}))), ErrInvalidKey},
		{"RSA n leading zero", jwkEdit(t, rs256, false, set("n", b64(append([]byte{0}, nb...)))), ErrInvalidKey},
		{"RSA e leading zero", jwkEdit(t, rs256, false, set("e", "AAEAAQ")), ErrInvalidKey},
		{"RSA n non-canonical base64", jwkEdit(t, rs256, false, set("n", n[:len(n)-1]+"x")), ErrInvalidKey},
		{"RSA huge n", jwkEdit(t, rs256, false, set("n", b64(append([]byte{0xff}, make([]byte, 16384/8)...)))), ErrInvalidKey},
		{"RSA d without p q", jwkEdit(t, rs256, true, del("p", "q", "dp", "dq", "qi")), ErrInvalidKey},
		{"RSA p without d", jwkEdit(t, rs256, true, del("d")), ErrInvalidKey},
		{"RSA wrong d", jwkEdit(t, rs256, true, func(m map[string]any) { m["d"] = m["dp"] }), ErrInvalidKey},
		{"RSA wrong dp", jwkEdit(t, rs256, true, func(m map[string]any) { m["dp"] = m["dq"] }), ErrInvalidKey},
		{"RSA wrong qi", jwkEdit(t, rs256, true, func(m map[string]any) { m["qi"] = m["dq"] }), ErrInvalidKey},
		{"RSA swapped p q", jwkEdit(t, rs256, true, func(m map[string]any) { m["p"], m["q"] = m["q"], m["p"] }), ErrInvalidKey},
		{"RSA multi-prime", jwkEdit(t, rs256, true, set("oth", []any{})), ErrInvalidKey},
		{"oct no k", []byte(`{"kty":"oct"}`), ErrInvalidKey},
		{"oct empty k", []byte(`{"kty":"oct","k":""}`), ErrInvalidKey},
		{"oct padded k", []byte(`{"kty":"oct","k":"` + base64.URLEncoding.EncodeToString(make([]byte, 64)) + `x"}`), ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseJWK(tc.doc)
			if tc.want == nil {
				// Only the exact name "d" is a private member.
				if err != nil || k.CanSign() {
					t.Fatalf("ParseJWK = %v, CanSign %v; want a public key", err, err == nil && k.CanSign())
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseJWK = %v, want %v\n%s", err, tc.want, tc.doc)
			}
		})
	}
}

// jwkMust is for test setup that cannot fail with valid keys.
func jwkMust(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func jwkMust2(k *Key, err error) *Key {
	if err != nil {
		panic(err)
	}
	return k
}

func TestParseJWKS(t *testing.T) {
	es := jwkTestSigner(t, ES256).WithKeyID("es")
	rs := jwkTestSigner(t, PS256).WithKeyID("rs")
	ed := jwkTestSigner(t, EdDSA).WithKeyID("ed")
	hs := jwkTestSigner(t, HS384).WithKeyID("hs")
	pub := func(k *Key) string { return string(jwkMust(k.MarshalPublicJWK())) }
	edit := func(k *Key, f func(map[string]any)) string { return string(jwkEdit(t, k, false, f)) }
	skipped := []string{
		edit(es, func(m map[string]any) { m["use"] = "enc"; m["kid"] = "enc" }),
		edit(es, func(m map[string]any) { m["key_ops"] = []string{"encrypt", "wrapKey"}; m["kid"] = "ops" }),
		edit(rs, func(m map[string]any) { m["alg"] = "RSA-OAEP"; m["kid"] = "oaep" }),
		`{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`,
		`{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}`,
		`{"kty":"oct","alg":"A128KW","k":"GawgguFyGrWKav7AX4VKUg"}`,
		`{"kty":"PQC","x":"AA"}`,
	}
	join := func(entries ...string) []byte {
		return []byte(`{"keys":[` + strings.Join(entries, ",") + `],"extra":1}`)
	}
	good := []string{pub(es), skipped[0], pub(rs), skipped[1], skipped[2], pub(ed), skipped[3], skipped[4], string(jwkMust(hs.MarshalPrivateJWK())), skipped[5], skipped[6]}
	keys, err := ParseJWKS(join(good...))
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KeyID())
	}
	if strings.Join(kids, ",") != "es,rs,ed,hs" {
		t.Fatalf("kept keys %v, want es,rs,ed,hs", kids)
	}
	jwkSameKey(t, rs.Public(), keys[1])
	jwkSameKey(t, hs, keys[3])

	bad := []struct {
		name string
		doc  []byte
		want error
	}{
		{"not an object", []byte(`[]`), ErrInvalidKey},
		{"no keys", []byte(`{"kes":[]}`), ErrInvalidKey},
		{"keys not array", []byte(`{"keys":{}}`), ErrInvalidKey},
		{"duplicate keys member", []byte(`{"keys":[` + pub(es) + `],"keys":[` + pub(rs) + `]}`), ErrInvalidKey},
		{"empty", join(), ErrInvalidKey},
		{"only skipped", join(skipped...), ErrInvalidKey},
		{"entry not object", join(pub(es), `"x"`), ErrInvalidKey},
		{"duplicate kid", join(pub(es), pub(ed.WithKeyID("es"))), ErrInvalidKey},
		{"invalid supported entry", join(pub(es), edit(rs, func(m map[string]any) { m["e"] = "AQAA" })), ErrInvalidKey},
		{"wrong curve for alg", join(pub(ed), edit(es, func(m map[string]any) { m["alg"] = "ES512" })), ErrInvalidKey},
		{"weak secret", join(pub(es), `{"kty":"oct","k":"c2VjcmV0"}`), ErrWeakKey},
		{"trailing garbage", append(join(pub(es)), '}'), ErrInvalidKey},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if keys, err := ParseJWKS(tc.doc); !errors.Is(err, tc.want) {
				t.Fatalf("ParseJWKS = %d keys, %v; want %v", len(keys), err, tc.want)
			}
		})
	}
}

func TestMarshalJWKS(t *testing.T) {
	in := []*Key{
		jwkTestSigner(t, RS384).WithKeyID("a"),
		jwkTestSigner(t, ES512).WithKeyID("b"),
		jwkTestSigner(t, EdDSA).Public().WithKeyID("c"),
	}
	b, err := MarshalJWKS(in...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseJWKS(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d keys, want %d", len(out), len(in))
	}
	for i := range in {
		jwkSameKey(t, in[i].Public(), out[i])
	}
	if _, err := MarshalJWKS(in[0], in[1].WithKeyID("a")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("duplicate kid: %v, want ErrInvalidKey", err)
	}
	if _, err := MarshalJWKS(in[0], nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: %v, want ErrInvalidKey", err)
	}
	if b, err := MarshalJWKS(); err != nil || string(b) != `{"keys":[]}` {
		t.Errorf("empty set = %s, %v", b, err)
	}
}

// FuzzParseJWK checks that parsing never panics and that any accepted key
// survives a marshal/parse round trip with the same thumbprint, alg and
// kid.
func FuzzParseJWK(f *testing.F) {
	for _, name := range []string{"rfc8037-a1-ed25519.json"} {
		f.Add(jwkReadFixture(f, name))
	}
	for _, set := range []string{"rfc7517-a1-public.json", "rfc7517-a2-private.json", "rfc7517-a3-symmetric.json"} {
		for _, e := range jwkSetEntries(f, jwkReadFixture(f, set)) {
			f.Add([]byte(e))
		}
	}
	f.Add([]byte(`{"kty":"oct","k":"c2VjcmV0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		strict, strictErr := ParseJWK(data)
		k, err := ParseJWKInsecureWeakSecret(data)
		if strictErr == nil && err != nil {
			t.Fatalf("strict parse accepted what the insecure one refused: %v", err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrWeakKey) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if strict != nil && jwkThumbprint(t, strict) != jwkThumbprint(t, k) {
			t.Fatal("strict and insecure parses differ")
		}
		tp := jwkThumbprint(t, k)
		var out []byte
		if k.CanSign() {
			out, err = k.MarshalPrivateJWK()
		} else {
			out, err = k.MarshalPublicJWK()
		}
		if err != nil {
			t.Fatalf("accepted key does not marshal: %v", err)
		}
		back, err := ParseJWKInsecureWeakSecret(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if got := jwkThumbprint(t, back); got != tp {
			t.Fatalf("thumbprint %s after round trip, was %s", got, tp)
		}
		if back.Algorithm() != k.Algorithm() || back.KeyID() != k.KeyID() || back.CanSign() != k.CanSign() {
			t.Fatalf("round trip changed alg/kid/CanSign: %s %q -> %s %q", k.Algorithm(), k.KeyID(), back.Algorithm(), back.KeyID())
		}
		// Marshaling is canonical: a second round trip is byte-identical.
		var again []byte
		if back.CanSign() {
			again, _ = back.MarshalPrivateJWK()
		} else {
			again, _ = back.MarshalPublicJWK()
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, again)
		}
		// For a caller's alg: the same material bound to that alg, never
		// another alg than a JWK names, and always the alg ParseJWK chose.
		j, _ := decodeJWK(data)
		for _, alg := range Algorithms() {
			kf, err := ParseJWKInsecureWeakSecretFor(data, alg)
			if err != nil {
				if alg == k.Algorithm() {
					t.Fatalf("ParseJWK gave %s but ParseJWKFor(%s) fails: %v", alg, alg, err)
				}
				continue
			}
			if kf.Algorithm() != alg || j.Alg != "" && j.Alg != string(alg) || jwkThumbprint(t, kf) != tp {
				t.Fatalf("ParseJWKFor(%s) gave alg %s from a JWK naming %q", alg, kf.Algorithm(), j.Alg)
			}
		}
	})
}

// RFC 7517 section 4.4 makes "alg" optional. A JWK without it serves
// whichever algorithm of its type the caller names; a JWK with it serves
// that one alone.
func TestJWKWithoutAlgServesTheCallersAlgorithm(t *testing.T) {
	noAlg := func(k *Key, private bool) []byte {
		return jwkEdit(t, k, private, func(m map[string]any) { delete(m, "alg") })
	}
	cases := []struct {
		signer  Algorithm   // the test key the JWK is made from
		private bool        // a private (signing) JWK, else public
		ok      []Algorithm // what the alg-less JWK must serve
		refused []Algorithm // of another type: ErrInvalidKey
	}{
		{RS256, false, []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512}, []Algorithm{HS256, ES256, EdDSA}},
		{RS256, true, []Algorithm{RS384, PS256, PS512}, []Algorithm{HS512, ES384}},
		{HS512, true, []Algorithm{HS256, HS384, HS512}, []Algorithm{RS256, ES256, EdDSA}},
		{ES256, false, []Algorithm{ES256}, []Algorithm{ES384, ES512, RS256, HS256}},
		{ES384, true, []Algorithm{ES384}, []Algorithm{ES256, PS384}},
		{EdDSA, false, []Algorithm{EdDSA}, []Algorithm{ES256, HS256}},
	}
	for _, tc := range cases {
		src := jwkTestSigner(t, tc.signer)
		doc := noAlg(src, tc.private || src.IsSymmetric())
		for _, alg := range tc.ok {
			t.Run(fmt.Sprintf("%s/%v/%s", tc.signer, tc.private, alg), func(t *testing.T) {
				k, err := ParseJWKFor(doc, alg)
				if err != nil {
					t.Fatalf("ParseJWKFor(%s): %v", alg, err)
				}
				if k.Algorithm() != alg || k.KeyID() != "test-kid" || k.CanSign() != (tc.private || src.IsSymmetric()) {
					t.Fatalf("key alg %s kid %q CanSign %v", k.Algorithm(), k.KeyID(), k.CanSign())
				}
				// The key verifies what the same material signs with alg.
				var signer *Key
				if src.IsSymmetric() {
					signer = rfcOK(NewHMACKey(alg, src.secret))
				} else {
					signer = rfcOK(NewSigningKey(alg, src.priv))
				}
				tok := rfcOK(Sign(signer, Claims{Subject: "x"}))
				v := rfcOK(NewVerifier([]*Key{k}, AllowMissingExp()))
				if err := v.Verify(tok, nil); err != nil {
					t.Fatalf("verify %s: %v", alg, err)
				}
				// So does ParseJWKSFor for a set holding it.
				keys, err := ParseJWKSFor([]byte(`{"keys":[`+string(doc)+`]}`), alg)
				if err != nil || len(keys) != 1 || keys[0].Algorithm() != alg {
					t.Fatalf("ParseJWKSFor(%s) = %v, %v", alg, keys, err)
				}
			})
		}
		for _, alg := range tc.refused {
			if k, err := ParseJWKFor(doc, alg); !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrWeakKey) {
				t.Errorf("%s JWK for %s: %v, %v; want ErrInvalidKey", tc.signer, alg, k, err)
			}
			if _, err := ParseJWKSFor([]byte(`{"keys":[`+string(doc)+`]}`), alg); !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "no "+string(alg)+" key") {
				t.Errorf("%s JWKS for %s: %v, want no %s key", tc.signer, alg, err, alg)
			}
		}
		// Without a wanted alg: the natural one, as ParseJWK.
		natural := map[Algorithm]Algorithm{RS256: RS256, HS512: HS256, ES256: ES256, ES384: ES384, EdDSA: EdDSA}[tc.signer]
		if k, err := ParseJWKFor(doc, ""); err != nil || k.Algorithm() != natural {
			t.Errorf("%s JWK for \"\": %v, %v; want %s", tc.signer, k, err, natural)
		}
	}

	// A JWK that names its alg serves that alg alone.
	rs := jwkTestSigner(t, RS256)
	named, err := rs.MarshalPublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	if k, err := ParseJWKFor(named, RS256); err != nil || k.Algorithm() != RS256 {
		t.Errorf("named RS256 for RS256: %v, %v", k, err)
	}
	for _, alg := range []Algorithm{RS384, PS256, ES256, HS256} {
		if _, err := ParseJWKFor(named, alg); !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "the JWK is for RS256, not "+string(alg)) {
			t.Errorf("named RS256 for %s: %v", alg, err)
		}
	}
	// A set keeps the entries that name alg or name none and suit it.
	es := jwkTestSigner(t, ES256).WithKeyID("es")
	esNamed, _ := es.MarshalPublicJWK()
	rsBare := jwkEdit(t, rs.WithKeyID("rs-bare"), false, func(m map[string]any) { delete(m, "alg") })
	set := []byte(`{"keys":[` + string(named) + `,` + string(esNamed) + `,` + string(rsBare) + `]}`)
	for alg, kids := range map[Algorithm][]string{RS256: {"test-kid", "rs-bare"}, PS384: {"rs-bare"}, ES256: {"es"}} {
		keys, err := ParseJWKSFor(set, alg)
		if err != nil || len(keys) != len(kids) {
			t.Errorf("ParseJWKSFor(%s) = %d keys, %v; want %v", alg, len(keys), err, kids)
			continue
		}
		for i, k := range keys {
			if k.KeyID() != kids[i] || k.Algorithm() != alg {
				t.Errorf("ParseJWKSFor(%s) key %d: kid %q alg %s", alg, i, k.KeyID(), k.Algorithm())
			}
		}
	}
	// An alg of the key's type that the secret is too short for: weak.
	k32 := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	if _, err := ParseJWKFor([]byte(`{"kty":"oct","k":"`+k32+`"}`), HS512); !errors.Is(err, ErrWeakKey) {
		t.Errorf("32-byte secret for HS512: %v, want ErrWeakKey", err)
	}
	short := base64.RawURLEncoding.EncodeToString([]byte("my_super_secret_key"))
	if k, err := ParseJWKInsecureWeakSecretFor([]byte(`{"kty":"oct","k":"`+short+`"}`), HS384); err != nil || k.Algorithm() != HS384 {
		t.Errorf("weak secret for HS384: %v, %v", k, err)
	}
	if _, err := ParseJWKFor(named, "none"); err == nil {
		t.Error(`ParseJWKFor(alg "none") succeeded`)
	}
}
