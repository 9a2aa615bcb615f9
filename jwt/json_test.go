package jwt

// The strict JSON scanner (json.go) against encoding/json, which is the
// reference for RFC 8259 syntax and string decoding. The scanner differs
// from encoding/json on purpose in exactly two ways, which jsnWantObject
// accounts for: it refuses invalid UTF-8 inside strings (encoding/json
// replaces it with U+FFFD) and nesting deeper than maxDepth.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsnDepth returns the deepest nesting of arrays and objects in a valid
// JSON text.
func jsnDepth(b []byte) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// jsnWantObject is what validObject should say about b.
func jsnWantObject(b []byte) bool {
	i := skipWS(b, 0)
	return json.Valid(b) && i < len(b) && b[i] == '{' && utf8.Valid(b) && jsnDepth(b) <= maxDepth
}

// jsnWantValue is what scanValue should say about a whole input without
// surrounding white space.
func jsnWantValue(b []byte) bool {
	return len(b) > 0 && !isWS(b[0]) && !isWS(b[len(b)-1]) && json.Valid(b) && utf8.Valid(b) && jsnDepth(b) <= maxDepth
}

var jsnValues = []string{
	// numbers
	`0`, `-0`, `1`, `-1`, `1e5`, `1E5`, `1e+5`, `1e-5`, `1E-05`, `1.5`, `-0.0e-0`, `1.5e3`, `0.0`,
	`123456789012345678901234567890`, `1e309`, `-1e-400`, `1.7976931348623157e308`,
	`01`, `-01`, `00`, `1.`, `.5`, `-`, `-a`, `1e`, `1e+`, `1e-`, `+1`, `0x1`, `2.e3`, `1..2`, `1e5.5`,
	`Infinity`, `-Infinity`, `NaN`, `1_000`, `１`,
	// literals
	`true`, `false`, `null`, `tru`, `nul`, `fals`, `True`, `NULL`, `truex`, `nulll`,
	// strings
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u0000"`, `"\u00e9"`, `"\u00E9"`,
	`"\uD83D\uDE00"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00"`, `"\udc00\ud800"`, `"\ud800\u0041"`,
	`"\ud800\ud800\udc00"`, `"\ud800\\"`, `"\ud800x"`, `"\u12"`, `"\u12G4"`, `"\u"`, `"\x41"`, `"\'"`,
	`"\a"`, `"\U0041"`, `"\`, `"`, `"abc`, `"a"b"`, "\"\t\"", "\"\n\"", "\"\x00\"", "\"\x1f\"", "\"\x7f\"",
	"\"\xc3\xa9\"", "\"\xff\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"", "\"\xf4\x8f\xbf\xbf\"", "\"\xf4\x90\x80\x80\"",
	"\"\xe2\x82\"", "\"\xe2\x82\xac\"", "\"\xef\xbb\xbf\"", "\"\u2028\u2029\"",
	// arrays
	`[]`, `[ ]`, `[1]`, `[1,2]`, `[ 1 , 2 ]`, `[1,]`, `[,1]`, `[1 2]`, `[[]]`, `[[],[]]`, `[`, `]`, `[1`, `[1,`,
	`[{}]`, `[{"a":[]}]`, `[null,true,false,"x",-1.5e3,{},[]]`,
	// objects
	`{}`, `{ }`, `{"a":1}`, `{"a" : 1 , "b" : [ 1 , 2 ] }`, `{,}`, `{"a":1,}`, `{"a" 1}`, `{"a":1 "b":2}`,
	`{"a":1,,"b":2}`, `{1:1}`, `{a:1}`, `{'a':1}`, `{"a":}`, `{"a"}`, `{"a":1}}`, `{"a":{}}`, `{"a":{"b":{}}}`,
	`{"":1}`, `{"\u0000":1}`, `{"a":1,"a":2}`, `{"a\"b":1}`, `{"\ud800":1}`, "{\"\xff\":1}", `{"a":"b\\"}`,
	`{"a":"b\\\"}`, `{"a":1}x`, `{"a":1}{}`, `{"a":1}]`, `{`, `}`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`,
	`{"a":[1,{"b":[2,{"c":null}]}]}`, `{"a":true,"b":false,"c":null}`,
}

func TestScanValueAgainstEncodingJSON(t *testing.T) {
	for _, s := range jsnValues {
		b := []byte(s)
		end, ok := scanValue(b, 0, 0)
		got := ok && end == len(b)
		if want := jsnWantValue(b); got != want {
			t.Errorf("scanValue(%q) = %d, %v; encoding/json says valid=%v", s, end, ok, want)
		}
		if ok && (end <= 0 || end > len(b) || !json.Valid(b[:end])) {
			t.Errorf("scanValue(%q) ends at %d: %q is not a JSON value", s, end, b[:max(min(end, len(b)), 0)])
		}
	}
}

func TestValidObjectAgainstEncodingJSON(t *testing.T) {
	var inputs []string
	for _, s := range jsnValues {
		inputs = append(inputs, s, `{"v":`+s+`}`, `{"v":[`+s+`]}`, `{"v":`+s+`,"w":1}`, `{`+s+`:1}`)
	}
	inputs = append(inputs, "", " ", "\t{\"a\":1}\r\n", "\v{}", "\f{}", "\u00a0{}", "\ufeff{}", "{}\x00", " {} ", "{}\n\n")
	for _, s := range inputs {
		if got, want := validObject([]byte(s)), jsnWantObject([]byte(s)); got != want {
			t.Errorf("validObject(%q) = %v, want %v", s, got, want)
		}
	}
}

// Every byte value at every position of a 24-byte string, to exercise the
// eight-bytes-at-a-time scan (specialIn8) around its word boundaries.
func TestScanStringEveryByteEveryPosition(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 24; pos++ {
			s := []byte(strings.Repeat("a", 24))
			s[pos] = byte(c)
			for _, obj := range [][]byte{
				append(append([]byte(`{"k":"`), s...), `"}`...),
				append(append([]byte(`{"`), s...), `":0}`...),
				append(append([]byte(`{"k":"`), s[:pos+1]...), `"}`...),
			} {
				if got, want := validObject(obj), jsnWantObject(obj); got != want {
					t.Fatalf("validObject(%q) = %v, want %v", obj, got, want)
				}
			}
		}
	}
	// Two-byte sequences at the word boundary (escapes, UTF-8).
	for _, pair := range []string{`\"`, `\\`, `\n`, `\u`, "\xc3\xa9", "\xc3a", "\xe2\x82\xac", "\xf0\x9f\x98\x80", `""`} {
		for pos := 0; pos < 18; pos++ {
			obj := []byte(`{"k":"` + strings.Repeat("a", pos) + pair + strings.Repeat("b", 17-pos) + `"}`)
			if got, want := validObject(obj), jsnWantObject(obj); got != want {
				t.Fatalf("validObject(%q) = %v, want %v", obj, got, want)
			}
		}
	}
}

