package jwt

// Hostile tokens. Every case must be refused with the expected sentinel
// error, and no error message may echo the secret or the whole token.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var (
	atkNow    = time.Unix(1_700_000_000, 0)
	atkSecret = []byte("attack-test-secret/0123456789abcdef!") // 36 bytes
	atkOther  = []byte("another-secret-of-enough-length-0123456789")
)

func atkClock() time.Time { return atkNow }

// atkClaims is a valid payload: exp one hour after atkNow.
func atkClaims() string {
	return fmt.Sprintf(`{"sub":"alice","exp":%d}`, atkNow.Unix()+3600)
}

func atkEnc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// atkSignRaw signs already-encoded header and payload segments with k.
func atkSignRaw(t testing.TB, k *Key, hdrB64, payB64 string) string {
	t.Helper()
	out, err := k.appendSignature([]byte(hdrB64 + "." + payB64))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// atkSign signs an arbitrary header and payload text with k.
func atkSign(t testing.TB, k *Key, header, payload string) string {
	t.Helper()
	return atkSignRaw(t, k, atkEnc(header), atkEnc(payload))
}

// atkParts splits a compact token into its three segments.
func atkParts(t testing.TB, tok string) (h, p, s string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

func atkSig(t testing.TB, tok string) []byte {
	t.Helper()
	_, _, s := atkParts(t, tok)
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// atkWithSig replaces the signature of tok.
func atkWithSig(t testing.TB, tok string, sig []byte) string {
	t.Helper()
	h, p, _ := atkParts(t, tok)
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// atkNonCanonical flips a trailing bit of the last character of seg, so
// that a lenient base64 decoder yields the same bytes from a different
// string. seg's length must not be a multiple of 4.
func atkNonCanonical(t testing.TB, seg string) string {
	t.Helper()
	if len(seg)%4 == 0 {
		t.Fatalf("segment of length %d has no trailing bits", len(seg))
	}
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alpha, seg[len(seg)-1])
	out := seg[:len(seg)-1] + string(alpha[i^1])
	a, err1 := base64.RawURLEncoding.DecodeString(seg)
	b, err2 := base64.RawURLEncoding.DecodeString(out)
	if err1 != nil || err2 != nil || string(a) != string(b) {
		t.Fatalf("non-canonical variant does not decode to the same bytes: %v %v", err1, err2)
	}
	return out
}

type atkCase struct {
	name  string
	v     *Verifier
	token string
	want  error
}

// atkCheck runs the cases, and checks error hygiene: the message names
// neither the secrets nor the token.
func atkCheck(t *testing.T, cases []atkCase, secrets ...[]byte) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.v.Verify(c.token, nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify: err = %v, want %v", err, c.want)
			}
			atkHygiene(t, err, c.token, secrets...)
			var dst map[string]any
			err = c.v.Verify(c.token, &dst)
			if !errors.Is(err, c.want) || dst != nil {
				t.Fatalf("Verify into a map: err = %v, claims %v", err, dst)
			}
		})
	}
}

func atkHygiene(t *testing.T, err error, token string, secrets ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if len(token) > 40 && strings.Contains(msg, token) {
		t.Errorf("error message contains the whole token: %.120q", msg)
	}
	if _, p, ok := strings.Cut(token, "."); ok && len(p) > 40 && strings.Contains(msg, p) {
		t.Errorf("error message contains the token's payload: %.120q", msg)
	}
	for _, s := range secrets {
		for _, form := range []string{string(s), base64.RawURLEncoding.EncodeToString(s), base64.StdEncoding.EncodeToString(s), fmt.Sprintf("%x", s)} {
			if len(form) >= 8 && strings.Contains(msg, form) {
				t.Errorf("error message contains a secret: %.120q", msg)
			}
		}
	}
	if len(msg) > 300 {
		t.Errorf("error message is %d bytes long: %.120q", len(msg), msg)
	}
}

func atkHMAC(t testing.TB, secret []byte) *Key {
	t.Helper()
	k, err := NewHMACKey(HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func atkVerifier(t testing.TB, keys []*Key, opts ...Option) *Verifier {
	t.Helper()
	v, err := NewVerifier(keys, append([]Option{WithClock(atkClock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAttackAlgNone(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	vHS := atkVerifier(t, []*Key{key})
	rs := rfcOK(NewSigningKey(RS256, rfcRSAKey(t, rfc7520RSAKey)))
	vRS := atkVerifier(t, []*Key{rs.Public()})
	pay := atkEnc(atkClaims())
	var cases []atkCase
	for _, none := range []string{"none", "None", "NONE", "nOnE", "NoNe", "none ", " none", `none\u0000`, `non\u0065`} {
		hdr := atkEnc(`{"alg":"` + none + `","typ":"JWT"}`)
		if strings.Contains(none, `\u`) {
			hdr = atkEnc(`{"alg":"` + none + `"}`)
		}
		for _, v := range []struct {
			name string
			v    *Verifier
		}{{"HS256", vHS}, {"RS256", vRS}} {
			cases = append(cases,
				// Signed with the real HMAC key: the header alone decides.
				atkCase{fmt.Sprintf("%q/%s/hmac-signature", none, v.name), v.v, atkSignRaw(t, key, hdr, pay), ErrUnsupportedAlgorithm},
				atkCase{fmt.Sprintf("%q/%s/junk-signature", none, v.name), v.v, hdr + "." + pay + "." + atkEnc("sig"), ErrUnsupportedAlgorithm},
				// The RFC 7515 A.5 form, empty signature: refused before the
				// header is read.
				atkCase{fmt.Sprintf("%q/%s/empty-signature", none, v.name), v.v, hdr + "." + pay + ".", ErrSignature},
				atkCase{fmt.Sprintf("%q/%s/two-segments", none, v.name), v.v, hdr + "." + pay, ErrMalformed},
			)
		}
	}
	// RFC 7515 appendix A.5, verbatim.
	const a5 = "eyJhbGciOiJub25lIn0." + rfc7515PayloadB64 + "."
	cases = append(cases, atkCase{"RFC7515-A.5", vHS, a5, ErrSignature})
	// Other unknown algorithms.
	for _, alg := range []string{"", "hs256", "HS256 ", "HS257", "HS", "RS1", "ES256K", "Ed25519", "dir", "A128KW", strings.Repeat("X", 200)} {
		cases = append(cases, atkCase{"alg=" + alg[:min(len(alg), 10)], vHS, atkSign(t, key, `{"alg":"`+alg+`"}`, atkClaims()), ErrUnsupportedAlgorithm})
	}
	// alg missing or not a string.
	for i, h := range []string{`{}`, `{"typ":"JWT"}`, `{"alg":null}`, `{"alg":256}`, `{"alg":true}`, `{"alg":["HS256"]}`, `{"alg":{"HS256":1}}`, `{"ALG":"HS256"}`, `{"alg ":"HS256"}`} {
		cases = append(cases, atkCase{fmt.Sprintf("bad-alg-%d", i), vHS, atkSign(t, key, h, atkClaims()), ErrMalformed})
	}
	atkCheck(t, cases, atkSecret)
}

// HS256 "signed" with the verifier's RSA or EC public key as the HMAC
// secret: the classic key confusion. The key is bound to RS256/ES256.
func TestAttackKeyConfusion(t *testing.T) {
	priv := rfcRSAKey(t, rfc7520RSAKey)
	rs := rfcOK(NewSigningKey(RS256, priv))
	vRS := atkVerifier(t, []*Key{rs.Public()})
	ecPriv := rfcECPrivate(t, elliptic.P256(), rfc7515A3X, rfc7515A3Y, rfc7515A3D)
	es := rfcOK(NewSigningKey(ES256, ecPriv))
	vES := atkVerifier(t, []*Key{es.Public()})

	spki := rfcOK(x509.MarshalPKIXPublicKey(&priv.PublicKey))
	pkcs1 := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	ecSPKI := rfcOK(x509.MarshalPKIXPublicKey(&ecPriv.PublicKey))
	secrets := map[string][]byte{
		"RSA-PEM-PKIX":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}),
		"RSA-PEM-PKCS1":  pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
		"RSA-DER-PKIX":   spki,
		"RSA-DER-PKCS1":  pkcs1,
		"RSA-modulus":    priv.N.Bytes(),
		"RSA-PEM-no-LF":  []byte(strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})), "\n")),
		"EC-PEM-PKIX":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecSPKI}),
		"EC-DER-PKIX":    ecSPKI,
		"EC-uncompessed": append(append([]byte{4}, rfcB64(t, rfc7515A3X)...), rfcB64(t, rfc7515A3Y)...),
	}
	var cases []atkCase
	var all [][]byte
	for name, secret := range secrets {
		all = append(all, secret)
		v := vRS
		if strings.HasPrefix(name, "EC") {
			v = vES
		}
		for _, alg := range []Algorithm{HS256, HS384, HS512} {
			hk := rfcOK(NewInsecureWeakHMACKey(alg, secret))
			cases = append(cases,
				atkCase{name + "/" + string(alg) + "/Sign", v, rfcOK(Sign(hk, atkJSON(atkClaims()))), ErrAlgorithmMismatch},
				atkCase{name + "/" + string(alg) + "/bare-header", v, atkSign(t, hk, `{"alg":"`+string(alg)+`"}`, atkClaims()), ErrAlgorithmMismatch},
			)
		}
		// Claiming the right alg with an HMAC signature just fails.
		hk := rfcOK(NewInsecureWeakHMACKey(HS256, secret))
		hdr := `{"alg":"RS256"}`
		if v == vES {
			hdr = `{"alg":"ES256"}`
		}
		cases = append(cases, atkCase{name + "/right-alg-hmac-sig", v, atkSign(t, hk, hdr, atkClaims()), ErrSignature})
	}
	atkCheck(t, cases, all...)
}

