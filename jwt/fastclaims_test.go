package jwt

import "testing"

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
	{`{"exp":253402300800}`, false},    // past the largest date
	{`{"exp":1700000000.5}`, false},    // fraction
	{`{"exp":17e8}`, false},            // exponent
	{`{"exp":0}`, false},               // zero
	{`{"exp":-1}`, false},              // negative
	{`{"exp":"1700000000"}`, false},    // a date as a string
	{`{"iss":1}`, false},               // iss not a string
	{`{"aud":["a","b"]}`, false},       // an array
	{`{"sub":"a","sub":"b"}`, false},   // repeated claim
	{`{"role":"a","role":"b"}`, false}, // repeated extra
	{`{"role":"a","ROLE":"b"}`, false}, // repeated as encoding/json matches
	{`{"ISS":"x"}`, false},             // folds to a registered claim
	{`{"sub":"\u0041"}`, false},        // escape
	{`{"sub":"é"}`, false},             // non-ASCII
	{"{\"sub\":\"a\tb\"}", false},      // control character
	{`{"longname":1}`, false},          // eight-letter name
	{`{"":1}`, false},                  // empty name
	{`{ "sub":"a"}`, false},            // white space
	{`{"sub" :"a"}`, false},            // white space
	{`{"sub":"a" }`, false},            // white space
	{`{"sub":"a",}`, false},            // trailing comma
	{`{"sub":"a"}}`, false},            // junk after
	{`{"sub":"a"`, false},              // unterminated
	{`{"sub":"a}`, false},              // unterminated string
	{`{"a":true}`, false},              // literal
	{`{"a":{}}`, false},                // object
	{`{"a":01}`, false},                // leading zero
	{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}`, false}, // more extras than fit
}

func TestScanClaimsFast(t *testing.T) {
	for _, c := range fastClaimsCases {
		var fast scanned
		got := scanClaimsFast([]byte(c.payload), &fast)
		if got != c.fast {
			t.Errorf("scanClaimsFast(%s) = %v, want %v", c.payload, got, c.fast)
		}
		if !got {
			continue
		}
		var full scanned
		if err := scanClaimsFull([]byte(c.payload), &full); err != nil || fast != full {
			t.Errorf("%s: fast %+v, full %+v (%v)", c.payload, fast, full, err)
		}
	}
}

// Every single-byte change of the payloads the fast path takes, and every
// prefix closed with a brace, is either declined or judged exactly as the
// general scanner judges it.
func TestScanClaimsFastAgreesOnEveryByte(t *testing.T) {
	check := func(p []byte) {
		t.Helper()
		var fast, full scanned
		if !scanClaimsFast(p, &fast) {
			return
		}
		if err := scanClaimsFull(p, &full); err != nil || fast != full {
			t.Fatalf("%q: fast %+v, full %+v (%v)", p, fast, full, err)
		}
	}
	for _, c := range fastClaimsCases {
		if !c.fast {
			continue
		}
		p := []byte(c.payload)
		for i := range p {
			q := append([]byte(nil), p...)
			for b := range 256 {
				q[i] = byte(b)
				check(q)
			}
			check(append(append([]byte(nil), p[:i]...), '}'))
		}
	}
}
