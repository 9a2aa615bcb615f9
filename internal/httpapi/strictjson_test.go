package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// TestLoginBodyIsStrict: encoding/json alone logs in alice for
// {"username":"rita","USERNAME":"alice",...}, matching names without
// case and keeping the last of equal ones.
func TestLoginBodyIsStrict(t *testing.T) {
	e := newEnv(t, envOptions{})
	alicePW := jsonQuote(pw("alice"))
	for _, tc := range []struct {
		name, body string
		code       string
	}{
		{"case variant after the name", `{"username":"rita","USERNAME":"alice","password":` + alicePW + `}`, codeUnknownField},
		{"case variant alone", `{"Username":"alice","Password":` + alicePW + `}`, codeUnknownField},
		{"duplicate name", `{"username":"rita","username":"alice","password":` + alicePW + `}`, codeInvalidJSON},
		{"duplicate by escape", `{"username":"rita","\u0075sername":"alice","password":` + alicePW + `}`, codeInvalidJSON},
		{"duplicate password", `{"username":"alice","password":"wrong","password":` + alicePW + `}`, codeInvalidJSON},
		{"duplicate cookie flag", `{"username":"alice","password":` + alicePW + `,"cookie":false,"cookie":true}`, codeInvalidJSON},
		{"invalid UTF-8", "{\"username\":\"alice\xff\",\"password\":" + alicePW + "}", codeInvalidJSON},
		{"lone surrogate", `{"username":"alice\ud800","password":` + alicePW + `}`, codeInvalidJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.sendJSON("POST", "/login", "", tc.body)
			p := wantProblem(t, r, 400, tc.code)
			if strings.Contains(p.Detail, `\u003`) || p.Detail == "" {
				t.Errorf("detail %q", p.Detail)
			}
			if tc.code == codeUnknownField && !strings.Contains(p.Detail, "case-sensitive") {
				t.Errorf("detail %q does not say names are case-sensitive", p.Detail)
			}
		})
	}
	// The exact names still work, in any order and with white space.
	wantStatus(t, e.sendJSON("POST", "/login", "", " {\n\"password\" : "+alicePW+", \"username\":\"alice\", \"cookie\":false } "), 200)
}

// TestEveryJSONBodyIsStrict sends a repeated name and a case variant to
// each route that takes JSON: none may act on it.
func TestEveryJSONBodyIsStrict(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	for _, tc := range []struct {
		method, path, body string
		code               string
	}{
		{"POST", "/login", `{"username":"alice","password":"x","password":"y"}`, codeInvalidJSON},
		{"POST", "/refresh", `{"refresh_token":"a","refresh_token":"b"}`, codeInvalidJSON},
		{"POST", "/refresh", `{"Refresh_Token":"a"}`, codeUnknownField},
		{"POST", "/logout", `{"refresh_token":"a","refresh_token":"b"}`, codeInvalidJSON},
		{"POST", "/posts", `{"title":"t","body":"b","title":"u"}`, codeInvalidJSON},
		{"POST", "/posts", `{"Title":"t"}`, codeUnknownField},
		{"POST", "/users", `{"username":"zed","password":"long enough pw","role":"reader","role":"admin"}`, codeInvalidJSON},
		{"POST", "/users", `{"username":"zed","password":"long enough pw","ROLE":"admin"}`, codeUnknownField},
		{"PATCH", "/users/rita", `{"role":"reader","role":"admin"}`, codeInvalidJSON},
		{"PATCH", "/users/rita", `{"Role":"admin"}`, codeUnknownField},
		{"PATCH", "/users/rita", `{"disabled":{"a":1,"a":2}}`, codeInvalidJSON}, // at any depth
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			tok := alice
			if tc.path == "/logout" {
				tok = "" // a valid token decides and the body is not read
			}
			wantProblem(t, e.sendJSON(tc.method, tc.path, tok, tc.body), 400, tc.code)
		})
	}
	u, err := e.store.UserByName(t.Context(), "rita")
	if err != nil || u.Role != auth.RoleReader {
		t.Fatalf("rita after the refused requests: %+v %v", u, err)
	}
	if _, err := e.store.UserByName(t.Context(), "zed"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("zed created by a refused request: %v", err)
	}
}