// atkJSON turns a JSON text into claims for Sign, used as given.
func atkJSON(s string) atkRawJSON { return atkRawJSON(s) }

type atkRawJSON string

func (r atkRawJSON) AppendJSON(dst []byte) []byte { return append(dst, r...) }

func TestAttackSignatureSegment(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	good := rfcOK(Sign(key, atkJSON(atkClaims())))
	if err := v.Verify(good, nil); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	h, p, s := atkParts(t, good)
	sig := atkSig(t, good)
	other := rfcOK(Sign(atkHMAC(t, atkOther), atkJSON(atkClaims())))
	otherPayload := rfcOK(Sign(key, atkJSON(fmt.Sprintf(`{"sub":"bob","exp":%d}`, atkNow.Unix()+3600))))
	flip := func(i int) []byte { b := append([]byte(nil), sig...); b[i] ^= 1; return b }

	cases := []atkCase{
		{"stripped-with-dot", v, h + "." + p + ".", ErrSignature},
		{"stripped", v, h + "." + p, ErrMalformed},
		{"foreign-key", v, atkWithSig(t, good, atkSig(t, other)), ErrSignature},
		{"signature-of-other-payload", v, atkWithSig(t, good, atkSig(t, otherPayload)), ErrSignature},
		{"truncated-1-byte", v, atkWithSig(t, good, sig[:31]), ErrSignature},
		{"truncated-half", v, atkWithSig(t, good, sig[:16]), ErrSignature},
		{"one-byte", v, atkWithSig(t, good, sig[:1]), ErrSignature},
		{"extended-zero", v, atkWithSig(t, good, append(append([]byte(nil), sig...), 0)), ErrSignature},
		{"doubled", v, atkWithSig(t, good, append(append([]byte(nil), sig...), sig...)), ErrSignature},
		{"bit-flip-first", v, atkWithSig(t, good, flip(0)), ErrSignature},
		{"bit-flip-last", v, atkWithSig(t, good, flip(31)), ErrSignature},
		{"zeros", v, atkWithSig(t, good, make([]byte, 32)), ErrSignature},
		{"HS512-length", v, atkWithSig(t, good, make([]byte, 64)), ErrSignature},
		{"non-canonical-base64", v, h + "." + p + "." + atkNonCanonical(t, s), ErrMalformed},
		{"signature-is-1-mod-4", v, h + "." + p + "." + s + "AB", ErrMalformed},
	}
	atkCheck(t, cases, atkSecret)
}

func TestAttackTampering(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	good := rfcOK(Sign(key, atkJSON(atkClaims())))
	h, p, s := atkParts(t, good)

	tamperedPayload := atkEnc(strings.Replace(atkClaims(), "alice", "alicf", 1))
	// One base64url character of the payload, in the middle.
	pb := []byte(p)
	pb[len(pb)/2] = map[bool]byte{true: 'B', false: 'A'}[pb[len(pb)/2] == 'A']

	cases := []atkCase{
		{"payload-one-char-json", v, h + "." + tamperedPayload + "." + s, ErrSignature},
		{"payload-one-char-base64", v, h + "." + string(pb) + "." + s, ErrSignature},
		{"payload-swapped-exp", v, h + "." + atkEnc(fmt.Sprintf(`{"sub":"alice","exp":%d}`, atkNow.Unix()+7200)) + "." + s, ErrSignature},
		{"header-extra-member", v, atkEnc(`{"alg":"HS256","typ":"JWT","x":1}`) + "." + p + "." + s, ErrSignature},
		{"header-kid-injected", v, atkEnc(`{"alg":"HS256","kid":"../../dev/null","typ":"JWT"}`) + "." + p + "." + s, ErrSignature},
		{"header-reordered", v, atkEnc(`{"typ":"JWT","alg":"HS256"}`) + "." + p + "." + s, ErrSignature},
		{"header-whitespace", v, atkEnc(`{"alg":"HS256", "typ":"JWT"}`) + "." + p + "." + s, ErrSignature},
		{"header-HS384", v, atkEnc(`{"alg":"HS384","typ":"JWT"}`) + "." + p + "." + s, ErrAlgorithmMismatch},
	}
	atkCheck(t, cases, atkSecret)
}

