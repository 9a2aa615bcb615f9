package jwt

// In-package benchmarks: sign and verify for every algorithm, the two
// claim-decoding paths, and the bare stdlib calls ("floors") that an
// asymmetric verify cannot beat. The cross-library comparison lives in
// the separate module bench/ (see BENCHMARKS.md).
//
//	cd jwt && go test -run '^$' -bench . -benchmem -count 5 -cpu 1

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchNow is the fixed clock of every benchmark: tokens never expire
// during a run, however long it takes.
var benchNow = time.Unix(1_700_000_000, 0)

func benchClock() time.Time { return benchNow }

const (
	benchIssuer   = "https://auth.example"
	benchAudience = "api"
)

var benchSecret = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") // 64 bytes: enough for HS512

// benchClaims is the typical registered claims set: iss, sub, a single
// aud, exp, iat, jti.
func benchClaims() *Claims {
	return &Claims{
		Issuer:    benchIssuer,
		Subject:   "42",
		Audience:  Audience{benchAudience},
		ExpiresAt: NewNumericDate(benchNow.Add(15 * time.Minute)),
		IssuedAt:  NewNumericDate(benchNow),
		ID:        "b2f1c7d4e5a6",
	}
}

// benchServer uses serverClaims (claims_test.go): what the server signs.
func benchServer() *serverClaims {
	return &serverClaims{Claims: *benchClaims(), Name: "Ada Lovelace", Role: "editor"}
}