func TestCheckJSON(t *testing.T) {
	type inner struct {
		A int `json:"a"`
	}
	type Embedded struct {
		E string `json:"e"`
	}
	type dst struct {
		Embedded
		Name   string            `json:"name"`
		Plain  int               // no tag: the field name
		Skip   int               `json:"-"`
		Opt    string            `json:"opt,omitempty"`
		In     *inner            `json:"in"`
		List   []inner           `json:"list"`
		Map    map[string]inner  `json:"map"`
		Any    any               `json:"any"`
		Raw    json.RawMessage   `json:"raw"`
		When   time.Time         `json:"when"`
		Free   map[string]string `json:"free"`
		hidden int
	}
	_ = dst{}.hidden // never read: it shows checkJSON refuses an unexported field's name
	sh := shapeOf(reflect.TypeFor[*dst]())
	deep := strings.Repeat(`{"any":`, maxJSONDepth) + `1` + strings.Repeat(`}`, maxJSONDepth)
	tooDeep := strings.Repeat(`[`, maxJSONDepth+1) + strings.Repeat(`]`, maxJSONDepth+1)
	var many strings.Builder
	many.WriteString(`{"free":{`)
	for i := range 40 {
		many.WriteString(`"k` + strconv.Itoa(i) + `":"v",`)
	}
	many.WriteString(`"k1":"again"}}`)
	for _, tc := range []struct {
		body string
		kind jsonKind // 0: accepted
	}{
		{`{}`, 0},
		{`{"name":"x","Plain":1,"opt":"o","e":"e","in":{"a":1},"list":[{"a":1},{"a":2}],"map":{"k":{"a":1}},"any":{"X":1,"x":2},"raw":{"Z":[1]},"when":"2024-01-01T00:00:00Z","free":{"K":"v","k":"w"}}`, 0},
		{`{"name":"\u00e9\ud83d\ude00\n\"\\\/"}`, 0},
		{`{"name":-0.5e+10}`, 0}, // syntax fine; the type is encoding/json's business
		{deep, 0},
		{``, jsonEmpty},
		{" \t\r\n", jsonEmpty},
		{`[]`, jsonNotObject},
		{`"x"`, jsonNotObject},
		{`null`, jsonNotObject},
		{`{} {}`, jsonTrailing},
		{`{}x`, jsonTrailing},
		{`{`, jsonSyntax},
		{`{"name"}`, jsonSyntax},
		{`{"name":}`, jsonSyntax},
		{`{"name":1,}`, jsonSyntax},
		{`{,}`, jsonSyntax},
		{`{"a":[1,]}`, jsonSyntax},
		{`{"a":01}`, jsonSyntax},
		{`{"a":1.}`, jsonSyntax},
		{`{"a":.5}`, jsonSyntax},
		{`{"a":1e}`, jsonSyntax},
		{`{"a":+1}`, jsonSyntax},
		{`{"a":tru}`, jsonSyntax},
		{`{"a":"\x"}`, jsonSyntax},
		{`{"a":"\u12"}`, jsonSyntax},
		{"{\"a\":\"\x01\"}", jsonSyntax},
		{`{"a":'x'}`, jsonSyntax},
		{"{\"name\":\"\xc3\x28\"}", jsonEncoding},
		{"{\"name\":\"\xed\xa0\x80\"}", jsonEncoding}, // a surrogate in UTF-8
		{`{"name":"\udc00"}`, jsonEncoding},
		{`{"name":"\ud800"}`, jsonEncoding},
		{`{"name":"\ud800\u0041"}`, jsonEncoding},
		{`{"name":"\ud800x"}`, jsonEncoding},
		{tooDeep, jsonDepth},
		{`{"name":"a","name":"b"}`, jsonDuplicate},
		{`{"name":"a","n\u0061me":"b"}`, jsonDuplicate},
		{`{"in":{"a":1,"a":2}}`, jsonDuplicate},
		{`{"list":[{"a":1},{"a":1,"a":2}]}`, jsonDuplicate},
		{`{"any":{"x":1,"x":2}}`, jsonDuplicate},
		{`{"raw":[{"q":1,"q":2}]}`, jsonDuplicate},
		{many.String(), jsonDuplicate},
		{`{"Name":"x"}`, jsonUnknown},
		{`{"plain":1}`, jsonUnknown},
		{`{"Skip":1}`, jsonUnknown},
		{`{"hidden":1}`, jsonUnknown},
		{`{"Embedded":{}}`, jsonUnknown},
		{`{"in":{"A":1}}`, jsonUnknown},
		{`{"map":{"k":{"b":1}}}`, jsonUnknown},
		{`{"list":[{"a":1},{"x":1}]}`, jsonUnknown},
		{`{"Name":"x","name":"x","name":"y"}`, jsonUnknown}, // the first problem in the text
		{`{"Name":"x",}`, jsonSyntax},                       // syntax goes first
		{`{"name":"x","name":"y",`, jsonSyntax},
	} {
		p := checkJSON([]byte(tc.body), sh)
		var got jsonKind
		if p != nil {
			got = p.kind
			if p.detail == "" || (p.code != codeInvalidJSON && p.code != codeUnknownField) || (p.code == codeUnknownField) != (p.kind == jsonUnknown) {
				t.Errorf("%.60q: problem %+v", tc.body, p)
			}
		}
		if got != tc.kind {
			t.Errorf("%.60q: kind %d (%v), want %d", tc.body, got, p, tc.kind)
		}
	}
}