func TestAttackEncoding(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	// A header whose encoding has trailing bits, signed for real.
	hdrText := `{"alg":"HS256","kid":"k"}`
	if len(atkEnc(hdrText))%4 == 0 {
		t.Fatal("pick another header")
	}
	payText := atkClaims()
	if len(atkEnc(payText))%4 == 0 {
		payText += " "
	}
	good := atkSign(t, key, hdrText, payText)
	if err := v.Verify(good, nil); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	h, p, s := atkParts(t, good)
	at := func(str string, i int, ins string) string { return str[:i] + ins + str[i:] }
	set := func(str string, i int, c byte) string { return str[:i] + string(c) + str[i+1:] }

	cases := []atkCase{
		{"non-canonical-header", v, atkNonCanonical(t, h) + "." + p + "." + s, ErrMalformed},
		{"non-canonical-payload", v, h + "." + atkNonCanonical(t, p) + "." + s, ErrMalformed},
		{"non-canonical-signature", v, h + "." + p + "." + atkNonCanonical(t, s), ErrMalformed},
		{"std-base64-payload", v, h + "." + base64.StdEncoding.EncodeToString([]byte(payText)) + "." + s, ErrMalformed},
		{"pad-header", v, h + "=." + p + "." + s, ErrMalformed},
		{"pad-payload", v, h + "." + p + "=." + s, ErrMalformed},
		{"pad-payload-2", v, h + "." + p + "==." + s, ErrMalformed},
		{"pad-signature", v, good + "=", ErrMalformed},
		{"pad-signature-2", v, good + "==", ErrMalformed},
		{"pad-inside-signature", v, h + "." + p + "." + at(s, 8, "="), ErrMalformed},
		{"pad-inside-payload", v, h + "." + at(p, 8, "=") + "." + s, ErrMalformed},
		{"plus-in-signature", v, h + "." + p + "." + set(s, 5, '+'), ErrMalformed},
		{"slash-in-signature", v, h + "." + p + "." + set(s, 5, '/'), ErrMalformed},
		{"plus-in-payload", v, h + "." + set(p, 5, '+') + "." + s, ErrMalformed},
		{"slash-in-header", v, set(h, 5, '/') + "." + p + "." + s, ErrMalformed},
		{"space-inside", v, h + "." + at(p, 10, " ") + "." + s, ErrMalformed},
		{"tab-inside", v, h + "." + p + "." + at(s, 10, "\t"), ErrMalformed},
		{"newline-inside", v, h + "." + at(p, 10, "\n") + "." + s, ErrMalformed},
		{"crlf-inside-signature", v, h + "." + p + "." + at(s, 10, "\r\n"), ErrMalformed},
		{"newline-inside-header", v, at(h, 4, "\n") + "." + p + "." + s, ErrMalformed},
		{"leading-space", v, " " + good, ErrMalformed},
		{"trailing-space", v, good + " ", ErrMalformed},
		{"trailing-newline", v, good + "\n", ErrMalformed},
		{"trailing-crlf", v, good + "\r\n", ErrMalformed},
		{"nbsp", v, h + "." + p + "." + at(s, 3, "\u00a0"), ErrMalformed},
		{"nul", v, h + "." + p + "." + at(s, 3, "\x00"), ErrMalformed},
		{"bearer-prefix", v, "Bearer " + good, ErrMalformed},
		{"quoted", v, `"` + good + `"`, ErrMalformed},
	}
	atkCheck(t, cases, atkSecret)
}

func TestAttackSegments(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	good := rfcOK(Sign(key, atkJSON(atkClaims())))
	h, p, s := atkParts(t, good)
	cases := []atkCase{
		{"empty", v, "", ErrMalformed},
		{"one-segment", v, h, ErrMalformed},
		{"two-segments", v, h + "." + p, ErrMalformed},
		{"four-segments", v, good + "." + s, ErrMalformed},
		{"four-segments-empty-last", v, good + ".", ErrMalformed},
		{"five-segments-JWE-shape", v, h + "." + p + "." + s + "." + s + "." + s, ErrMalformed},
		{"empty-header", v, "." + p + "." + s, ErrMalformed},
		{"empty-payload", v, h + ".." + s, ErrMalformed},
		{"all-empty", v, "..", ErrMalformed},
		{"three-dots", v, "...", ErrMalformed},
		{"dot", v, ".", ErrMalformed},
		{"empty-payload-and-signature", v, h + "..", ErrMalformed},
		{"only-signature", v, ".." + s, ErrMalformed},
	}
	atkCheck(t, cases, atkSecret)
}

func TestAttackSize(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	// The largest accepted token is exactly DefaultMaxSize bytes.
	var exact string
	for n := 0; n < DefaultMaxSize; n++ {
		tok := rfcOK(Sign(key, atkJSON(fmt.Sprintf(`{"pad":"%s","exp":%d}`, strings.Repeat("x", n), atkNow.Unix()+60))))
		if len(tok) == DefaultMaxSize {
			exact = tok
			break
		}
		if len(tok) > DefaultMaxSize {
			t.Fatal("no token of exactly DefaultMaxSize bytes")
		}
	}
	if err := v.Verify(exact, nil); err != nil {
		t.Fatalf("token of exactly %d bytes refused: %v", len(exact), err)
	}
	big := rfcOK(Sign(key, atkJSON(fmt.Sprintf(`{"pad":"%s","exp":%d}`, strings.Repeat("x", 6200), atkNow.Unix()+60))))
	if len(big) <= DefaultMaxSize {
		t.Fatalf("big token is only %d bytes", len(big))
	}
	cases := []atkCase{
		{"valid-but-large", v, big, ErrTooLarge},
		{"one-byte-over", v, exact + "A", ErrTooLarge},
		{"garbage-1MiB", v, strings.Repeat("A", 1<<20), ErrTooLarge},
		{"dots-1MiB", v, strings.Repeat(".", 1<<20), ErrTooLarge},
		{"garbage-16MiB", v, strings.Repeat("\xff", 16<<20), ErrTooLarge},
	}
	atkCheck(t, cases, atkSecret)

	// The limit is checked before anything else: a huge token costs
	// (almost) nothing.
	huge := strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 1<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		_ = v.Verify(huge, nil)
	}
	runtime.ReadMemStats(&after)
	if b := after.TotalAlloc - before.TotalAlloc; b > 10*4096 {
		t.Errorf("refusing a %d-byte token 10 times allocated %d bytes", len(huge), b)
	}
	// WithMaxSize moves the limit both ways.
	small := atkVerifier(t, []*Key{key}, WithMaxSize(100))
	if err := small.Verify(rfcOK(Sign(key, atkJSON(atkClaims()))), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("WithMaxSize(100): err = %v, want ErrTooLarge", err)
	}
	large := atkVerifier(t, []*Key{key}, WithMaxSize(64<<10))
	if err := large.Verify(big, nil); err != nil {
		t.Errorf("WithMaxSize(64K): %v", err)
	}
	// DecodeUnverified applies the same limit.
	if _, err := DecodeUnverified(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeUnverified(big): err = %v, want ErrTooLarge", err)
	}
}

