package jwt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fastClaimsCases are payloads with whether scanClaimsFast should take
// them. It must take what servers write, or it saves nothing; what it
// declines, scanClaims judges (FuzzScanClaimsFast seeds from these too).
var fastClaimsCases = []struct {
	payload string
	fast    bool
}{
	{`{}`, true},
	{`{"iss":"https://auth.example.com","sub":"42","aud":"api","exp":1700000900,"iat":1700000000,"jti":"0123456789abcdef","name":"Ada Lovelace","role":"editor"}`, true},
	{`{"sub":"1","role":"admin","sid":"abc","exp":1700000900,"nbf":1700000000}`, true},
	{`{"user_id":123,"role":"admin"}`, true},
	{`{"exp":253402300799}`, true},
	{`{"a":"","b":"x"}`, true},
	{`{"exp":253402300800}`, false},          // past the largest date
	{`{"exp":1700000000.5}`, false},          // fraction
	{`{"exp":17e8}`, false},                  // exponent
	{`{"exp":0}`, false},                     // zero
	{`{"exp":-1}`, false},                    // negative
	{`{"exp":"1700000000"}`, false},          // a date as a string
	{`{"iss":1}`, false},                     // iss not a string
	{`{"aud":["a","b"]}`, false},             // an array
	{`{"sub":"a","sub":"b"}`, false},         // repeated claim
	{`{"role":"a","role":"b"}`, false},       // repeated extra
	{`{"role":"a","ROLE":"b"}`, false},       // repeated as encoding/json matches
	{`{"ISS":"x"}`, false},                   // folds to a registered claim
	{`{"sub":"\u0041"}`, false},              // escape
	{`{"sub":"é"}`, false},                   // non-ASCII
	{"{\"sub\":\"a\tb\"}", false},            // control character
	{`{"longname":1}`, false},                // eight-letter name
	{`{"s":"{}[],:","t":"]","u":"}"}`, true}, // JSON punctuation inside strings
	{`{"iss":"https://auth.example.com/tenants/0123456789abcdef/a/long/path/that/crosses/a/word","sub":"user-0123456789","aud":"https://api.example.com/v1/resources/with/a/long/audience","exp":1700000900,"nbf":1699999000,"iat":1700000000,"jti":"0123456789abcdef0123456789abcdef","name":"A Rather Long Display Name For Someone","role":"editor","sid":"0123456789abcdef0123456789abcdef"}`, true},
	{`{"a":"` + strings.Repeat("x", 300) + `"}`, true},
	{`{"a":1"}`, false},        // a quote after a number
	{`{"a"1}`, false},          // no colon
	{`{"a":"x""b":1}`, false},  // no comma
	{"{\"a\":\"\x7f\"}", true}, // DEL is plain JSON
	{`{"":1}`, false},          // empty name
	{`{ "sub":"a"}`, false},    // white space
	{`{"sub" :"a"}`, false},    // white space
	{`{"sub":"a" }`, false},    // white space
	{`{"sub":"a",}`, false},    // trailing comma
	{`{"sub":"a"}}`, false},    // junk after
	{`{"sub":"a"`, false},      // unterminated
	{`{"sub":"a}`, false},      // unterminated string
	{`{"a":true}`, false},      // literal
	{`{"a":{}}`, false},        // object
	{`{"a":01}`, false},        // leading zero
	{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}`, false}, // more extras than fit
}

// fastAgrees checks scanClaimsFast on p against the general scanner:
// what the fast path takes, the general scanner takes too, with the same
// claims. It reports whether the fast path took p.
func fastAgrees(t *testing.T, p []byte) bool {
	t.Helper()
	var fast, full scanned
	if !scanClaimsFast(p, &fast) {
		return false
	}
	if err := scanClaimsFull(p, &full); err != nil || fast != full {
		t.Fatalf("%q:\nfast %+v\nfull %+v (%v)", p, fast, full, err)
	}
	return true
}

func TestScanClaimsFast(t *testing.T) {
	for _, c := range fastClaimsCases {
		if got := fastAgrees(t, []byte(c.payload)); got != c.fast {
			t.Errorf("scanClaimsFast(%s) = %v, want %v", c.payload, got, c.fast)
		}
	}
}

// Every single-byte change of the payloads the fast path takes, and every
// prefix closed with a brace, is either declined or judged exactly as the
// general scanner judges it.
func TestScanClaimsFastAgreesOnEveryByte(t *testing.T) {
	for _, c := range fastClaimsCases {
		if !c.fast {
			continue
		}
		p := []byte(c.payload)
		for i := range p {
			q := append([]byte(nil), p...)
			for b := range 256 {
				q[i] = byte(b)
				fastAgrees(t, q)
			}
			fastAgrees(t, append(append([]byte(nil), p[:i]...), '}'))
		}
	}
}

// recordClaims keeps every extra claim as its string value, its integer,
// or else its JSON text.
type recordClaims struct {
	Claims
	extra map[string]string
}

func (r *recordClaims) DecodeClaim(name string, v Value) error {
	if r.extra == nil {
		r.extra = map[string]string{}
	}
	switch v.Kind() {
	case '"':
		s, err := v.String()
		r.extra[name] = s
		return err
	case '0':
		if n, err := v.Int64(); err == nil {
			r.extra[name] = strconv.FormatInt(n, 10)
			return nil
		}
	}
	r.extra[name] = string(v.Raw())
	return nil
}

// Verify hands out the same claims whether the payload took the fast path
// or not, with or without iss and aud required, and as encoding/json
// reads them. Every result survives the scratch buffer's reuse by later
// tokens.
func TestVerifyClaimTextAgreesWithEncodingJSON(t *testing.T) {
	k, err := NewHMACKey(HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	payloads := []string{
		`{"iss":"https://auth.example","sub":"42","aud":"api","exp":1700000900,"iat":1700000000,"jti":"j-1","name":"Ada Lovelace","role":"editor"}`,
		`{"sub":"7","role":"admin","uid":123,"sid":"s","exp":1700000900}`,
		`{"aud":"api","exp":1700000900}`,
		`{"iss":"https://auth.example","exp":1700000900,"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7"}`,
		`{"iss":"https://auth.example","sub":"4\u0032","aud":["api","web"],"exp":1700000900,"name":"\u00c9mile","x":[1,{"y":null}],"f":1.5}`,
		`{ "sub" : "42", "exp" : 1700000900, "role" : "editor" }`,
		`{"exp":1700000900,"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":"ten"}`,
		// Other orders: extras before jti, sub last, registered claims
		// between extras.
		`{"role":"r","uid":7,"jti":"j-2","exp":1700000900,"aud":"api","iss":"https://auth.example","sub":"s-last"}`,
		`{"iss":"https://auth.example","name":"N","exp":1700000900,"role":"R","aud":"api","sub":"9","jti":"j-3"}`,
		`{"aud":"api","iss":"https://auth.example","exp":1700000900}`,
	}
	clock := WithClock(func() time.Time { return time.Unix(1700000100, 0) })
	verifiers := map[string][]Option{
		"plain":    {clock},
		"issuer":   {clock, WithIssuer("https://auth.example")},
		"audience": {clock, WithAudience("api")},
		"both":     {clock, WithIssuer("https://auth.example"), WithAudience("api")},
	}
	type result struct {
		payload string
		got     *recordClaims
		reg     *Claims
	}
	var results []result
	for name, opts := range verifiers {
		v, err := NewVerifier([]*Key{k}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range payloads {
			tok := atkSign(t, k, `{"alg":"HS256","typ":"JWT"}`, p)
			got, reg := &recordClaims{}, &Claims{}
			errD, errC := v.Verify(tok, got), v.Verify(tok, reg)
			if (errD == nil) != (errC == nil) {
				t.Fatalf("%s %s: ClaimDecoder %v, *Claims %v", name, p, errD, errC)
			}
			if errD != nil {
				if !errors.Is(errD, ErrIssuer) && !errors.Is(errD, ErrAudience) {
					t.Fatalf("%s %s: %v", name, p, errD)
				}
				continue
			}
			results = append(results, result{p, got, reg})
		}
	}
	// All payloads with nothing required; six each carry the iss or the
	// aud required, five both.
	if len(results) != len(payloads)+6+6+5 {
		t.Fatalf("%d tokens accepted", len(results))
	}
	// Checked after all the verifying: nothing points into a reused buffer.
	for _, r := range results {
		var want Claims
		if err := json.Unmarshal([]byte(r.payload), &want); err != nil {
			t.Fatal(err)
		}
		for _, c := range []Claims{r.got.Claims, *r.reg} {
			if !fzSameClaims(c, want) {
				t.Errorf("%s:\n got %+v\nwant %+v", r.payload, c, want)
			}
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.payload), &raw); err != nil {
			t.Fatal(err)
		}
		wantExtra := map[string]string{}
		for n, m := range raw {
			switch n {
			case "iss", "sub", "aud", "exp", "nbf", "iat", "jti":
				continue
			}
			var s string
			if json.Unmarshal(m, &s) == nil {
				wantExtra[n] = s
			} else {
				wantExtra[n] = string(m)
			}
		}
		if len(wantExtra) == 0 {
			wantExtra = nil
		}
		if !reflect.DeepEqual(r.got.extra, wantExtra) {
			t.Errorf("%s: extras\n got %q\nwant %q", r.payload, r.got.extra, wantExtra)
		}
	}
}

func TestRegisteredWord(t *testing.T) {
	word := func(s string) uint64 { // s is eight bytes
		return binary.LittleEndian.Uint64([]byte(s))
	}
	dates := map[string]bool{"exp": true, "nbf": true, "iat": true}
	for _, name := range []string{"iss", "sub", "jti", "aud", "exp", "nbf", "iat"} {
		for _, around := range []string{"{1", ",\"", "xx"} {
			w := word(around[:1] + `"` + name + `":` + around[1:])
			if id := registeredWord(w); id == notRegistered || registeredNames[id] != name {
				t.Errorf("%s: claim %d, want %s", name, id, name)
			}
		}
		id := registeredClaim([]byte(name))
		if id == notRegistered || registeredNames[id] != name || id.isDate() != dates[name] {
			t.Errorf("registeredClaim(%s) = %d (date %v)", name, id, id.isDate())
		}
	}
	for _, s := range []string{`,"ISS":"`, `,"Iss":"`, `,"is":"x`, `,"issx":`, `,"iss",1`, `,"iss:"x`, `,'iss':"`, `,"ias":"`, "\x00\x00\x00\x00\x00\x00\x00\x00", "\xff\xff\xff\xff\xff\xff\xff\xff"} {
		if id := registeredWord(word(s)); id != notRegistered {
			t.Errorf("%q: claim %d, want none", s, id)
		}
	}
	for _, s := range []string{"", "is", "ISS", "issx", "i\u017fs"} {
		if id := registeredClaim([]byte(s)); id != notRegistered {
			t.Errorf("registeredClaim(%q) = %d, want none", s, id)
		}
	}
}