func TestScannerDepthLimit(t *testing.T) {
	for depth := maxDepth - 2; depth <= maxDepth+2; depth++ {
		// depth levels in total, counting the outer object.
		for _, b := range [][]byte{
			[]byte(`{"x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`),
			[]byte(`{"x":` + strings.Repeat(`{"a":`, depth-2) + "{}" + strings.Repeat("}", depth-2) + `}`),
			[]byte(`{"x":` + strings.Repeat(`[{"a":`, (depth-1)/2) + "0" + strings.Repeat("}]", (depth-1)/2) + `}`),
		} {
			d := jsnDepth(b)
			if !json.Valid(b) || d < depth-1 || d > depth {
				t.Fatalf("bad test input: depth %d, valid %v", d, json.Valid(b))
			}
			if got := validObject(b); got != (d <= maxDepth) {
				t.Errorf("nesting of depth %d (%.12s...): validObject = %v", d, b[5:], got)
			}
		}
	}
	// A depth bomb far beyond the limit fails fast and does not overflow.
	bomb := []byte(`{"a":` + strings.Repeat("[", 1<<20))
	if validObject(bomb) {
		t.Fatal("depth bomb accepted")
	}
}

func TestUnescapeAgainstEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"\""`, `"\\"`, `"\/"`, `"a\/b"`, `"\b\f\n\r\t"`, `"\u0000"`, `"\u001f"`, `"\u0041\u0042"`,
		`"\u00e9"`, `"\u00E9"`, `"\u20ac"`, `"\uffff"`, `"\ufffd"`, `"\ufeff"`, `"\u2028"`,
		`"\uD83D\uDE00"`, `"\ud83d\ude00"`, `"\uDBFF\uDFFF"`, `"\uD800\uDC00"`,
		`"\ud800"`, `"\udc00"`, `"\udfff"`, `"\udc00\ud800"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`,
		`"\ud800\\"`, `"\ud800x"`, `"\ud800\n"`, `"x\ud800"`, `"\ud800\udbff"`, `"\ud800\ue000"`,
		`"\ud83d\ude00\ud83d"`, `"\ud83d\\ude00"`, `"a\\u0041"`, `"\\\\\\"`,
		"\"\xc3\xa9\\n\xe2\x82\xac\"", "\"\xf0\x9f\x98\x80\\u0021\"", "\"\x7f\\t\"",
	} {
		b := []byte(lit)
		end, sp, ok := scanString(b, 0)
		if !ok || end != len(b) {
			t.Errorf("scanString(%s) = %d, %v", lit, end, ok)
			continue
		}
		if sp.start != 1 || sp.end != len(b)-1 {
			t.Errorf("scanString(%s): span %d..%d", lit, sp.start, sp.end)
		}
		if sp.esc != strings.Contains(lit, `\`) {
			t.Errorf("scanString(%s): esc = %v", lit, sp.esc)
		}
		got := string(b[sp.start:sp.end])
		if sp.esc {
			got = string(unescape(b[sp.start:sp.end]))
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("encoding/json refuses %s: %v", lit, err)
		}
		if got != want {
			t.Errorf("unescape(%s) = %+q, encoding/json says %+q", lit, got, want)
		}
		// nameIs and nameBytes agree.
		if !nameIs(b, sp, want) || string(nameBytes(b, sp)) != want {
			t.Errorf("nameIs/nameBytes(%s) disagree with %+q", lit, want)
		}
		if nameIs(b, sp, want+"x") {
			t.Errorf("nameIs(%s) matches a longer name", lit)
		}
	}
}

// jsnMember is one top-level member as encoding/json sees it.
type jsnMember struct {
	name string
	raw  string // the value's JSON text
}

func jsnMembers(t *testing.T, b []byte) []jsnMember {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v", err)
	}
	var out []jsnMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, jsnMember{tok.(string), string(raw)})
	}
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("data after the object: %v", err)
	}
	return out
}

func TestObjIterAgainstEncodingJSON(t *testing.T) {
	for _, obj := range []string{
		`{}`,
		` { } `,
		`{"a":1}`,
		`{"a":1,"b":"two","c":[3],"d":{"e":4},"f":true,"g":null,"h":-0.5e-3}`,
		"{\r\n\t\"a\" :\n \"x\" ,\t\"b\"\r:[ 1 , { \"c\" : [ ] } ] }\n",
		`{"\u0061":"\u0062","\ud83d\ude00":"\ud800","a\/b":"c\"d","":""}`,
		`{"k":"\\","l":"\\\\","m":"x\"}y"}`,
		`{"nested":{"a":{"b":{"c":[1,[2,[3,{"d":"}"}]]]}}},"after":1}`,
		`{"a":1,"a":2}`, // objIter itself reports duplicates; scanClaims refuses them
		"{\"utf8\":\"\xc3\xa9\u20ac\",\"\xe2\x82\xac\":1}",
	} {
		b := []byte(obj)
		want := jsnMembers(t, b)
		it, ok := openObject(b)
		if !ok {
			t.Fatalf("openObject(%s) failed", obj)
		}
		var got []jsnMember
		for {
			name, val, more, ok := it.next()
			if !ok {
				t.Fatalf("%s: next failed after %d members", obj, len(got))
			}
			if !more {
				break
			}
			if name.esc != bytes.Contains(b[name.start:name.end], []byte(`\`)) {
				t.Errorf("%s: name %q esc = %v", obj, b[name.start:name.end], name.esc)
			}
			raw := b[val.start:val.end]
			if raw[0] == '"' && val.esc != bytes.Contains(raw, []byte(`\`)) {
				t.Errorf("%s: value %s esc = %v", obj, raw, val.esc)
			}
			got = append(got, jsnMember{string(nameBytes(b, name)), string(raw)})
		}
		if skipWS(b, it.i) != len(b) {
			t.Errorf("%s: iterator stops at %d of %d", obj, it.i, len(b))
		}
		if it.n != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %q (n=%d)\nwant %q", obj, got, it.n, want)
		}
	}
	// Malformed objects make next fail rather than loop or panic.
	for _, obj := range []string{`{"a":1,}`, `{"a":1 "b":2}`, `{"a"}`, `{"a":}`, `{"a":1`, `{"a":1,`, `{,}`, `{1:2}`, `{"a":[}`, "{\"a\":\"\xff\"}"} {
		it, ok := openObject([]byte(obj))
		if !ok {
			continue
		}
		failed := false
		for range 10 {
			_, _, more, ok := it.next()
			if !ok {
				failed = true
				break
			}
			if !more {
				break
			}
		}
		if !failed {
			t.Errorf("objIter accepted %s", obj)
		}
	}
	for _, s := range []string{``, ` `, `[]`, `"{}"`, `x{}`} {
		if _, ok := openObject([]byte(s)); ok {
			t.Errorf("openObject(%q) succeeded", s)
		}
	}
}

// jsnStrings are strings for AppendJSONString: every escape class, HTML
// characters, line separators, invalid UTF-8 and boundary code points.
var jsnStrings = []string{
	"", "plain", "a\"b", "a\\b", "a/b", "<script>&amp;</script>", "\u2028", "\u2029", "x\u2028y\u2029z",
	"\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x0b", "\x1f", "\x7f", " ", "~",
	"\u0080", "\u00e9", "\u07ff", "\u0800", "\ufeff", "\ufffd", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff",
	"\xff", "\xc3", "\xc3(", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "a\xffb\xfec",
	"mixed \x00\u00e9\"\\<>&\u2028\xff end", strings.Repeat("\\\"", 20),
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	all := jsnStrings
	for c := range 256 { // every byte, alone and between plain text
		all = append(all, string([]byte{byte(c)}), "ab"+string([]byte{byte(c)})+"cd")
	}
	for _, s := range all {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendJSONString([]byte("prefix"), s)
		if string(got) != "prefix"+string(want) {
			t.Errorf("AppendJSONString(%+q) = %s, encoding/json: %s", s, got[6:], want)
		}
		// Whatever it writes, our scanner reads back (valid UTF-8 only).
		if utf8.ValidString(s) {
			end, sp, ok := scanString(got, 6)
			if !ok || end != len(got) {
				t.Errorf("scanString cannot read back %s", got[6:])
				continue
			}
			back := string(got[sp.start:sp.end])
			if sp.esc {
				back = string(unescape(got[sp.start:sp.end]))
			}
			if back != s {
				t.Errorf("round trip of %+q gave %+q", s, back)
			}
		}
	}
}

// TestShortStringAgreesWithScanString puts every byte value at every
// position of short names: whenever the fast path claims a string, it must
// be the one scanString finds, plain.
func TestShortStringAgreesWithScanString(t *testing.T) {
	claimed := 0
	for n := 0; n <= 10; n++ {
		base := []byte(`"` + "abcdefghij"[:n] + `":"v"}`)
		for pos := 1; pos < len(base); pos++ {
			for c := range 256 {
				b := append([]byte(nil), base...)
				b[pos] = byte(c)
				k := shortString(b, 0)
				if k == 0 {
					continue
				}
				claimed++
				end, sp, ok := scanString(b, 0)
				if !ok || end != k || sp.esc || sp.high || sp.start != 1 || sp.end != k-1 {
					t.Fatalf("%q: shortString says %d; scanString says %d, %+v, %v", b, k, end, sp, ok)
				}
			}
		}
	}
	if claimed == 0 {
		t.Fatal("the fast path never applied")
	}
}