func TestAttackHeaderMembers(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	c := atkClaims()
	sign := func(h string) string { return atkSign(t, key, h, c) }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []atkCase{
		{"duplicate-alg", v, sign(`{"alg":"HS256","alg":"HS256"}`), ErrMalformed},
		{"duplicate-alg-none-first", v, sign(`{"alg":"none","alg":"HS256"}`), ErrMalformed},
		{"duplicate-alg-none-last", v, sign(`{"alg":"HS256","alg":"none"}`), ErrMalformed},
		{"duplicate-alg-escaped", v, sign(`{"alg":"HS256","\u0061lg":"none"}`), ErrMalformed},
		{"duplicate-alg-escaped-first", v, sign(`{"\u0061lg":"none","alg":"HS256"}`), ErrMalformed},
		{"duplicate-alg-escaped-both", v, sign(`{"\u0061lg":"HS256","al\u0067":"HS256"}`), ErrMalformed},
		{"duplicate-kid", v, sign(`{"alg":"HS256","kid":"a","kid":"b"}`), ErrMalformed},
		{"duplicate-typ", v, sign(`{"alg":"HS256","typ":"JWT","typ":"JWT"}`), ErrMalformed},
		{"duplicate-unknown", v, sign(`{"alg":"HS256","x":1,"x":2}`), ErrMalformed},
		{"duplicate-crit", v, sign(`{"alg":"HS256","crit":["a"],"crit":["b"]}`), ErrMalformed},
		{"crit", v, sign(`{"alg":"HS256","crit":["exp"],"exp":1}`), ErrCritical},
		{"crit-empty", v, sign(`{"alg":"HS256","crit":[]}`), ErrCritical},
		{"crit-b64", v, sign(`{"alg":"HS256","b64":false,"crit":["b64"]}`), ErrCritical},
		{"b64-without-crit", v, sign(`{"alg":"HS256","b64":false}`), ErrCritical},
		{"crit-escaped-name", v, sign(`{"alg":"HS256","\u0063rit":["x"]}`), ErrCritical},
		{"crit-with-none", v, sign(`{"alg":"none","crit":["x"]}`), ErrCritical},
		{"kid-not-string", v, sign(`{"alg":"HS256","kid":1}`), ErrMalformed},
		{"typ-not-string", v, sign(`{"alg":"HS256","typ":{}}`), ErrMalformed},
		{"cty-not-string", v, sign(`{"alg":"HS256","cty":null}`), ErrMalformed},
		{"header-array", v, sign(`["alg","HS256"]`), ErrMalformed},
		{"header-string", v, sign(`"HS256"`), ErrMalformed},
		{"header-number", v, sign(`256`), ErrMalformed},
		{"header-null", v, sign(`null`), ErrMalformed},
		{"header-true", v, sign(`true`), ErrMalformed},
		{"header-trailing-garbage", v, sign(`{"alg":"HS256"}x`), ErrMalformed},
		{"header-two-objects", v, sign(`{"alg":"HS256"}{"alg":"none"}`), ErrMalformed},
		{"header-trailing-comma", v, sign(`{"alg":"HS256",}`), ErrMalformed},
		{"header-unterminated", v, sign(`{"alg":"HS256"`), ErrMalformed},
		{"header-single-quotes", v, sign(`{'alg':'HS256'}`), ErrMalformed},
		{"header-comment", v, sign(`{"alg":"HS256"/*x*/}`), ErrMalformed},
		{"header-bom", v, sign("\ufeff" + `{"alg":"HS256"}`), ErrMalformed},
		{"header-invalid-utf8", v, sign("{\"alg\":\"HS256\",\"x\":\"\xff\"}"), ErrMalformed},
		{"header-lone-surrogate-alg", v, sign(`{"alg":"HS256\ud800"}`), ErrUnsupportedAlgorithm},
		{"header-depth-bomb", v, sign(`{"alg":"HS256","x":` + deep(2000) + `}`), ErrMalformed},
		{"header-too-many-members", v, sign(`{"alg":"HS256"` + atkMembers(20) + `}`), ErrMalformed},
		// encoding/json, which other tools read a header with, matches
		// names case-insensitively with Unicode folding and keeps the last
		// match: "ALG" next to "alg" would be read as the alg by them.
		{"alg-upper-case-after", v, sign(`{"alg":"HS256","ALG":"none"}`), ErrMalformed},
		{"alg-upper-case-before", v, sign(`{"ALG":"none","alg":"HS256"}`), ErrMalformed},
		{"alg-mixed-case-same-value", v, sign(`{"alg":"HS256","Alg":"HS256"}`), ErrMalformed},
		{"alg-upper-case-escaped", v, sign(`{"alg":"HS256","\u0041LG":"none"}`), ErrMalformed},
		{"alg-upper-case-alone", v, sign(`{"ALG":"HS256"}`), ErrMalformed},
		{"kid-upper-case", v, sign(`{"alg":"HS256","kid":"a","KID":"b"}`), ErrMalformed},
		{"kid-kelvin-sign", v, sign(`{"alg":"HS256","kid":"a","\u212aid":"b"}`), ErrMalformed},
		{"kid-kelvin-sign-raw", v, sign("{\"alg\":\"HS256\",\"\u212aid\":\"b\"}"), ErrMalformed},
		{"typ-upper-case", v, sign(`{"alg":"HS256","typ":"JWT","TYP":"at+jwt"}`), ErrMalformed},
		{"cty-upper-case", v, sign(`{"alg":"HS256","CTY":"JWT"}`), ErrMalformed},
		{"crit-upper-case", v, sign(`{"alg":"HS256","CRIT":["x"]}`), ErrMalformed},
		{"b64-upper-case", v, sign(`{"alg":"HS256","B64":false}`), ErrMalformed},
		{"jku-upper-case", v, sign(`{"alg":"HS256","JKU":"http://127.0.0.1:1/jwks"}`), ErrMalformed},
		{"jwk-upper-case", v, sign(`{"alg":"HS256","Jwk":{"kty":"oct","k":"AAAA"}}`), ErrMalformed},
		{"x5t-S256-lower-case", v, sign(`{"alg":"HS256","x5t#s256":"abc"}`), ErrMalformed},
		{"unknown-case-duplicate", v, sign(`{"alg":"HS256","foo":1,"FOO":2}`), ErrMalformed},
		{"unknown-long-s-duplicate", v, sign(`{"alg":"HS256","s":1,"\u017f":2}`), ErrMalformed},
		// JWE members: a JWS defines no compression and no content
		// encryption, so a header with them is not one this package reads.
		{"zip", v, sign(`{"alg":"HS256","zip":"DEF"}`), ErrMalformed},
		{"zip-upper-case", v, sign(`{"alg":"HS256","ZIP":"DEF"}`), ErrMalformed},
		{"zip-escaped", v, sign(`{"alg":"HS256","\u007aip":"DEF"}`), ErrMalformed},
		{"enc", v, sign(`{"alg":"HS256","enc":"A128GCM"}`), ErrMalformed},
		{"zip-and-enc", v, sign(`{"alg":"HS256","enc":"A256GCM","zip":"DEF"}`), ErrMalformed},
	}
	atkCheck(t, cases, atkSecret)
	// DecodeUnverified reads headers by the same rules.
	for _, c := range cases {
		if _, err := DecodeUnverified(c.token); errors.Is(c.want, ErrMalformed) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DecodeUnverified: err = %v, want ErrMalformed", c.name, err)
		}
	}

	// Accepted headers: escapes are decoded, unknown members and white
	// space are fine, nesting within the limit is fine.
	for _, h := range []string{
		`{"alg":"HS\u0032\u00356"}`,
		`{"\u0061lg":"HS256"}`,
		` { "alg" : "HS256" , "typ" : "JWT" } `,
		`{"alg":"HS256","typ":"at+jwt","cty":"x","x5t":"abc","jku":1,"unknown":{"nested":[1,2,{"a":null}]}}`,
		`{"alg":"HS256","x":` + deep(60) + `}`,
		`{"alg":"HS256","kid":"anything: a single key without kid accepts it"}`,
		`{"alg":"HS256","x5t#S256":"abc","x5c":["a"],"Role":"x","lang":"en"}`,
	} {
		if err := v.Verify(sign(h), nil); err != nil {
			t.Errorf("header %.60s: %v", h, err)
		}
	}
}

