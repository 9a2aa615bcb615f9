package jwt

// Published test vectors: RFC 7515 appendix A (JWS examples), RFC 8037
// appendix A.4 (Ed25519), RFC 7520 section 4 (JOSE cookbook signatures)
// and a widely copied teaching example. The deterministic algorithms
// (HMAC, RSASSA-PKCS1-v1_5, Ed25519) must reproduce the published tokens
// byte for byte; the randomized ones (ECDSA, RSA-PSS) must verify them.
//
// Sources of the values (checked against each other):
//   - RFC 7515 appendix A.1-A.4: the RFC text, as quoted in the test suites
//     of several JOSE libraries (e.g. the A.2 key members n, e, d, p, q,
//     dp, dq, qi and the A.3/A.4 EC keys).
//   - RFC 8037 appendix A.1/A.4: the RFC text; the key is also in
//     testdata/keys/rfc8037-a1-ed25519.json.
//   - RFC 7520 sections 3.3 (Figure 4, RSA private key), 3.2 (Figure 1,
//     P-521 public key), 3.5 (Figure 5, HMAC key), 4 (Figures 7/8,
//     payload) and 4.1-4.4 (Figures 13, 20, 27, 34, compact results).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"testing"
	"time"
)

// rfcB64 decodes an unpadded base64url value from an RFC, strictly.
func rfcB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64url in test vector %.20q...: %v", s, err)
	}
	return b
}

func rfcInt(t testing.TB, s string) *big.Int {
	t.Helper()
	return new(big.Int).SetBytes(rfcB64(t, s))
}

// rfcRSAJWK holds the members of an RSA private JWK.
type rfcRSAJWK struct{ n, e, d, p, q, dp, dq, qi string }

// rfcRSAKey builds an *rsa.PrivateKey from JWK members with math/big and
// checks that Go's precomputed CRT values equal the published dp, dq, qi.
func rfcRSAKey(t testing.TB, j rfcRSAJWK) *rsa.PrivateKey {
	t.Helper()
	e := rfcInt(t, j.e)
	if !e.IsInt64() {
		t.Fatal("RSA exponent too large")
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: rfcInt(t, j.n), E: int(e.Int64())},
		D:         rfcInt(t, j.d),
		Primes:    []*big.Int{rfcInt(t, j.p), rfcInt(t, j.q)},
	}
	k.Precompute()
	if err := k.Validate(); err != nil {
		t.Fatalf("RFC RSA key does not validate: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want *big.Int
	}{
		{"dp", k.Precomputed.Dp, rfcInt(t, j.dp)},
		{"dq", k.Precomputed.Dq, rfcInt(t, j.dq)},
		{"qi", k.Precomputed.Qinv, rfcInt(t, j.qi)},
	} {
		if c.got.Cmp(c.want) != 0 {
			t.Fatalf("RFC RSA key: precomputed %s differs from the published value", c.name)
		}
	}
	return k
}

// rfcECPublic builds a public key from the JWK x and y members.
func rfcECPublic(t testing.TB, c elliptic.Curve, x, y string) *ecdsa.PublicKey {
	t.Helper()
	pt := append([]byte{4}, rfcB64(t, x)...)
	pt = append(pt, rfcB64(t, y)...)
	pub, err := ecdsa.ParseUncompressedPublicKey(c, pt)
	if err != nil {
		t.Fatalf("RFC EC public key: %v", err)
	}
	return pub
}

// rfcECPrivate builds a private key from d and checks it against x and y.
func rfcECPrivate(t testing.TB, c elliptic.Curve, x, y, d string) *ecdsa.PrivateKey {
	t.Helper()
	priv, err := ecdsa.ParseRawPrivateKey(c, rfcB64(t, d))
	if err != nil {
		t.Fatalf("RFC EC private key: %v", err)
	}
	if !priv.PublicKey.Equal(rfcECPublic(t, c, x, y)) {
		t.Fatal("RFC EC private key d does not match x, y")
	}
	return priv
}