// benchStruct is an arbitrary claims struct: Verify decodes it with
// encoding/json.
type benchStruct struct {
	Iss  string `json:"iss"`
	Sub  string `json:"sub"`
	Aud  string `json:"aud"`
	Exp  int64  `json:"exp"`
	Iat  int64  `json:"iat"`
	Jti  string `json:"jti"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// benchHMAC is the HS256 key alone: the HS256 benchmarks skip benchKeys'
// RSA generation, whose cost varies by hundreds of millions of
// instructions and would swamp a cachegrind count of a few thousand ops.
var benchHMAC = sync.OnceValue(func() *Key {
	k, err := NewHMACKey(HS256, benchSecret)
	if err != nil {
		panic(err)
	}
	return k
})

// Keys are made once per test binary: RSA generation is slow.
var benchKeys = sync.OnceValue(func() map[Algorithm]*Key {
	must := func(k *Key, err error) *Key {
		if err != nil {
			panic(err)
		}
		return k
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ec := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	p256, p384, p521 := ec(elliptic.P256()), ec(elliptic.P384()), ec(elliptic.P521())
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	keys := map[Algorithm]*Key{}
	keys[HS256] = benchHMAC()
	for _, alg := range []Algorithm{HS384, HS512} {
		keys[alg] = must(NewHMACKey(alg, benchSecret))
	}
	for _, alg := range []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512} {
		keys[alg] = must(NewSigningKey(alg, rsaKey))
	}
	keys[ES256] = must(NewSigningKey(ES256, p256))
	keys[ES384] = must(NewSigningKey(ES384, p384))
	keys[ES512] = must(NewSigningKey(ES512, p521))
	keys[EdDSA] = must(NewSigningKey(EdDSA, edKey))
	return keys
})

func benchVerifier(b *testing.B, k *Key) *Verifier {
	b.Helper()
	if !k.IsSymmetric() {
		k = k.Public()
	}
	v, err := NewVerifier([]*Key{k}, WithClock(benchClock), WithIssuer(benchIssuer), WithAudience(benchAudience))
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func benchSign(b *testing.B, k *Key, claims any) string {
	b.Helper()
	tok, err := Sign(k, claims)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func BenchmarkSign(b *testing.B) {
	keys := benchKeys()
	for _, alg := range Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			k, c := keys[alg], benchClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(k, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	keys := benchKeys()
	for _, alg := range Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			tok := benchSign(b, keys[alg], benchClaims())
			v := benchVerifier(b, keys[alg])
			var c Claims
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(tok, &c); err != nil {
					b.Fatal(err)
				}
			}
			if c.Subject != "42" {
				b.Fatalf("decoded %+v", c)
			}
		})
	}
}

// BenchmarkVerifyServerClaims is the hot path of a server: HS256, issuer
// and audience checked, registered claims plus name and role decoded
// through ClaimDecoder.
func BenchmarkVerifyServerClaims(b *testing.B) {
	k := benchHMAC()
	tok := benchSign(b, k, benchServer())
	v := benchVerifier(b, k)
	var c serverClaims
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(tok, &c); err != nil {
			b.Fatal(err)
		}
	}
	if c.Role != "editor" || c.Subject != "42" || c.Audience[0] != benchAudience {
		b.Fatalf("decoded %+v", c)
	}
}

// BenchmarkVerifyStruct is the same token decoded into a plain struct
// through encoding/json.
func BenchmarkVerifyStruct(b *testing.B) {
	k := benchHMAC()
	tok := benchSign(b, k, benchServer())
	v := benchVerifier(b, k)
	var c benchStruct
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(tok, &c); err != nil {
			b.Fatal(err)
		}
	}
	if c.Role != "editor" || c.Aud != benchAudience || c.Exp == 0 {
		b.Fatalf("decoded %+v", c)
	}
}

// BenchmarkSignServerClaims signs the server claims through ClaimAppender.
func BenchmarkSignServerClaims(b *testing.B) {
	k, c := benchHMAC(), benchServer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(k, c); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSigned splits a token of alg into its signing input and decoded
// signature, for the floors: the token of BenchmarkVerify/<alg> for the
// asymmetric algorithms, the server-claims token for HS256.
func benchSigned(b *testing.B, alg Algorithm) (k *Key, input, sig []byte) {
	b.Helper()
	if alg == HS256 {
		k = benchHMAC()
	} else {
		k = benchKeys()[alg]
	}
	var claims any = benchClaims()
	if alg == HS256 {
		claims = benchServer()
	}
	tok := benchSign(b, k, claims)
	dot := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	return k, []byte(tok[:dot]), sig
}

// BenchmarkFloorHMACSHA256: HMAC-SHA256 of the signing input with a
// reused hash, the least any HS256 verify has to do.
func BenchmarkFloorHMACSHA256(b *testing.B) {
	_, input, sig := benchSigned(b, HS256)
	h := hmac.New(sha256.New, benchSecret)
	var buf [sha256.Size]byte
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		h.Write(input)
		if !hmac.Equal(h.Sum(buf[:0]), sig) {
			b.Fatal("bad MAC")
		}
	}
}

func benchFloorRSA(b *testing.B, alg Algorithm) {
	k, input, sig := benchSigned(b, alg)
	pub := k.PublicKey().(*rsa.PublicKey)
	pss := strings.HasPrefix(string(alg), "PS")
	h := k.hash
	b.ReportAllocs()
	for b.Loop() {
		hh := h.New()
		hh.Write(input)
		var d [64]byte
		digest := hh.Sum(d[:0])
		var err error
		if pss {
			err = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(pub, h, digest, sig)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorRS256: rsa.VerifyPKCS1v15 of the SHA-256 of the signing input.
func BenchmarkFloorRS256(b *testing.B) { benchFloorRSA(b, RS256) }

// BenchmarkFloorPS256: rsa.VerifyPSS of the SHA-256 of the signing input.
func BenchmarkFloorPS256(b *testing.B) { benchFloorRSA(b, PS256) }

// benchFloorECDSA: ecdsa.VerifyASN1 over a precomputed digest, with the
// JWS R||S signature converted to DER beforehand.
func benchFloorECDSA(b *testing.B, alg Algorithm, h crypto.Hash) {
	k, input, sig := benchSigned(b, alg)
	pub := k.PublicKey().(*ecdsa.PublicKey)
	hh := h.New()
	hh.Write(input)
	digest := hh.Sum(nil)
	n := len(sig) / 2
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(pub, digest, der) {
			b.Fatal("bad signature")
		}
	}
}

func BenchmarkFloorES256(b *testing.B) { benchFloorECDSA(b, ES256, crypto.SHA256) }
func BenchmarkFloorES384(b *testing.B) { benchFloorECDSA(b, ES384, crypto.SHA384) }
func BenchmarkFloorES512(b *testing.B) { benchFloorECDSA(b, ES512, crypto.SHA512) }

// BenchmarkFloorEd25519Verify: bare ed25519.Verify of the signing input.
func BenchmarkFloorEd25519Verify(b *testing.B) {
	k, input, sig := benchSigned(b, EdDSA)
	pub := k.PublicKey().(ed25519.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, input, sig) {
			b.Fatal("bad signature")
		}
	}
}

// BenchmarkServerClaimsVsFloor reports how close a verify comes to the
// least it must do: the time of BenchmarkVerifyServerClaims over that of
// the bare HMAC-SHA256 of the signing input with a reused hash, as
// ×floor-hmac; and, as ×floor-hmac+eq, over the floor plus the
// constant-time compare with the token's signature (32 bytes, about a
// tenth of the floor), which no verify can skip. The three run in
// alternating blocks of a few hundred microseconds, so that the load
// bursts of a shared machine, which move separate benchmarks by ±30%, hit
// all alike.
func BenchmarkServerClaimsVsFloor(b *testing.B) {
	k := benchHMAC()
	tok := benchSign(b, k, benchServer())
	v := benchVerifier(b, k)
	_, input, sig := benchSigned(b, HS256)
	h := hmac.New(sha256.New, benchSecret)
	var buf [sha256.Size]byte
	var c serverClaims
	const block = 256
	var tv, tf, te time.Duration
	for i := 0; b.Loop(); i++ {
		if i%block != 0 {
			continue // b.Loop counts iterations; the work is done per block
		}
		t0 := time.Now()
		for range block {
			if err := v.Verify(tok, &c); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range block {
			h.Reset()
			h.Write(input)
			h.Sum(buf[:0])
		}
		t2 := time.Now()
		for range block {
			h.Reset()
			h.Write(input)
			if !hmac.Equal(h.Sum(buf[:0]), sig) {
				b.Fatal("bad MAC")
			}
		}
		tv, tf, te = tv+t1.Sub(t0), tf+t2.Sub(t1), te+time.Since(t2)
	}
	if tf > 0 && te > 0 {
		b.ReportMetric(float64(tv)/float64(tf), "×floor-hmac")
		b.ReportMetric(float64(tv)/float64(te), "×floor-hmac+eq")
	}
}