// atkMembers returns n distinct extra header members.
func atkMembers(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"m%d":%d`, i, i)
	}
	return b.String()
}

// Keys are never taken from the token: jwk, jku, x5u and x5c are ignored,
// and nothing is fetched.
func TestAttackEmbeddedKeys(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"keys":[]}`)
	}))
	defer srv.Close()

	realKey := rfcOK(NewSigningKey(ES256, rfcECPrivate(t, elliptic.P256(), rfc7515A3X, rfc7515A3Y, rfc7515A3D)))
	vES := atkVerifier(t, []*Key{realKey.Public()})
	attackerPriv := rfcOK(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	attacker := rfcOK(NewSigningKey(ES256, attackerPriv))
	pt := rfcOK(attackerPriv.PublicKey.Bytes())
	jwk := fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":"%s","y":"%s"}`, atkEnc(string(pt[1:33])), atkEnc(string(pt[33:])))

	hsReal := atkHMAC(t, atkSecret)
	vHS := atkVerifier(t, []*Key{hsReal})
	hsAttacker := atkHMAC(t, atkOther)
	url := srv.URL + "/.well-known/jwks.json"
	c := atkClaims()

	cases := []atkCase{
		{"embedded-jwk-EC", vES, atkSign(t, attacker, `{"alg":"ES256","jwk":`+jwk+`}`, c), ErrSignature},
		{"embedded-jwk-oct", vHS, atkSign(t, hsAttacker, `{"alg":"HS256","jwk":{"kty":"oct","k":"`+atkEnc(string(atkOther))+`"}}`, c), ErrSignature},
		{"jku", vHS, atkSign(t, hsAttacker, `{"alg":"HS256","jku":"`+url+`"}`, c), ErrSignature},
		{"jku-kid", vHS, atkSign(t, hsAttacker, `{"alg":"HS256","kid":"attacker","jku":"`+url+`"}`, c), ErrSignature},
		{"x5u", vES, atkSign(t, attacker, `{"alg":"ES256","x5u":"`+url+`"}`, c), ErrSignature},
		{"x5c", vES, atkSign(t, attacker, `{"alg":"ES256","x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}`, c), ErrSignature},
		{"jku-x5u-ES256-on-HS-verifier", vHS, atkSign(t, attacker, `{"alg":"ES256","jku":"`+url+`","x5u":"`+url+`"}`, c), ErrAlgorithmMismatch},
	}
	atkCheck(t, cases, atkSecret, atkOther)

	// Signed by the real key, the same headers verify: the members are
	// simply ignored (and still nothing is fetched).
	for _, h := range []string{`{"alg":"HS256","jku":"` + url + `"}`, `{"alg":"HS256","x5u":"` + url + `","jwk":{"kty":"oct","k":"AAAA"}}`} {
		tok := atkSign(t, hsReal, h, c)
		if err := vHS.Verify(tok, nil); err != nil {
			t.Errorf("real token with %s: %v", h, err)
		}
		if _, err := DecodeUnverified(tok); err != nil {
			t.Errorf("DecodeUnverified: %v", err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the verifier made %d HTTP requests to URLs named in tokens", n)
	}
}

func TestAttackECDSA(t *testing.T) {
	priv := rfcECPrivate(t, elliptic.P256(), rfc7515A3X, rfc7515A3Y, rfc7515A3D)
	key := rfcOK(NewSigningKey(ES256, priv))
	v := atkVerifier(t, []*Key{key.Public()})
	good := rfcOK(Sign(key, atkJSON(atkClaims())))
	if err := v.Verify(good, nil); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	sig := atkSig(t, good)
	r, s := sig[:32], sig[32:]
	n := elliptic.P256().Params().N
	N := n.FillBytes(make([]byte, 32))
	cat := func(a, b []byte) []byte { return append(append([]byte(nil), a...), b...) }
	ff := make([]byte, 32)
	for i := range ff {
		ff[i] = 0xff
	}
	one := big.NewInt(1).FillBytes(make([]byte, 32))
	// A DER (ASN.1) signature over the same input, as a naive port would send.
	h, p, _ := atkParts(t, good)
	digest := sha256.Sum256([]byte(h + "." + p))
	der := rfcOK(ecdsa.SignASN1(rand.Reader, priv, digest[:]))
	if !ecdsa.VerifyASN1(&priv.PublicKey, digest[:], der) {
		t.Fatal("DER control signature does not verify")
	}
	zero := make([]byte, 32)
	cases := []atkCase{
		{"r=s=0", v, atkWithSig(t, good, make([]byte, 64)), ErrSignature},
		{"r=0", v, atkWithSig(t, good, cat(zero, s)), ErrSignature},
		{"s=0", v, atkWithSig(t, good, cat(r, zero)), ErrSignature},
		{"r=N", v, atkWithSig(t, good, cat(N, s)), ErrSignature},
		{"s=N", v, atkWithSig(t, good, cat(r, N)), ErrSignature},
		{"r=s=N", v, atkWithSig(t, good, cat(N, N)), ErrSignature},
		{"r=s=2^256-1", v, atkWithSig(t, good, cat(ff, ff)), ErrSignature},
		{"r=s=1", v, atkWithSig(t, good, cat(one, one)), ErrSignature},
		{"r+N-mod-2^256", v, atkWithSig(t, good, cat(new(big.Int).Add(new(big.Int).SetBytes(r), n).FillBytes(make([]byte, 33))[1:], s)), ErrSignature},
		{"DER", v, atkWithSig(t, good, der), ErrSignature},
		{"63-bytes", v, atkWithSig(t, good, sig[:63]), ErrSignature},
		{"65-bytes", v, atkWithSig(t, good, cat(sig, []byte{0})), ErrSignature},
		{"leading-zero-padded-r", v, atkWithSig(t, good, cat(cat([]byte{0}, r), s)), ErrSignature},
		{"swapped-r-s", v, atkWithSig(t, good, cat(s, r)), ErrSignature},
		{"ES384-size", v, atkWithSig(t, good, make([]byte, 96)), ErrSignature},
	}
	atkCheck(t, cases)
}

func TestAttackPayload(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	v := atkVerifier(t, []*Key{key})
	sign := func(p string) string { return atkSign(t, key, `{"alg":"HS256","typ":"JWT"}`, p) }
	exp := atkNow.Unix() + 3600
	e := fmt.Sprintf(`"exp":%d`, exp)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	var many strings.Builder
	for i := range 40 {
		fmt.Fprintf(&many, `"c%d":%d,`, i, i)
	}
	cases := []atkCase{
		{"array", v, sign(`[` + "{" + e + "}" + `]`), ErrMalformed},
		{"string", v, sign(`"{` + e + `}"`), ErrMalformed},
		{"number", v, sign(`1700003600`), ErrMalformed},
		{"null", v, sign(`null`), ErrMalformed},
		{"true", v, sign(`true`), ErrMalformed},
		{"not-json", v, sign(`exp=1700003600`), ErrMalformed},
		{"trailing-garbage", v, sign(`{` + e + `}x`), ErrMalformed},
		{"two-objects", v, sign(`{` + e + `}{"exp":1}`), ErrMalformed},
		{"trailing-bracket", v, sign(`{` + e + `}]`), ErrMalformed},
		{"trailing-comma", v, sign(`{` + e + `,}`), ErrMalformed},
		{"unterminated", v, sign(`{` + e), ErrMalformed},
		{"invalid-utf8", v, sign("{" + e + ",\"sub\":\"\xc3\x28\"}"), ErrMalformed},
		{"raw-control-char", v, sign("{" + e + ",\"sub\":\"a\x01b\"}"), ErrMalformed},
		{"duplicate-exp", v, sign(`{` + e + `,"exp":1}`), ErrMalformed},
		{"duplicate-exp-past-first", v, sign(`{"exp":1,` + e + `}`), ErrMalformed},
		{"duplicate-exp-escaped", v, sign(`{"exp":1,"\u0065xp":` + fmt.Sprint(exp) + `}`), ErrMalformed},
		{"duplicate-sub", v, sign(`{` + e + `,"sub":"alice","sub":"admin"}`), ErrMalformed},
		{"duplicate-custom", v, sign(`{` + e + `,"role":"user","role":"admin"}`), ErrMalformed},
		{"duplicate-after-many", v, sign(`{` + many.String() + `"c7":"x",` + e + `}`), ErrMalformed},
		{"duplicate-escaped-slash", v, sign(`{` + e + `,"a/b":1,"a\/b":2}`), ErrMalformed},
		{"exp-string", v, sign(fmt.Sprintf(`{"exp":"%d"}`, exp)), ErrMalformed},
		{"exp-negative", v, sign(`{"exp":-1}`), ErrMalformed},
		{"exp-negative-zero", v, sign(`{"exp":-0}`), ErrMalformed},
		{"exp-huge", v, sign(`{"exp":1e300}`), ErrMalformed},
		{"exp-huge-integer", v, sign(`{"exp":99999999999999999999999999999}`), ErrMalformed},
		{"exp-year-10000", v, sign(`{"exp":253402300800}`), ErrMalformed},
		{"exp-null", v, sign(`{"exp":null}`), ErrMalformed},
		{"exp-true", v, sign(`{"exp":true}`), ErrMalformed},
		{"exp-array", v, sign(fmt.Sprintf(`{"exp":[%d]}`, exp)), ErrMalformed},
		{"exp-object", v, sign(`{"exp":{}}`), ErrMalformed},
		{"exp-leading-zero", v, sign(`{"exp":01700003600}`), ErrMalformed},
		{"exp-plus", v, sign(`{"exp":+1700003600}`), ErrMalformed},
		{"exp-hex", v, sign(`{"exp":0x65535ef0}`), ErrMalformed},
		{"exp-NaN", v, sign(`{"exp":NaN}`), ErrMalformed},
		{"exp-Infinity", v, sign(`{"exp":Infinity}`), ErrMalformed},
		{"exp-small-exponent-past", v, sign(`{"exp":1e3}`), ErrExpired},
		{"nbf-string", v, sign(`{` + e + `,"nbf":"0"}`), ErrMalformed},
		{"iat-negative", v, sign(`{` + e + `,"iat":-5}`), ErrMalformed},
		{"iss-number", v, sign(`{` + e + `,"iss":1}`), ErrMalformed},
		{"sub-object", v, sign(`{` + e + `,"sub":{}}`), ErrMalformed},
		{"jti-null", v, sign(`{` + e + `,"jti":null}`), ErrMalformed},
		{"aud-number", v, sign(`{` + e + `,"aud":1}`), ErrMalformed},
		{"aud-array-with-number", v, sign(`{` + e + `,"aud":["a",1]}`), ErrMalformed},
		{"aud-nested-array", v, sign(`{` + e + `,"aud":[["a"]]}`), ErrMalformed},
		{"depth-bomb-arrays", v, sign(`{` + e + `,"a":` + deep(3000) + `}`), ErrMalformed},
		{"depth-bomb-objects", v, sign(`{` + e + `,"a":` + deepObj(1000) + `}`), ErrMalformed},
		{"depth-65", v, sign(`{` + e + `,"a":` + deep(64) + `}`), ErrMalformed},
		{"too-many-claims", v, sign(`{` + e + atkMembers(300) + `}`), ErrMalformed},
	}
	atkCheck(t, cases, atkSecret)
	// DecodeUnverified applies the same payload rules.
	for _, c := range cases {
		if c.want != ErrMalformed {
			continue
		}
		if _, err := DecodeUnverified(c.token); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeUnverified %s: err = %v, want ErrMalformed", c.name, err)
		}
	}

	for _, p := range []string{
		`{` + e + `,"a":` + deep(63) + `}`,
		`{` + e + `,"a":` + deepObj(62) + `}`,
		` {` + e + `} `,
		"{\r\n" + e + "\r\n}",
		`{` + e + `,"sub":"\u00e9\ud83d\ude00 \u0000"}`,
		`{` + e + `,"aud":[],"x":[1,2.5e-3,-0,true,false,null,{"y":"z"}]}`,
		`{` + e + atkMembers(200) + `}`,
	} {
		if err := v.Verify(sign(p), nil); err != nil {
			t.Errorf("payload %.60s: %v", p, err)
		}
	}
}

func TestValidationRules(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	now := atkNow.Unix()
	tok := func(p string) string { return rfcOK(Sign(key, atkJSON(p))) }
	at := func(d int64) string { return fmt.Sprint(now + d) }
	ver := func(opts ...Option) *Verifier { return atkVerifier(t, []*Key{key}, opts...) }
	def := ver()
	lee := ver(WithLeeway(60 * time.Second))
	iss := ver(WithIssuer("https://auth.example"))
	aud := ver(WithAudience("api"))
	noExp := ver(AllowMissingExp())
	frac := func(sec int64, nsec int64) *Verifier {
		return atkVerifier(t, []*Key{key}, WithClock(func() time.Time { return time.Unix(sec, nsec) }))
	}

	for _, c := range []struct {
		name string
		v    *Verifier
		p    string
		want error // nil: accepted
	}{
		{"exp-future", def, `{"exp":` + at(1) + `}`, nil},
		{"exp-now", def, `{"exp":` + at(0) + `}`, ErrExpired},
		{"exp-past", def, `{"exp":` + at(-1) + `}`, ErrExpired},
		{"exp-epoch", def, `{"exp":0}`, ErrExpired},
		{"exp-missing", def, `{"sub":"a"}`, ErrMissingExp},
		{"exp-missing-empty", def, `{}`, ErrMissingExp},
		{"exp-missing-allowed", noExp, `{"sub":"a"}`, nil},
		{"exp-missing-allowed-empty", noExp, `{}`, nil},
		{"exp-past-allowed-missing", noExp, `{"exp":` + at(-1) + `}`, ErrExpired},
		{"exp-within-leeway", lee, `{"exp":` + at(-59) + `}`, nil},
		{"exp-at-leeway-edge", lee, `{"exp":` + at(-60) + `}`, ErrExpired},
		{"exp-beyond-leeway", lee, `{"exp":` + at(-61) + `}`, ErrExpired},
		{"exp-fraction-before", frac(1300819380, 4e8), `{"exp":1300819380.5}`, nil},
		{"exp-fraction-at", frac(1300819380, 5e8), `{"exp":1300819380.5}`, ErrExpired},
		{"exp-fraction-after", frac(1300819381, 0), `{"exp":1300819380.5}`, ErrExpired},
		{"exp-exponent", frac(1300819379, 0), `{"exp":1.30081938e9}`, nil},
		{"exp-exponent-at", frac(1300819380, 0), `{"exp":1.30081938e9}`, ErrExpired},
		{"nbf-future", def, `{"exp":` + at(100) + `,"nbf":` + at(10) + `}`, ErrNotYetValid},
		{"nbf-now", def, `{"exp":` + at(100) + `,"nbf":` + at(0) + `}`, nil},
		{"nbf-past", def, `{"exp":` + at(100) + `,"nbf":` + at(-10) + `}`, nil},
		{"nbf-within-leeway", lee, `{"exp":` + at(100) + `,"nbf":` + at(60) + `}`, nil},
		{"nbf-beyond-leeway", lee, `{"exp":` + at(100) + `,"nbf":` + at(61) + `}`, ErrNotYetValid},
		{"nbf-fraction", frac(now, 0), `{"exp":` + at(100) + `,"nbf":` + at(0) + `.001}`, ErrNotYetValid},
		{"iat-future", def, `{"exp":` + at(100) + `,"iat":` + at(1) + `}`, ErrIssuedInFuture},
		{"iat-now", def, `{"exp":` + at(100) + `,"iat":` + at(0) + `}`, nil},
		{"iat-past", def, `{"exp":` + at(100) + `,"iat":0}`, nil},
		{"iat-within-leeway", lee, `{"exp":` + at(100) + `,"iat":` + at(60) + `}`, nil},
		{"iat-beyond-leeway", lee, `{"exp":` + at(100) + `,"iat":` + at(61) + `}`, ErrIssuedInFuture},
		{"iss-ok", iss, `{"exp":` + at(100) + `,"iss":"https://auth.example"}`, nil},
		{"iss-escaped", iss, `{"exp":` + at(100) + `,"iss":"https:\/\/auth.\u0065xample"}`, nil},
		{"iss-wrong", iss, `{"exp":` + at(100) + `,"iss":"https://evil.example"}`, ErrIssuer},
		{"iss-prefix", iss, `{"exp":` + at(100) + `,"iss":"https://auth.example.evil"}`, ErrIssuer},
		{"iss-case", iss, `{"exp":` + at(100) + `,"iss":"https://AUTH.example"}`, ErrIssuer},
		{"iss-trailing-nul", iss, `{"exp":` + at(100) + `,"iss":"https://auth.example\u0000"}`, ErrIssuer},
		{"iss-missing", iss, `{"exp":` + at(100) + `}`, ErrIssuer},
		{"iss-empty", iss, `{"exp":` + at(100) + `,"iss":""}`, ErrIssuer},
		{"iss-array", iss, `{"exp":` + at(100) + `,"iss":["https://auth.example"]}`, ErrMalformed},
		{"iss-not-required", def, `{"exp":` + at(100) + `,"iss":"anyone"}`, nil},
		{"aud-string", aud, `{"exp":` + at(100) + `,"aud":"api"}`, nil},
		{"aud-list", aud, `{"exp":` + at(100) + `,"aud":["web","api"]}`, nil},
		{"aud-list-one", aud, `{"exp":` + at(100) + `,"aud":["api"]}`, nil},
		{"aud-escaped", aud, `{"exp":` + at(100) + `,"aud":["\u0061pi"]}`, nil},
		{"aud-string-wrong", aud, `{"exp":` + at(100) + `,"aud":"web"}`, ErrAudience},
		{"aud-list-wrong", aud, `{"exp":` + at(100) + `,"aud":["web","apis","ap"]}`, ErrAudience},
		{"aud-list-empty", aud, `{"exp":` + at(100) + `,"aud":[]}`, ErrAudience},
		{"aud-empty-string", aud, `{"exp":` + at(100) + `,"aud":""}`, ErrAudience},
		{"aud-missing", aud, `{"exp":` + at(100) + `}`, ErrAudience},
		{"aud-substring", aud, `{"exp":` + at(100) + `,"aud":"api2"}`, ErrAudience},
		{"aud-not-required", def, `{"exp":` + at(100) + `,"aud":["x"]}`, nil},
		{"aud-null", aud, `{"exp":` + at(100) + `,"aud":null}`, ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := tok(c.p)
			err := c.v.Verify(token, nil)
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			atkHygiene(t, err, token, atkSecret)
			var cl Claims
			if err := c.v.Verify(token, &cl); !errors.Is(err, c.want) || cl.Subject != "" || !cl.ExpiresAt.IsZero() {
				t.Fatalf("into *Claims: err = %v, claims %+v", err, cl)
			}
		})
	}
}

