package jwt

// Fuzz targets. Seeds come from f.Add (valid tokens made at run time) and
// from testdata/fuzz/<FuzzName>/ (attack tokens and inputs that once
// failed). Run one with, e.g.:
//
//	cd jwt && go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 60s .
//
// The seed files of FuzzVerify and FuzzDecodeUnverified are written by
// TestWriteFuzzSeeds (JWT_WRITE_FUZZ_SEEDS=1), so they stay in step with
// the attack tables.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	fzSecret = []byte("fuzz-secret-0123456789abcdef-0123456789") // HS256, also in the seed files
	fzNow    = time.Unix(1_700_000_000, 0)
)

var fzSentinels = []error{
	ErrMalformed, ErrTooLarge, ErrUnsupportedAlgorithm, ErrAlgorithmMismatch, ErrKeyNotFound,
	ErrSignature, ErrCritical, ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrMissingExp,
	ErrIssuer, ErrAudience, ErrWeakKey, ErrInvalidKey,
}

// fzOneSentinel checks that err wraps exactly one sentinel error.
func fzOneSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range fzSentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d sentinel errors, want 1", err, n)
	}
}

func fzKey(t testing.TB) *Key {
	t.Helper()
	k, err := NewHMACKey(HS256, fzSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fzValidTokens returns tokens the fuzz verifiers accept.
func fzValidTokens(t testing.TB) []string {
	t.Helper()
	k := fzKey(t)
	exp := fzNow.Unix() + 3600
	var out []string
	for _, p := range []string{
		fmt.Sprintf(`{"sub":"alice","exp":%d}`, exp),
		fmt.Sprintf(`{"iss":"https://auth.example","sub":"42","aud":["api","web"],"exp":%d,"nbf":%d,"iat":%d,"jti":"x","role":"admin"}`, exp, fzNow.Unix()-10, fzNow.Unix()-10),
		`{}`,
		`{"aud":"api","sub":"\u00e9\ud83d\ude00\"\\\/","x":[1,2.5,{"y":null}]}`,
		fmt.Sprintf(`{"exp":%d.25,"a":1e5}`, exp),
	} {
		out = append(out, atkSignRaw(t, k, k.hdrJWT, atkEnc(p)))
		out = append(out, atkSign(t, k, `{"alg":"HS256","kid":"k1"}`, p))
	}
	out = append(out, atkSign(t, k, `{"\u0061lg":"HS\u0032\u00356","typ":"JWT"}`, `{"a":"b"}`))
	return out
}

// fzAttackTokens returns hostile tokens built the way attack_test.go
// builds them, signed with the fuzz key where a signature matters.
func fzAttackTokens(t testing.TB) []string {
	t.Helper()
	k := fzKey(t)
	other := atkHMAC(t, atkOther)
	exp := fmt.Sprint(fzNow.Unix() + 3600)
	c := `{"sub":"alice","exp":` + exp + `}`
	good := atkSign(t, k, `{"alg":"HS256","typ":"JWT"}`, c)
	h, p, s := atkParts(t, good)
	out := []string{
		"", ".", "..", "...", h, h + "." + p, h + "." + p + ".", good + ".", good + "." + s,
		"." + p + "." + s, h + ".." + s, good + "=", h + "." + p + "=." + s, " " + good, good + "\n",
		h + "." + p + "." + s[:10] + "\r\n" + s[10:], h + "." + p + "." + strings.ReplaceAll(s, "-", "+"),
		h + "." + p + "." + atkNonCanonical(t, s),
		atkWithSig(t, good, atkSig(t, good)[:31]),
		atkWithSig(t, good, make([]byte, 32)),
		atkSign(t, other, `{"alg":"HS256","typ":"JWT"}`, c),
		atkEnc(`{"alg":"HS256","typ":"JWT","x":1}`) + "." + p + "." + s,
		h + "." + atkEnc(strings.Replace(c, "alice", "alicf", 1)) + "." + s,
	}
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		hn := atkEnc(`{"alg":"` + none + `","typ":"JWT"}`)
		out = append(out, hn+"."+p+".", atkSignRaw(t, k, hn, p))
	}
	for _, hdr := range []string{
		`{}`, `{"typ":"JWT"}`, `{"alg":null}`, `{"alg":256}`, `{"alg":["HS256"]}`, `{"alg":""}`,
		`{"alg":"HS256","alg":"none"}`, `{"alg":"HS256","\u0061lg":"none"}`, `{"\u0061lg":"none","alg":"HS256"}`,
		`{"alg":"HS256","crit":["exp"],"exp":1}`, `{"alg":"HS256","b64":false}`, `{"alg":"HS256","kid":1}`,
		`{"alg":"HS256","jku":"http://127.0.0.1:1/jwks","x5u":"http://127.0.0.1:1/x5u"}`,
		`{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}`, `["alg","HS256"]`, `"HS256"`, `null`,
		`{"alg":"HS256"}x`, `{"alg":"HS256",}`, `{"alg":"RS256"}`, `{"alg":"ES256"}`, `{"alg":"EdDSA"}`,
		`{"alg":"HS384"}`, `{"alg":"HS256","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"alg":"HS256","kid":"k2"}`, `{"alg":"HS256","kid":"unknown"}`, `{"alg":"HS256","kid":""}`,
	} {
		out = append(out, atkSign(t, k, hdr, c))
	}
	for _, pay := range []string{
		`[]`, `"x"`, `1`, `null`, `{}x`, `{"exp":1,"exp":` + exp + `}`, `{"exp":1,"\u0065xp":` + exp + `}`,
		`{"a/b":1,"a\/b":2,"exp":` + exp + `}`, `{"exp":"` + exp + `"}`, `{"exp":-1}`, `{"exp":1e300}`,
		`{"exp":253402300800}`, `{"exp":` + exp + `,"nbf":` + exp + `}`, `{"exp":` + exp + `,"iat":` + exp + `}`,
		`{"exp":` + exp + `,"aud":1}`, `{"exp":` + exp + `,"aud":["a",1]}`, `{"exp":` + exp + `,"iss":1}`,
		`{"exp":` + exp + `,"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		"{\"exp\":" + exp + ",\"sub\":\"\xff\"}", `{"exp":1300819380.5}`, `{"exp":300000000000e-3}`,
		`{"exp":` + exp + atkMembers(300) + `}`,
		// Names that differ only in case: distinct for RFC 7519, equal
		// for encoding/json.
		`{"iss":"https://good.example","ISS":"https://evil.example","sub":"alice","Sub":"admin"}`,
		`{"\u017fub":"admin","i\u017fs":"https://evil.example"}`,
	} {
		out = append(out, atkSign(t, k, `{"alg":"HS256","typ":"JWT"}`, pay))
	}
	out = append(out, rfc7515PayloadB64, rfc7520HS256, rfc7520RS256,
		"eyJhbGciOiJub25lIn0."+rfc7515PayloadB64+".",
		"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."+rfc7515PayloadB64+".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	// Header names encoding/json would read as another, and JWE members.
	for _, hdr := range []string{
		`{"alg":"HS256","ALG":"none"}`, `{"ALG":"none","alg":"HS256"}`, `{"alg":"HS256","\u0041lg":"none"}`,
		`{"alg":"HS256","kid":"k1","KID":"k2"}`, `{"alg":"HS256","\u212aid":"k2"}`, `{"alg":"HS256","CRIT":["x"]}`,
		`{"alg":"HS256","x5t#s256":"a"}`, `{"alg":"HS256","a":1,"A":2}`,
		`{"alg":"HS256","zip":"DEF"}`, `{"alg":"HS256","enc":"A128GCM"}`,
	} {
		out = append(out, atkSign(t, k, hdr, c))
	}
	return out
}

// fzVerifiers: a single kid-less key (checks any kid) and two keys by kid.
func fzVerifiers(t testing.TB) []*Verifier {
	t.Helper()
	k := fzKey(t)
	opts := []Option{WithClock(func() time.Time { return fzNow }), AllowMissingExp()}
	v1, err := NewVerifier([]*Key{k}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := NewVerifier([]*Key{k.WithKeyID("k1"), atkHMAC(t, atkOther).WithKeyID("k2")}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return []*Verifier{v1, v2}
}

// fzCanonical checks that seg is the one canonical base64url spelling of
// its bytes, and returns them.
func fzCanonical(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		t.Fatalf("accepted segment %.40q is not strict base64url: %v", seg, err)
	}
	if base64.RawURLEncoding.EncodeToString(b) != seg {
		t.Fatalf("accepted segment %.40q is not canonical", seg)
	}
	return b
}

func FuzzVerify(f *testing.F) {
	for _, tok := range fzValidTokens(f) {
		f.Add(tok)
	}
	vs := fzVerifiers(f)
	for _, v := range vs[:1] {
		for _, tok := range fzValidTokens(f) {
			if err := v.Verify(tok, nil); err != nil {
				f.Fatalf("seed %s refused: %v", tok, err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, token string) {
		for vi, v := range vs {
			err := v.Verify(token, nil)
			var c Claims
			errC := v.Verify(token, &c)
			if (err == nil) != (errC == nil) {
				t.Fatalf("verifier %d: Verify(nil) = %v but Verify(*Claims) = %v", vi, err, errC)
			}
			payload, errJ := v.VerifyJWS(token)
			if err != nil {
				fzOneSentinel(t, err)
				if strings.Contains(err.Error(), string(fzSecret)) || (len(token) > 40 && strings.Contains(err.Error(), token)) {
					t.Fatalf("error message leaks: %q", err)
				}
				continue
			}
			if errJ != nil {
				t.Fatalf("verifier %d: Verify accepts but VerifyJWS says %v", vi, errJ)
			}
			// Accepted: the token is three canonical segments and its
			// signature is the HMAC of the signing input under our key.
			parts := strings.Split(token, ".")
			if len(parts) != 3 {
				t.Fatalf("accepted token has %d segments", len(parts))
			}
			hdr := fzCanonical(t, parts[0])
			if p := fzCanonical(t, parts[1]); !bytes.Equal(p, payload) {
				t.Fatalf("VerifyJWS payload differs from the token's")
			}
			sig := fzCanonical(t, parts[2])
			mac := hmac.New(sha256.New, fzSecret)
			mac.Write([]byte(parts[0] + "." + parts[1]))
			if !hmac.Equal(mac.Sum(nil), sig) {
				t.Fatalf("accepted a token that the key did not sign: %q", token)
			}
			// The header says HS256, as encoding/json reads it.
			var h map[string]any
			if err := json.Unmarshal(hdr, &h); err != nil || h["alg"] != "HS256" {
				t.Fatalf("accepted header %q: %v", hdr, err)
			}
			if !utf8.Valid(payload) || !jsnWantObject(payload) {
				t.Fatalf("accepted payload %q is not a JSON object", payload)
			}
			// No member name appears twice, as encoding/json reads names.
			fzNoDuplicates(t, "header", hdr)
			fzHeaderStrict(t, hdr)
			fzNoDuplicates(t, "payload", payload)
			// Decoding through encoding/json hands back the same
			// registered claims as the scanner (which validated them).
			var viaJSON struct {
				Claims
				Role string `json:"role"`
			}
			if err := v.Verify(token, &viaJSON); err == nil {
				if !fzSameClaims(c, viaJSON.Claims) {
					t.Fatalf("payload %q:\n*Claims %+v\nstruct  %+v", payload, c, viaJSON.Claims)
				}
			} else if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify into a struct: %v", err)
			}
			// Accepting is repeatable, and DecodeUnverified agrees.
			if err := v.Verify(token, nil); err != nil {
				t.Fatalf("second Verify: %v", err)
			}
			u, err := DecodeUnverified(token)
			if err != nil || u.Algorithm != "HS256" || !bytes.Equal(u.Payload, payload) {
				t.Fatalf("DecodeUnverified of an accepted token: %+v, %v", u, err)
			}
		}
	})
}

func FuzzDecodeUnverified(f *testing.F) {
	for _, tok := range fzValidTokens(f) {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		u, err := DecodeUnverified(token)
		if err != nil {
			fzOneSentinel(t, err)
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrSignature) {
				t.Fatalf("DecodeUnverified fails with %v", err)
			}
			return
		}
		for _, part := range []struct {
			name string
			b    []byte
		}{{"header", u.Header}, {"payload", u.Payload}} {
			if !jsnWantObject(part.b) {
				t.Fatalf("%s %q is not one JSON object (or has invalid UTF-8)", part.name, part.b)
			}
		}
		fzNoDuplicates(t, "header", u.Header)
		fzHeaderStrict(t, u.Header)
		fzNoDuplicates(t, "payload", u.Payload)
		// encoding/json reads the same alg and kid.
		dec := json.NewDecoder(bytes.NewReader(u.Header))
		dec.UseNumber()
		var h map[string]any
		if err := dec.Decode(&h); err != nil {
			t.Fatalf("header %q: %v", u.Header, err)
		}
		if h["alg"] != u.Algorithm {
			t.Fatalf("alg: encoding/json %q, DecodeUnverified %q", h["alg"], u.Algorithm)
		}
		if kid, ok := h["kid"]; ok && kid != u.KeyID {
			t.Fatalf("kid: encoding/json %q, DecodeUnverified %q", kid, u.KeyID)
		}
		// The registered claims read without reflection equal those
		// encoding/json reads.
		var rc scanned
		if err := scanClaims(u.Payload, &rc); err != nil {
			t.Fatalf("scanClaims after DecodeUnverified: %v", err)
		}
		// encoding/json also matches member names case-insensitively
		// ("ISS" fills Issuer): such payloads must have been refused.
		var slow Claims
		if err := u.Claims(&slow); err != nil {
			t.Fatalf("encoding/json refuses payload %q: %v", u.Payload, err)
		}
		var fast Claims
		rc.fill(text(u.Payload), u.Payload, &fast)
		if !fzSameClaims(fast, slow) {
			t.Fatalf("claims of %q:\nscanner       %+v\nencoding/json %+v", u.Payload, fast, slow)
		}
	})
}

// FuzzBase64 checks the hot-path decoder against encoding/base64: the
// same bytes accepted (minus CR and LF, which JWS forbids and
// encoding/base64 skips) and the same output.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "eyJhbGciOiJIUzI1NiJ9", "-_-_", "+/+/", "AA==", "AA\n", "QUJDREVGR0g", "QUJDREVGR0gx", "QUJDREVGR0gxMg"} {
		f.Add([]byte(s))
	}
	// Long enough for the 32- and 16-character rounds, with a bad
	// character or a line break in each eighth of a 32-character round.
	long := "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODktXw"
	for _, n := range []int{32, 33, 34, 48, 50, 64, 66, len(long)} {
		f.Add([]byte(long[:n]))
	}
	for i := 2; i < 40; i += 4 {
		for _, c := range []string{"+", "=", "\n", "."} {
			f.Add([]byte(long[:i] + c + long[i+1:]))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		want := make([]byte, base64.RawURLEncoding.DecodedLen(len(src)))
		wn, err := base64.RawURLEncoding.Strict().Decode(want, src)
		wantOK := err == nil && !bytes.ContainsAny(src, "\r\n")
		got := make([]byte, max(decodedLen(len(src)), 0)+len(src)%9) // 0-8 bytes of slack: both store loops
		n, ok := decodeB64URL(got, src)
		if ok != wantOK {
			t.Fatalf("decodeB64URL(%q) ok = %v, encoding/base64 says %v (%v)", src, ok, wantOK, err)
		}
		if ok && !bytes.Equal(got[:n], want[:wn]) {
			t.Fatalf("decodeB64URL(%q) = %x, encoding/base64 says %x", src, got[:n], want[:wn])
		}
		// decodeSeg agrees and keeps encoding/base64's error for the message.
		out, _, err := decodeSeg(make([]byte, 0, len(src)), src)
		if (err == nil) != ok || (ok && !bytes.Equal(out, got[:n])) {
			t.Fatalf("decodeSeg(%q) = %x, %v; decodeB64URL says %v", src, out, err, ok)
		}
	})
}

func FuzzScanner(f *testing.F) {
	for _, s := range jsnValues {
		f.Add([]byte(s))
		f.Add([]byte(`{"v":` + s + `}`))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := validObject(b), jsnWantObject(b)
		if got != want {
			t.Fatalf("validObject(%q) = %v; encoding/json (with UTF-8 and depth rules) says %v", b, got, want)
		}
		end, ok := scanValue(b, 0, 0)
		if full := ok && end == len(b); full != jsnWantValue(b) {
			t.Fatalf("scanValue(%q) = %d, %v; want whole=%v", b, end, ok, jsnWantValue(b))
		}
		if !got {
			return
		}
		// The members, names unescaped, are those encoding/json sees.
		want2 := jsnMembers(t, b)
		it, _ := openObject(b)
		var have []jsnMember
		for {
			name, val, more, ok := it.next()
			if !ok {
				t.Fatalf("objIter fails on valid %q", b)
			}
			if !more {
				break
			}
			have = append(have, jsnMember{string(nameBytes(b, name)), string(b[val.start:val.end])})
		}
		if fmt.Sprint(have) != fmt.Sprint(want2) {
			t.Fatalf("members of %q:\n got %q\nwant %q", b, have, want2)
		}
	})
}

// fzNoDuplicates fails if the JSON object b has two members of the same
// name (after unescaping).
func fzNoDuplicates(t *testing.T, what string, b []byte) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range jsnMembers(t, b) {
		if seen[m.name] {
			t.Fatalf("accepted %s %q has member %q twice", what, b, m.name)
		}
		seen[m.name] = true
	}
}

// fzHeaderStrict checks an accepted header by the rules encoding/json
// readers need: no two names that fold to one another, registered names
// spelled exactly, and no JWE members.
func fzHeaderStrict(t *testing.T, hdr []byte) {
	t.Helper()
	ms := jsnMembers(t, hdr)
	for i, m := range ms {
		if m.name == "zip" || m.name == "enc" {
			t.Fatalf("accepted header %q has %s", hdr, m.name)
		}
		for _, r := range headerNames {
			if m.name != r && strings.EqualFold(m.name, r) {
				t.Fatalf("accepted header %q has %q, a variant of %s", hdr, m.name, r)
			}
		}
		for _, o := range ms[:i] {
			if strings.EqualFold(o.name, m.name) {
				t.Fatalf("accepted header %q has %q and %q", hdr, o.name, m.name)
			}
		}
	}
}

func fzSameClaims(a, b Claims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.ID == b.ID &&
		reflect.DeepEqual(a.Audience, b.Audience) &&
		a.ExpiresAt.Equal(b.ExpiresAt.Time) && a.NotBefore.Equal(b.NotBefore.Time) && a.IssuedAt.Equal(b.IssuedAt.Time)
}

var fzMaxDate = new(big.Rat).SetInt64(maxNumericDate)

// fzRat returns the exact value of a JSON number, or ok=false when its
// exponent is too large to evaluate (then side reports which side of 1 it
// is on: +1 huge, -1 tiny).
func fzRat(s string) (r *big.Rat, side int, ok bool) {
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		e, err := strconv.Atoi(expPart)
		if err != nil || e > 400 || e < -400 {
			if strings.HasPrefix(expPart, "-") {
				return nil, -1, false
			}
			return nil, +1, false
		}
	}
	r, okR := new(big.Rat).SetString(mant)
	if !okR {
		panic("bad mantissa " + mant)
	}
	if hasExp {
		e, _ := strconv.Atoi(expPart)
		p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(fzAbs(e))), nil))
		if e >= 0 {
			r.Mul(r, p)
		} else {
			r.Quo(r, p)
		}
	}
	return r, 0, true
}

func fzAbs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func FuzzNumericDate(f *testing.F) {
	for _, s := range []string{
		"0", "1", "1300819380", "1300819380.5", "1.30081938e9", "1.30081938E+9", "253402300799", "253402300800",
		"253402300799.5", "253402300798.999999999", "-1", "-0", "1e300", "01", "1e-7", "0.000000001",
		"0.0000000009", "1.", ".5", "1e", "0e0", "1E2", "1e+2", "9e-400", "1e400", "0x10", " 1", "1 ", "",
		"18446744073709551616", "9223372036854775808", "1300819380.1234567891234",
		// Valid dates whose integer digits alone exceed the maximum.
		"300000000000e-3", "999999999999e-5", "1300819380000000000e-9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		d, ok := parseNumericDate(b)
		end, okN := scanNumber(b, 0)
		if len(b) > 0 && '0' <= b[0] && b[0] <= '9' { // the claims scanner's one-pass path agrees
			e2, d2, ok2 := scanNumberDate(b, 0)
			want, wantOK := date{}, false
			if okN {
				want, wantOK = scanDate(b[:end])
			}
			if ok2 != okN || okN && (e2 != end || d2.set != wantOK || wantOK && d2 != want) {
				t.Fatalf("scanNumberDate(%q) = %d, %+v, %v; scanNumber+scanDate say %d, %+v, %v", s, e2, d2, ok2, end, want, okN)
			}
		}
		isNumber := okN && end == len(b)
		if want := len(b) > 0 && (b[0] == '-' || ('0' <= b[0] && b[0] <= '9')) && !isWS(b[len(b)-1]) && json.Valid(b); isNumber != want {
			t.Fatalf("scanNumber(%q) = %d, %v; encoding/json says number=%v", s, end, okN, want)
		}
		if !isNumber {
			if ok {
				t.Fatalf("parseNumericDate accepts non-number %q", s)
			}
			return
		}
		r, bigSide, exact := fzRat(s)
		var want bool
		switch {
		case b[0] == '-':
			want = false // negative numbers, even -0, are refused
		case !exact:
			want = bigSide < 0 || strings.Trim(strings.SplitN(strings.ToLower(s), "e", 2)[0], "0.") == ""
		default:
			want = r.Cmp(fzMaxDate) <= 0
		}
		nearMax := exact && new(big.Rat).Sub(r, fzMaxDate).Abs(new(big.Rat).Sub(r, fzMaxDate)).Cmp(big.NewRat(1, 1000)) < 0
		if ok != want && !nearMax {
			t.Fatalf("parseNumericDate(%q) ok = %v, want %v", s, ok, want)
		}
		if !ok {
			return
		}
		if d.Location() != time.UTC || d.IsZero() {
			t.Fatalf("parseNumericDate(%q) = %v", s, d.Time)
		}
		if exact {
			got := new(big.Rat).Add(new(big.Rat).SetInt64(d.Unix()), big.NewRat(int64(d.Nanosecond()), 1e9))
			diff := new(big.Rat).Sub(got, r)
			diff.Abs(diff)
			tol := new(big.Rat).Add(big.NewRat(1, 1e9), new(big.Rat).Mul(new(big.Rat).Abs(r), big.NewRat(1, 1<<50)))
			if diff.Cmp(tol) > 0 {
				t.Fatalf("parseNumericDate(%q) = %d.%09d, off by %s", s, d.Unix(), d.Nanosecond(), diff.FloatString(12))
			}
		}
		// It marshals to a number that reads back as the same instant.
		out, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, ok := parseNumericDate(out)
		if !ok || !back.Equal(d.Time) {
			t.Fatalf("%q -> %s -> %v, %v", s, out, back.Time, ok)
		}
	})
}

// fzSeedFiles returns the contents of the committed seed files by fuzz
// target and file name.
func fzSeedFiles(t testing.TB) map[string]map[string]string {
	t.Helper()
	files := map[string]map[string]string{"FuzzVerify": {}, "FuzzDecodeUnverified": {}, "FuzzScanner": {}, "FuzzNumericDate": {}, "FuzzBase64": {}}
	for i, tok := range fzAttackTokens(t) {
		body := "go test fuzz v1\nstring(" + strconv.Quote(tok) + ")\n"
		files["FuzzVerify"][fmt.Sprintf("attack-%03d", i)] = body
		files["FuzzDecodeUnverified"][fmt.Sprintf("attack-%03d", i)] = body
	}
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for i, s := range []string{
		`{"a":` + deep(maxDepth-1) + `}`, `{"a":` + deep(maxDepth) + `}`,
		"{\"a\":\"\xff\"}", "{\"\xed\xa0\x80\":1}", `{"a":"\ud800\udc00\udc00"}`, `{"a":"\u00"}`,
		`{"a":1,"a":2}`, `{"a\/b":1,"a/b":2}`, `{"a":-0.0e+0}`, `{"a":01}`, "{\"a\":\"12345678\x1f\"}",
		"{\"a\":\"1234567\\\"\"}", "\t{}\r\n", "{}\x00",
	} {
		files["FuzzScanner"][fmt.Sprintf("seed-%03d", i)] = "go test fuzz v1\n[]byte(" + strconv.Quote(s) + ")\n"
	}
	for i, s := range []string{
		"1300819380", "1300819380.5", "1.30081938e9", "253402300799", "253402300799.000000001",
		"2.53402300799e11", "2.534023008e11", "-0", "0e999999999999", "1e-999999999", "300000000000e-3",
	} {
		files["FuzzNumericDate"][fmt.Sprintf("seed-%03d", i)] = "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
	}
	// Every length class around the 8-byte fast loop, bad bytes in each
	// position, and the trailing-bit cases.
	for i, s := range []string{
		"QUJDREVGR0g", "QUJDREVGR0gx", "QUJDREVGR0gxMg", "QUJDREVGR0gxMjM", "QUJDREVGR0gxMjM0",
		"QUJD.EVGR0gx", "QUJDREVGR0g=", "QUJDREVGR0gxMg==", "QUJDREVG\r\nR0gx", "QUJDREV+R0gx", "QUJDREVGR0gx\x80",
		"QR", "QUJ", "QUJDRR", "QUJDREF", "QUJDREVGR0gxR", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		files["FuzzBase64"][fmt.Sprintf("seed-%03d", i)] = "go test fuzz v1\n[]byte(" + strconv.Quote(s) + ")\n"
	}
	return files
}

// TestWriteFuzzSeeds regenerates the seed files from fzSeedFiles. It
// only runs on request; TestFuzzSeedFiles checks they are up to date.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("JWT_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set JWT_WRITE_FUZZ_SEEDS=1 to rewrite the seed files in testdata/fuzz")
	}
	for name, files := range fzSeedFiles(t) {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for file, body := range files {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The seed files run as seeds of their fuzz targets in every go test;
// here we check that they match fzSeedFiles (the attack tables).
func TestFuzzSeedFiles(t *testing.T) {
	for name, files := range fzSeedFiles(t) {
		for file, want := range files {
			got, err := os.ReadFile(filepath.Join("testdata", "fuzz", name, file))
			if err != nil || string(got) != want {
				t.Errorf("testdata/fuzz/%s/%s is stale (rerun with JWT_WRITE_FUZZ_SEEDS=1): %v", name, file, err)
			}
		}
	}
}

// FuzzScanClaimsFast holds scanClaimsFast to its promise: whatever payload
// it takes, the general scanner takes too and records the same claims.
func FuzzScanClaimsFast(f *testing.F) {
	for _, s := range fastClaimsCases {
		f.Add([]byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, p []byte) { fastAgrees(t, p) })
}