// rfcOK unwraps a constructor's result; a failure panics, which fails
// the test with a stack trace pointing at the call.
func rfcOK[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func rfcClock(sec int64) Option {
	return WithClock(func() time.Time { return time.Unix(sec, 0) })
}

// The JWS Payload shared by RFC 7515 appendices A.1-A.3: the JSON text
// {"iss":"joe",CRLF "exp":1300819380,CRLF "http://example.com/is_root":true}.
const (
	rfc7515Payload    = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
	rfc7515PayloadB64 = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	rfc7515Exp        = 1300819380
)

func TestRFC7515PayloadEncoding(t *testing.T) {
	if got := base64.RawURLEncoding.EncodeToString([]byte(rfc7515Payload)); got != rfc7515PayloadB64 {
		t.Fatalf("payload encodes to %s, RFC says %s", got, rfc7515PayloadB64)
	}
}

// RFC 7515 appendix A.1: HS256, JWK oct key.
func TestRFC7515A1HS256(t *testing.T) {
	const (
		k     = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
		hdr   = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" // {"typ":"JWT",CRLF "alg":"HS256"}
		sig   = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		token = hdr + "." + rfc7515PayloadB64 + "." + sig
	)
	if got := string(rfcB64(t, hdr)); got != "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}" {
		t.Fatalf("A.1 header decodes to %q", got)
	}
	key := rfcOK(NewHMACKey(HS256, rfcB64(t, k)))

	// Signing the exact signing input reproduces the signature.
	out, err := key.appendSignature([]byte(hdr + "." + rfc7515PayloadB64))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != token {
		t.Fatalf("A.1 signature:\n got %s\nwant %s", out, token)
	}

	v := rfcOK(NewVerifier([]*Key{key}, rfcClock(rfc7515Exp-1), WithIssuer("joe")))
	var c struct {
		Claims
		Root bool `json:"http://example.com/is_root"`
	}
	if err := v.Verify(token, &c); err != nil {
		t.Fatalf("A.1 token refused: %v", err)
	}
	if c.Issuer != "joe" || c.ExpiresAt.Unix() != rfc7515Exp || !c.Root {
		t.Fatalf("A.1 claims: %+v", c)
	}
	var reg Claims
	if err := v.Verify(token, &reg); err != nil || reg.Issuer != "joe" || reg.ExpiresAt.Unix() != rfc7515Exp {
		t.Fatalf("A.1 into *Claims: %+v, %v", reg, err)
	}
	p, err := v.VerifyJWS(token)
	if err != nil || string(p) != rfc7515Payload {
		t.Fatalf("A.1 VerifyJWS = %q, %v", p, err)
	}

	// At exp the token is expired (RFC 7519 4.1.4: "on or after").
	late := rfcOK(NewVerifier([]*Key{key}, rfcClock(rfc7515Exp)))
	if err := late.Verify(token, nil); !errors.Is(err, ErrExpired) {
		t.Fatalf("A.1 at exp: err = %v, want ErrExpired", err)
	}
	// One flipped bit of the key fails.
	bad := rfcB64(t, k)
	bad[0] ^= 1
	other := rfcOK(NewVerifier([]*Key{rfcOK(NewHMACKey(HS256, bad))}, rfcClock(rfc7515Exp-1)))
	if err := other.Verify(token, nil); !errors.Is(err, ErrSignature) {
		t.Fatalf("A.1 with another key: err = %v, want ErrSignature", err)
	}
}

// RFC 7515 appendix A.2 key (also RFC 7515 A.6, A.7).
var rfc7515A2Key = rfcRSAJWK{
	n:  "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
	e:  "AQAB",
	d:  "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
	p:  "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
	q:  "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
	dp: "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
	dq: "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
	qi: "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
}

// RFC 7515 appendix A.2: RS256. PKCS#1 v1.5 is deterministic, so SignJWS
// (whose header is exactly {"alg":"RS256"}) reproduces the whole token.
func TestRFC7515A2RS256(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9." + rfc7515PayloadB64 + "." +
		"cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
	priv := rfcRSAKey(t, rfc7515A2Key)
	key := rfcOK(NewSigningKey(RS256, priv))
	got, err := SignJWS(key, []byte(rfc7515Payload))
	if err != nil {
		t.Fatal(err)
	}
	if got != token {
		t.Fatalf("A.2 token:\n got %s\nwant %s", got, token)
	}
	for _, k := range []*Key{key, key.Public(), rfcOK(NewVerificationKey(RS256, &priv.PublicKey))} {
		v := rfcOK(NewVerifier([]*Key{k}, rfcClock(rfc7515Exp-1)))
		if err := v.Verify(token, nil); err != nil {
			t.Fatalf("A.2 token refused: %v", err)
		}
	}
	// The same key bound to PS256 must not accept it.
	ps := rfcOK(NewVerifier([]*Key{rfcOK(NewVerificationKey(PS256, &priv.PublicKey))}, rfcClock(rfc7515Exp-1)))
	if err := ps.Verify(token, nil); !errors.Is(err, ErrAlgorithmMismatch) {
		t.Fatalf("A.2 token with a PS256 key: err = %v, want ErrAlgorithmMismatch", err)
	}
}

// RFC 7515 appendix A.3 key (P-256).
const (
	rfc7515A3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
	rfc7515A3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
	rfc7515A3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
)

// RFC 7515 appendix A.3: ES256 (randomized: verify, then round-trip).
func TestRFC7515A3ES256(t *testing.T) {
	const token = "eyJhbGciOiJFUzI1NiJ9." + rfc7515PayloadB64 + "." +
		"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
	priv := rfcECPrivate(t, elliptic.P256(), rfc7515A3X, rfc7515A3Y, rfc7515A3D)
	key := rfcOK(NewSigningKey(ES256, priv))
	v := rfcOK(NewVerifier([]*Key{key.Public()}, rfcClock(rfc7515Exp-1)))
	if err := v.Verify(token, nil); err != nil {
		t.Fatalf("A.3 token refused: %v", err)
	}
	p, err := v.VerifyJWS(token)
	if err != nil || string(p) != rfc7515Payload {
		t.Fatalf("A.3 VerifyJWS = %q, %v", p, err)
	}

	// Round trip: our signature is R||S, 64 bytes, and verifies.
	mine, err := SignJWS(key, []byte(rfc7515Payload))
	if err != nil {
		t.Fatal(err)
	}
	if mine[:len("eyJhbGciOiJFUzI1NiJ9.")] != "eyJhbGciOiJFUzI1NiJ9." {
		t.Fatalf("ES256 header: %s", mine)
	}
	seg := bytes.Split([]byte(mine), []byte("."))
	if n := len(rfcB64(t, string(seg[2]))); n != 64 {
		t.Fatalf("ES256 signature has %d bytes, want 64", n)
	}
	if err := v.Verify(mine, nil); err != nil {
		t.Fatalf("own ES256 token refused: %v", err)
	}
	jwt, err := Sign(key, &Claims{Issuer: "joe", ExpiresAt: NumericDate{time.Unix(rfc7515Exp, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	var c Claims
	if err := v.Verify(jwt, &c); err != nil || c.Issuer != "joe" {
		t.Fatalf("own ES256 JWT: %+v, %v", c, err)
	}
}

// RFC 7515 appendix A.4: ES512 over the non-JSON payload "Payload".
func TestRFC7515A4ES512(t *testing.T) {
	const (
		x     = "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk"
		y     = "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"
		d     = "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM9mE15j2C"
		token = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA." +
			"AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn"
	)
	priv := rfcECPrivate(t, elliptic.P521(), x, y, d)
	key := rfcOK(NewSigningKey(ES512, priv))
	v := rfcOK(NewVerifier([]*Key{key.Public()}))
	p, err := v.VerifyJWS(token)
	if err != nil {
		t.Fatalf("A.4 token refused: %v", err)
	}
	if string(p) != "Payload" {
		t.Fatalf("A.4 payload = %q", p)
	}
	// It is a JWS, not a JWT: Verify must refuse the non-JSON payload.
	if err := v.Verify(token, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("A.4 through Verify: err = %v, want ErrMalformed", err)
	}
	// The signature is 132 bytes (2 x 66): round trip with our own.
	mine, err := SignJWS(key, []byte("Payload"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.VerifyJWS(mine); err != nil || string(p) != "Payload" {
		t.Fatalf("own ES512 JWS: %q, %v", p, err)
	}
	// An ES256 header on the same key is an algorithm mismatch.
	bad := "eyJhbGciOiJFUzI1NiJ9.UGF5bG9hZA." + token[len("eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."):]
	if _, err := v.VerifyJWS(bad); !errors.Is(err, ErrAlgorithmMismatch) {
		t.Fatalf("ES256 header on an ES512 key: err = %v, want ErrAlgorithmMismatch", err)
	}
}

// RFC 8037 appendix A.1 key and A.4 signature: Ed25519 is deterministic.
func TestRFC8037A4Ed25519(t *testing.T) {
	const (
		d     = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
		x     = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
		token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc." +
			"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
	)
	priv := ed25519.NewKeyFromSeed(rfcB64(t, d))
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), rfcB64(t, x)) {
		t.Fatal("RFC 8037 A.1: public key derived from d differs from x")
	}
	key := rfcOK(NewSigningKey(EdDSA, priv))
	got, err := SignJWS(key, []byte("Example of Ed25519 signing"))
	if err != nil {
		t.Fatal(err)
	}
	if got != token {
		t.Fatalf("RFC 8037 A.4:\n got %s\nwant %s", got, token)
	}
	pub := rfcOK(NewVerificationKey(EdDSA, ed25519.PublicKey(rfcB64(t, x))))
	v := rfcOK(NewVerifier([]*Key{pub}))
	p, err := v.VerifyJWS(token)
	if err != nil || string(p) != "Example of Ed25519 signing" {
		t.Fatalf("RFC 8037 A.5 verification: %q, %v", p, err)
	}
	// A.5 also says: a modified signature must fail.
	sig := rfcB64(t, token[len(token)-86:])
	sig[10] ^= 0x40
	bad := token[:len(token)-86] + base64.RawURLEncoding.EncodeToString(sig)
	if _, err := v.VerifyJWS(bad); !errors.Is(err, ErrSignature) {
		t.Fatalf("modified Ed25519 signature: err = %v, want ErrSignature", err)
	}
}

// RFC 7520 section 4: the payload of every JWS example, Figure 7, whose
// exact bytes are fixed by its base64url encoding, Figure 8. Note the two
// U+2019 apostrophes next to the ASCII one in "don't"; the text has no
// line breaks (Figure 7 is only wrapped for display).
const (
	rfc7520Payload    = "It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u2019s no knowing where you might be swept off to."
	rfc7520PayloadB64 = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"
	rfc7520Kid        = "bilbo.baggins@hobbiton.example"
)

// RFC 7520 section 3.3, Figure 4: the RSA key of sections 4.1 and 4.2.
var rfc7520RSAKey = rfcRSAJWK{
	n: "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT" +
		"-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqV" +
		"wGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-" +
		"oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde" +
		"3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuC" +
		"LqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5g" +
		"HdrNP5zw",
	e: "AQAB",
	d: "bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78e" +
		"iZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J3XTGgdrhCku9gRld" +
		"Y7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-b" +
		"MwWWSDFu2MUBYwkHTMEzLYGqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU" +
		"6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDj" +
		"d18kKhyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOc" +
		"OpBrQzwQ",
	p: "3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nR" +
		"aO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmG" +
		"peNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8" +
		"bUq0k",
	q: "uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT" +
		"8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8lHTeZu2lmKvwqW7an" +
		"V5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0" +
		"s7pFc",
	dp: "B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q" +
		"1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pbt26gljYfKU_E9xn" +
		"-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX" +
		"59ehik",
	dq: "CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pEr" +
		"AMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6og5iTbwQGIC3gnJK" +
		"bi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdK" +
		"T1cYF8",
	qi: "3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-N" +
		"ZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8VfBdYkssbu0NKDDh" +
		"jJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpP" +
		"z8aaI4",
}

// RFC 7520 compact results, Figures 13 (4.1), 20 (4.2), 27 (4.3), 34 (4.4).
const (
	rfc7520RS256 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + rfc7520PayloadB64 + "." +
		"MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"
	rfc7520PS384 = "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + rfc7520PayloadB64 + "." +
		"cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw"
	rfc7520ES512 = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + rfc7520PayloadB64 + "." +
		"AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2"
	rfc7520HS256 = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9." + rfc7520PayloadB64 + "." +
		"s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"
)

func TestRFC7520Payload(t *testing.T) {
	if got := base64.RawURLEncoding.EncodeToString([]byte(rfc7520Payload)); got != rfc7520PayloadB64 {
		t.Fatalf("RFC 7520 payload encodes to\n%s\nFigure 8 says\n%s", got, rfc7520PayloadB64)
	}
}

// rfcVerifyJWS checks token with key through both the byte-identical
// header fast path (key with the kid) and the parsing path (key without).
func rfcVerifyJWS(t *testing.T, name string, key *Key, kid, token string) {
	t.Helper()
	for _, k := range []*Key{key.WithKeyID(kid), key} {
		v := rfcOK(NewVerifier([]*Key{k}))
		p, err := v.VerifyJWS(token)
		if err != nil {
			t.Fatalf("%s (key kid %q) refused: %v", name, k.KeyID(), err)
		}
		if string(p) != rfc7520Payload {
			t.Fatalf("%s payload = %q", name, p)
		}
	}
	// A tampered payload fails.
	i := len(token) - 1
	for token[i] != '.' {
		i--
	}
	bad := []byte(token)
	if bad[i-20] == 'A' { // a payload character, not the last one: still canonical base64url
		bad[i-20] = 'B'
	} else {
		bad[i-20] = 'A'
	}
	v := rfcOK(NewVerifier([]*Key{key.WithKeyID(kid)}))
	if _, err := v.VerifyJWS(string(bad)); !errors.Is(err, ErrSignature) {
		t.Fatalf("%s with a tampered payload: err = %v, want ErrSignature", name, err)
	}
}

// RFC 7520 section 4.1: RS256 with kid, byte for byte.
func TestRFC7520S41RS256(t *testing.T) {
	priv := rfcRSAKey(t, rfc7520RSAKey)
	key := rfcOK(NewSigningKey(RS256, priv))
	got, err := SignJWS(key.WithKeyID(rfc7520Kid), []byte(rfc7520Payload))
	if err != nil {
		t.Fatal(err)
	}
	if got != rfc7520RS256 {
		t.Fatalf("RFC 7520 4.1:\n got %s\nwant %s", got, rfc7520RS256)
	}
	rfcVerifyJWS(t, "RFC 7520 4.1", key.Public(), rfc7520Kid, rfc7520RS256)
}

// RFC 7520 section 4.2: PS384 (randomized salt: verify, then round-trip).
func TestRFC7520S42PS384(t *testing.T) {
	priv := rfcRSAKey(t, rfc7520RSAKey)
	key := rfcOK(NewSigningKey(PS384, priv))
	rfcVerifyJWS(t, "RFC 7520 4.2", key.Public(), rfc7520Kid, rfc7520PS384)
	mine, err := SignJWS(key.WithKeyID(rfc7520Kid), []byte(rfc7520Payload))
	if err != nil {
		t.Fatal(err)
	}
	if mine[:73] != rfc7520PS384[:73] { // same header and payload
		t.Fatalf("PS384 header/payload differ:\n%s\n%s", mine[:73], rfc7520PS384[:73])
	}
	rfcVerifyJWS(t, "own PS384", key.Public(), rfc7520Kid, mine)
	// The RS256 key on the same modulus must not accept PS384.
	rs := rfcOK(NewVerifier([]*Key{rfcOK(NewVerificationKey(RS384, &priv.PublicKey))}))
	if _, err := rs.VerifyJWS(rfc7520PS384); !errors.Is(err, ErrAlgorithmMismatch) {
		t.Fatalf("PS384 token with an RS384 key: err = %v, want ErrAlgorithmMismatch", err)
	}
}

// RFC 7520 section 4.3: ES512 with the P-521 key of section 3.2 (Figure 1).
func TestRFC7520S43ES512(t *testing.T) {
	pub := rfcECPublic(t, elliptic.P521(),
		"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
		"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1")
	key := rfcOK(NewVerificationKey(ES512, pub))
	rfcVerifyJWS(t, "RFC 7520 4.3", key, rfc7520Kid, rfc7520ES512)
}

// RFC 7520 section 4.4: HS256 with the key of section 3.5, byte for byte.
func TestRFC7520S44HS256(t *testing.T) {
	const kid = "018c0ae5-4d9b-471b-bfd6-eef314bc7037"
	key := rfcOK(NewHMACKey(HS256, rfcB64(t, "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg")))
	got, err := SignJWS(key.WithKeyID(kid), []byte(rfc7520Payload))
	if err != nil {
		t.Fatal(err)
	}
	if got != rfc7520HS256 {
		t.Fatalf("RFC 7520 4.4:\n got %s\nwant %s", got, rfc7520HS256)
	}
	rfcVerifyJWS(t, "RFC 7520 4.4", key, kid, rfc7520HS256)
	// With several keys the kid picks the right one.
	other := rfcOK(NewHMACKey(HS256, bytes.Repeat([]byte{7}, 32))).WithKeyID("other")
	v := rfcOK(NewVerifier([]*Key{other, key.WithKeyID(kid)}))
	if _, err := v.VerifyJWS(rfc7520HS256); err != nil {
		t.Fatalf("RFC 7520 4.4 with two keys: %v", err)
	}
}

// The example used by countless JWT tutorials: HS256 over
// {"user_id":123,"role":"admin"} with the secret "my_super_secret_key".
func TestTeachingVectorHS256(t *testing.T) {
	const (
		secret = "my_super_secret_key"
		token  = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc"
	)
	if _, err := NewHMACKey(HS256, []byte(secret)); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("NewHMACKey(19-byte secret): err = %v, want ErrWeakKey", err)
	}
	key, err := NewInsecureWeakHMACKey(HS256, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Sign(key, json.RawMessage(`{"user_id":123,"role":"admin"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got != token {
		t.Fatalf("teaching vector:\n got %s\nwant %s", got, token)
	}
	// Whitespace in a RawMessage is compacted away.
	if got2, _ := Sign(key, json.RawMessage("{ \"user_id\": 123,\n \"role\": \"admin\" }")); got2 != token {
		t.Fatalf("RawMessage with spaces: %s", got2)
	}
	v := rfcOK(NewVerifier([]*Key{key}, AllowMissingExp()))
	var c struct {
		UserID int    `json:"user_id"`
		Role   string `json:"role"`
	}
	if err := v.Verify(token, &c); err != nil || c.UserID != 123 || c.Role != "admin" {
		t.Fatalf("teaching vector: %+v, %v", c, err)
	}
	strict := rfcOK(NewVerifier([]*Key{key}))
	if err := strict.Verify(token, nil); !errors.Is(err, ErrMissingExp) {
		t.Fatalf("without AllowMissingExp: err = %v, want ErrMissingExp", err)
	}
	if _, err := NewInsecureWeakHMACKey(HS256, nil); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("empty secret: err = %v, want ErrWeakKey", err)
	}
}