func TestKeySelection(t *testing.T) {
	a := atkHMAC(t, atkSecret).WithKeyID("a")
	b := atkHMAC(t, atkOther).WithKeyID("b")
	es := rfcOK(NewSigningKey(ES256, rfcECPrivate(t, elliptic.P256(), rfc7515A3X, rfc7515A3Y, rfc7515A3D))).WithKeyID("e")
	multi := atkVerifier(t, []*Key{a, b, es.Public()})
	c := atkClaims()

	for _, k := range []*Key{a, b, es} {
		if err := multi.Verify(rfcOK(Sign(k, atkJSON(c))), nil); err != nil {
			t.Errorf("token of key %s refused: %v", k.KeyID(), err)
		}
		if err := multi.Verify(atkSign(t, k, `{"kid":"`+k.KeyID()+`","alg":"`+string(k.Algorithm())+`"}`, c), nil); err != nil {
			t.Errorf("parsed header, key %s: %v", k.KeyID(), err)
		}
	}
	plainA := atkHMAC(t, atkSecret)
	cases := []atkCase{
		{"kid-of-other-key", multi, atkSign(t, a, `{"alg":"HS256","kid":"b"}`, c), ErrSignature},
		{"unknown-kid", multi, atkSign(t, a, `{"alg":"HS256","kid":"c"}`, c), ErrKeyNotFound},
		{"kid-case", multi, atkSign(t, a, `{"alg":"HS256","kid":"A"}`, c), ErrKeyNotFound},
		{"kid-empty", multi, atkSign(t, a, `{"alg":"HS256","kid":""}`, c), ErrKeyNotFound},
		{"no-kid", multi, rfcOK(Sign(plainA, atkJSON(c))), ErrKeyNotFound},
		{"HS256-with-EC-kid", multi, atkSign(t, a, `{"alg":"HS256","kid":"e"}`, c), ErrAlgorithmMismatch},
		{"ES256-with-HMAC-kid", multi, atkSign(t, es, `{"alg":"ES256","kid":"a"}`, c), ErrAlgorithmMismatch},
		{"long-unknown-kid", multi, atkSign(t, a, `{"alg":"HS256","kid":"`+strings.Repeat("k", 5000)+`"}`, c), ErrKeyNotFound},
	}
	// A single key with a kid only accepts its own kid.
	single := atkVerifier(t, []*Key{a})
	cases = append(cases,
		atkCase{"single-kid-mismatch", single, atkSign(t, a, `{"alg":"HS256","kid":"b"}`, c), ErrKeyNotFound},
	)
	atkCheck(t, cases, atkSecret, atkOther)
	if err := single.Verify(rfcOK(Sign(a, atkJSON(c))), nil); err != nil {
		t.Errorf("single key with kid, own token: %v", err)
	}
	// A single key without a kid accepts any kid.
	anyKid := atkVerifier(t, []*Key{plainA})
	for _, kid := range []string{"", "a", "b", "whatever"} {
		if err := anyKid.Verify(atkSign(t, plainA, `{"alg":"HS256","kid":"`+kid+`"}`, c), nil); err != nil {
			t.Errorf("single key without kid, token kid %q: %v", kid, err)
		}
	}
	// Construction rules.
	if _, err := NewVerifier(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("no keys: err = %v", err)
	}
	if _, err := NewVerifier([]*Key{a, b.WithKeyID("a")}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("duplicate kid: err = %v", err)
	}
	if _, err := NewVerifier([]*Key{a, plainA}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("several keys, one without kid: err = %v", err)
	}
	if _, err := NewVerifier([]*Key{a, nil}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: err = %v", err)
	}
}