// TestUnknownMemberDetail names the member and, for a case variant, the
// defined name; nothing in it is escaped for HTML.
func TestUnknownMemberDetail(t *testing.T) {
	sh := shapeOf(reflect.TypeFor[struct {
		Username string `json:"username"`
	}]())
	for body, want := range map[string]string{
		`{"USERNAME":"x"}`:                      `member "USERNAME" is not defined for this operation; names are case-sensitive: did you mean "username"?`,
		`{"<b>&":"x"}`:                          `member "<b>&" is not defined for this operation`,
		`{"a":1,"a":2}`:                         `member "a" is not defined for this operation`,
		`{"username":1,"username":2}`:           `member "username" appears twice in one object; send each name once`,
		`{"` + strings.Repeat("é", 50) + `":1}`: `member "` + strings.Repeat("é", 40) + `"… is not defined for this operation`,
	} {
		p := checkJSON([]byte(body), sh)
		if p == nil || p.detail != want {
			t.Errorf("%.40s: %+v, want detail %q", body, p, want)
		}
	}
}

// fuzzDst is the destination FuzzCheckJSON checks member names against.
type fuzzDst struct {
	Username string  `json:"username"`
	Cookie   bool    `json:"cookie"`
	Role     *string `json:"role"`
	Nested   *struct {
		A    int `json:"a"`
		List []struct {
			B string `json:"b"`
		} `json:"list"`
	} `json:"nested"`
	Extra map[string]any `json:"extra"`
}