// A public key can verify but never sign; weak keys are refused.
func TestKeyConstructionRefusals(t *testing.T) {
	es := rfcOK(NewSigningKey(ES256, rfcECPrivate(t, elliptic.P256(), rfc7515A3X, rfc7515A3Y, rfc7515A3D)))
	if _, err := Sign(es.Public(), atkJSON(atkClaims())); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("signing with a public key: err = %v", err)
	}
	// A nil key is an error, not a panic.
	for name, f := range map[string]func() (string, error){
		"Sign":    func() (string, error) { return Sign(nil, atkJSON(atkClaims())) },
		"SignJWS": func() (string, error) { return SignJWS(nil, []byte("x")) },
	} {
		if err := atkNoPanic(f); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s(nil key): err = %v, want ErrInvalidKey", name, err)
		}
	}
	for alg, n := range map[Algorithm]int{HS256: 31, HS384: 47, HS512: 63} {
		if _, err := NewHMACKey(alg, make([]byte, n)); !errors.Is(err, ErrWeakKey) {
			t.Errorf("%s with %d bytes: err = %v", alg, n, err)
		}
		if _, err := NewHMACKey(alg, make([]byte, n+1)); err != nil {
			t.Errorf("%s with %d bytes: %v", alg, n+1, err)
		}
	}
	if _, err := NewHMACKey(RS256, atkSecret); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("HMAC key for RS256: err = %v", err)
	}
	if _, err := NewHMACKey("none", atkSecret); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("HMAC key for none: err = %v", err)
	}
	if _, err := NewVerificationKey(ES384, es.PublicKey()); !errors.Is(err, ErrWeakKey) {
		t.Errorf("P-256 key for ES384: err = %v", err)
	}
	if _, err := NewVerificationKey(RS256, es.PublicKey()); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("EC key for RS256: err = %v", err)
	}
	if _, err := NewVerificationKey("none", es.PublicKey()); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("key for none: err = %v", err)
	}
	n1024 := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 1023), big.NewInt(1))
	small := &rsa.PublicKey{N: n1024, E: 65537}
	if _, err := NewVerificationKey(RS256, small); !errors.Is(err, ErrWeakKey) {
		t.Errorf("1024-bit RSA: err = %v", err)
	}
}

// atkNoPanic runs f, turning a panic into an error.
func atkNoPanic(f func() (string, error)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	_, err = f()
	return err
}

// encoding/json matches member names case-insensitively, with Unicode
// folding ("ISS", "Iss" and "iſs" all fill Issuer), and keeps the last of
// several matches, while validation reads the exact registered names
// (RFC 7519 names are case-sensitive). Whatever type the claims are
// decoded into, the caller must get the registered claims that were
// validated, or an error: {"iss":"good","ISS":"evil"} must not pass the
// issuer check on one value and hand the caller the other.
func TestAttackCaseInsensitiveClaims(t *testing.T) {
	key := atkHMAC(t, atkSecret)
	exp := atkNow.Unix() + 3600
	e := fmt.Sprintf(`"exp":%d`, exp)
	for _, c := range []struct {
		name    string
		payload string
		opts    []Option
	}{
		{"upper-case-duplicates", `{"iss":"https://good.example","sub":"alice","aud":"api",` + e + `,"ISS":"https://evil.example","Sub":"admin","AUD":"other","EXP":1}`,
			[]Option{WithIssuer("https://good.example"), WithAudience("api")}},
		{"upper-case-first", `{"ISS":"https://evil.example","iss":"https://good.example",` + e + `}`, []Option{WithIssuer("https://good.example")}},
		{"upper-case-alone", `{"SUB":"admin",` + e + `}`, nil},
		{"escaped-upper-case", `{"\u0053UB":"admin",` + e + `}`, nil},
		{"long-s-raw", "{\"\u017fub\":\"admin\"," + e + "}", nil},
		{"long-s-escaped", `{"\u017fub":"admin",` + e + `}`, nil},
		{"long-s-escaped-with-sub", `{"sub":"alice","\u017fub":"admin",` + e + `}`, nil},
		{"long-s-escaped-iss", `{"i\u017f\u017f":"https://evil.example",` + e + `}`, nil},
		{"long-s-escaped-iss-checked", `{"iss":"https://good.example","i\u017fs":"https://evil.example",` + e + `}`, []Option{WithIssuer("https://good.example")}},
		{"kelvin-is-not-registered", `{"\u212aid":"x",` + e + `}`, nil},
		{"custom-claim-case", `{"role":"user","ROLE":"admin",` + e + `}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := atkVerifier(t, []*Key{key}, c.opts...)
			tok := rfcOK(Sign(key, atkJSON(c.payload)))
			var fast Claims
			errFast := v.Verify(tok, &fast)
			var viaJSON struct {
				Claims
				Role string `json:"role"`
			}
			errJSON := v.Verify(tok, &viaJSON)
			if errFast != nil || errJSON != nil {
				if !errors.Is(errFast, ErrMalformed) || !errors.Is(errJSON, ErrMalformed) {
					t.Fatalf("Verify(*Claims) = %v, Verify(struct) = %v; want both nil or both ErrMalformed", errFast, errJSON)
				}
				return
			}
			got := viaJSON.Claims
			if !fzSameClaims(fast, got) {
				t.Errorf("validated iss=%q sub=%q aud=%q exp=%v, but the struct received iss=%q sub=%q aud=%q exp=%v",
					fast.Issuer, fast.Subject, fast.Audience, fast.ExpiresAt.Unix(), got.Issuer, got.Subject, got.Audience, got.ExpiresAt.Unix())
			}
			if u, err := DecodeUnverified(tok); err != nil {
				t.Errorf("DecodeUnverified refuses what Verify accepts: %v", err)
			} else {
				var slow Claims
				if err := u.Claims(&slow); err != nil || !fzSameClaims(fast, slow) {
					t.Errorf("Unverified.Claims: %+v, %v; scanner: %+v", slow, err, fast)
				}
			}
		})
	}
}

// A token with the wrong number of segments says how many it has, also
// when the extra dots are in the signature, where split finds them only
// because decoding it fails.
func TestVerifySaysHowManySegments(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier([]*Key{k}, AllowMissingExp())
	if err != nil {
		t.Fatal(err)
	}
	good := atkSign(t, k, `{"alg":"HS256"}`, `{"sub":"a"}`)
	h, p, s := atkParts(t, good)
	for tok, n := range map[string]int{
		h + "." + p:                             2,
		good + ".x":                             4,
		good + ".":                              4,
		h + "." + p + "." + s[:5] + "." + s[5:]: 4,
		h + "." + p + "." + s[:5] + "." + s[5:] + ".AA": 5,
	} {
		err := v.Verify(tok, nil)
		if want := fmt.Sprintf("%d segments", n); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want ErrMalformed saying %q", tok, err, want)
		}
	}
}