// FuzzCheckJSON compares checkJSON with encoding/json: it accepts only
// valid JSON objects (json.Valid), refuses every valid one only for a
// reason it can show (a repeated or unknown name, invalid UTF-8 or a lone
// surrogate, depth), and what it accepts decodes into fuzzDst with no
// member matched by case folding.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"username":"bob","USERNAME":"alice"}`, `{"username":"a","username":"b"}`,
		`{"username":"a","\u0075sername":"b"}`, `{"nested":{"a":1,"list":[{"b":"x"},{"b":"y","b":"z"}]}}`,
		`{"extra":{"x":[{"y":1,"Y":2}],"X":null}}`, `{"role":"\ud83d\ude00"}`, `{"role":"\ud800"}`,
		"{\"role\":\"\xff\"}", `{"cookie":true} `, `[1,2]`, `{"nested":{"A":1}}`, `{"extra":{"a":-1.5e-3}}`,
		`{"username":"x",}`, `{"username":01}`, `{"extra":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`,
	} {
		f.Add([]byte(s))
	}
	sh := shapeOf(reflect.TypeFor[*fuzzDst]())
	f.Fuzz(func(t *testing.T, b []byte) {
		p := checkJSON(b, sh)
		valid := json.Valid(b)
		if p == nil {
			if !valid {
				t.Fatalf("accepted invalid JSON %q", b)
			}
			if !utf8.Valid(b) {
				t.Fatalf("accepted invalid UTF-8 %q", b)
			}
			if dup, ok := refDuplicate(b); ok && dup {
				t.Fatalf("accepted a repeated name in %q", b)
			}
			if refUnknown(b) {
				t.Fatalf("accepted an unknown name in %q", b)
			}
			var d fuzzDst
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&d); err != nil && strings.Contains(err.Error(), "unknown field") {
				t.Fatalf("%q: encoding/json finds %v", b, err)
			}
			return
		}
		switch p.kind {
		case jsonSyntax, jsonEmpty, jsonTrailing:
			if valid {
				t.Fatalf("%q is valid JSON, refused as %q", b, p.detail)
			}
		case jsonNotObject:
			if !valid || bytes.TrimLeft(b, " \t\r\n")[0] == '{' {
				t.Fatalf("%q refused as not an object", b)
			}
		case jsonDepth:
		case jsonEncoding:
			if utf8.Valid(b) && !bytes.Contains(b, []byte(`\u`)) {
				t.Fatalf("%q refused for its encoding", b)
			}
		case jsonDuplicate:
			if !valid {
				t.Fatalf("%q: a duplicate reported before the syntax error", b)
			}
			if dup, ok := refDuplicate(b); ok && !dup {
				t.Fatalf("%q has no repeated name", b)
			}
		case jsonUnknown:
			if !valid {
				t.Fatalf("%q: an unknown name reported before the syntax error", b)
			}
			if utf8.Valid(b) && !refUnknown(b) {
				if dup, ok := refDuplicate(b); ok && !dup {
					t.Fatalf("%q has no unknown name", b)
				}
			}
		default:
			t.Fatalf("%q: kind %d", b, p.kind)
		}
		if !valid && p.kind != jsonSyntax && p.kind != jsonEmpty && p.kind != jsonTrailing && p.kind != jsonDepth && p.kind != jsonEncoding {
			t.Fatalf("invalid JSON %q refused as %q", b, p.detail)
		}
	})
}

// refDuplicate reports, with encoding/json's tokenizer, whether an object
// in b repeats a name; ok is false when it cannot tell (b is not valid,
// UTF-8 JSON, whose names the tokenizer would alter).
func refDuplicate(b []byte) (dup, ok bool) {
	if !json.Valid(b) || !utf8.Valid(b) || bytes.Contains(bytes.ToLower(b), []byte(`\ud`)) {
		return false, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		object bool
		names  map[string]bool
		key    bool // the next string token is a name
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return false, true
		}
		if err != nil {
			return false, false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &level{object: v == '{', names: map[string]bool{}, key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				if top.names[v] {
					return true, true
				}
				top.names[v] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

// refUnknown reports whether b, decoded generically, has a member name
// fuzzDst does not define exactly where fuzzDst has a struct.
func refUnknown(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	only := func(m map[string]any, names ...string) bool {
		for k := range m {
			found := false
			for _, n := range names {
				found = found || k == n
			}
			if !found {
				return true
			}
		}
		return false
	}
	top, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if only(top, "username", "cookie", "role", "nested", "extra") {
		return true
	}
	nested, ok := top["nested"].(map[string]any)
	if !ok {
		return false
	}
	if only(nested, "a", "list") {
		return true
	}
	list, _ := nested["list"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && only(m, "b") {
			return true
		}
	}
	return false
}

// BenchmarkDecodeJSON is the cost of reading a login body.
func BenchmarkDecodeJSON(b *testing.B) {
	s := &server{maxBody: DefaultMaxBodyBytes}
	body := `{"username":"alice","password":"correct horse battery staple","cookie":true}`
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest("POST", "/login", nil)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = int64(len(body))
	rd := strings.NewReader(body)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		var req struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Cookie   bool   `json:"cookie"`
		}
		if !s.decodeJSON(w, r, &req) || req.Username != "alice" {
			b.Fatal("not decoded")
		}
	}
}
