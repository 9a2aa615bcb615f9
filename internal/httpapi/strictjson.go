package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Strict JSON request bodies. encoding/json matches member names without
// regard to case and lets the last of two equal names win, so
// {"username":"bob","USERNAME":"alice"} decodes as alice. checkJSON scans
// a body once, before it is decoded, and refuses what encoding/json would
// let through: a member name the destination does not define exactly
// (a case variant included: 400 unknown_field), a name repeated in one
// object, at any depth, and the rest of what I-JSON (RFC 7493) forbids,
// invalid UTF-8 and escapes of half a surrogate pair (400 invalid_json).

// maxJSONDepth bounds the nesting of a body; the API's bodies are flat.
const maxJSONDepth = 64

// jsonKind classifies a body checkJSON refuses.
type jsonKind uint8

const (
	jsonSyntax    jsonKind = iota + 1 // not JSON
	jsonEmpty                         // nothing but white space
	jsonTrailing                      // data after the value
	jsonNotObject                     // a value other than an object
	jsonDepth                         // nested deeper than maxJSONDepth
	jsonEncoding                      // invalid UTF-8 or a lone surrogate escape
	jsonDuplicate                     // a member name twice in one object
	jsonUnknown                       // a member name the destination does not define
)

// jsonProblem is why checkJSON refused a body, as the problem to send.
type jsonProblem struct {
	kind   jsonKind
	code   string
	detail string
}

// shape is what checkJSON knows of a destination type. A nil *shape takes
// any member names (maps of interfaces, interfaces, types with their own
// UnmarshalJSON or UnmarshalText).
type shape struct {
	fields map[string]*shape // a struct's exact member names; nil if not a struct
	elem   *shape            // the elements of a slice or array, the values of a map
}

var (
	shapesMu sync.Mutex
	shapes   sync.Map // reflect.Type → *shape; read without the lock

	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// shapeOf returns the shape of t, computed once per type.
func shapeOf(t reflect.Type) *shape {
	if sh, ok := shapes.Load(t); ok {
		return sh.(*shape)
	}
	shapesMu.Lock()
	defer shapesMu.Unlock()
	return buildShape(t, map[reflect.Type]*shape{})
}

// buildShape follows encoding/json's rules for member names: the name in
// the json tag, else the field name; "-" skips a field; the fields of an
// untagged embedded struct count as the outer struct's unless it has its
// own of that name. Where it is unsure it is stricter: encoding/json,
// told to refuse unknown fields, still decodes after it. building holds
// the shapes of recursive types while they are filled in.
func buildShape(t reflect.Type, building map[reflect.Type]*shape) *shape {
	if sh, ok := shapes.Load(t); ok {
		return sh.(*shape)
	}
	if sh, ok := building[t]; ok {
		return sh
	}
	if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		shapes.Store(t, (*shape)(nil))
		return nil
	}
	var sh *shape
	switch t.Kind() {
	case reflect.Pointer:
		sh = buildShape(t.Elem(), building)
	case reflect.Slice, reflect.Array, reflect.Map:
		if elem := buildShape(t.Elem(), building); elem != nil {
			sh = &shape{elem: elem}
		}
	case reflect.Struct:
		sh = &shape{fields: map[string]*shape{}}
		building[t] = sh
		var embedded []*shape
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					if inner := buildShape(ft, building); inner != nil {
						embedded = append(embedded, inner)
					}
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			sh.fields[name] = buildShape(f.Type, building)
		}
		for _, inner := range embedded {
			for name, fs := range inner.fields {
				if _, ok := sh.fields[name]; !ok {
					sh.fields[name] = fs
				}
			}
		}
		delete(building, t)
	}
	shapes.Store(t, sh)
	return sh
}

// checkJSON checks that b is one JSON object, strictly as described above,
// whose member names sh defines. It returns nil if so.
func checkJSON(b []byte, sh *shape) *jsonProblem {
	s := jsonScanner{b: b}
	s.ws()
	if s.i == len(b) {
		return &jsonProblem{jsonEmpty, codeInvalidJSON, "the request body is empty; send a JSON object"}
	}
	first := b[s.i]
	if !s.value(sh) {
		return s.fatal
	}
	s.ws()
	switch {
	case s.i < len(b):
		return &jsonProblem{jsonTrailing, codeInvalidJSON, "the request body has data after the JSON object"}
	case first != '{':
		return &jsonProblem{jsonNotObject, codeInvalidJSON, "the request body must be a JSON object"}
	}
	return s.first
}

// jsonScanner is a recursive descent over JSON text. It stops at the first
// syntax error (fatal) but, after a duplicate or unknown member name, goes
// on checking the syntax, which goes first: first holds the earliest such
// name.
type jsonScanner struct {
	b     []byte
	i     int
	depth int
	fatal *jsonProblem
	first *jsonProblem
}

var errNotJSON = &jsonProblem{jsonSyntax, codeInvalidJSON, "the request body is not valid JSON"}

func (s *jsonScanner) fail(p *jsonProblem) bool {
	s.fatal = p
	return false
}

func (s *jsonScanner) note(p *jsonProblem) {
	if s.first == nil {
		s.first = p
	}
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value, white space before it included.
func (s *jsonScanner) value(sh *shape) bool {
	s.ws()
	if s.i == len(s.b) {
		return s.fail(errNotJSON)
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(sh)
	case c == '[':
		return s.array(sh)
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return s.fail(errNotJSON)
}

func (s *jsonScanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail(errNotJSON)
	}
	s.i += len(lit)
	return true
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() bool {
	b, j := s.b, s.i
	if b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = digits(b, j)
	default:
		return s.fail(errNotJSON)
	}
	if j < len(b) && b[j] == '.' {
		k := digits(b, j+1)
		if k == j+1 {
			return s.fail(errNotJSON)
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := digits(b, j)
		if k == j {
			return s.fail(errNotJSON)
		}
		j = k
	}
	s.i = j
	return true
}

func digits(b []byte, j int) int {
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	return j
}

var errEncoding = &jsonProblem{jsonEncoding, codeInvalidJSON, "the request body must be UTF-8 without \\u escapes of half a surrogate pair (RFC 7493)"}

// str scans a string at s.i (a '"'), returning its text between the
// quotes and whether it has escapes.
func (s *jsonScanner) str() (raw []byte, escaped, ok bool) {
	b := s.b
	start := s.i + 1
	for j := start; j < len(b); {
		c := b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return b[start:j], escaped, true
		case c == '\\':
			escaped = true
			if j+1 == len(b) {
				return nil, false, s.fail(errNotJSON)
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				r, ok := hex4(b, j+2)
				if !ok {
					return nil, false, s.fail(errNotJSON)
				}
				j += 6
				switch {
				case 0xDC00 <= r && r <= 0xDFFF:
					return nil, false, s.fail(errEncoding) // a low half alone
				case 0xD800 <= r && r <= 0xDBFF:
					// A high half must be followed by a low one.
					if j+1 >= len(b) || b[j] != '\\' || b[j+1] != 'u' {
						return nil, false, s.fail(errEncoding)
					}
					lo, ok := hex4(b, j+2)
					if !ok {
						return nil, false, s.fail(errNotJSON)
					}
					if lo < 0xDC00 || lo > 0xDFFF {
						return nil, false, s.fail(errEncoding)
					}
					j += 6
				}
			default:
				return nil, false, s.fail(errNotJSON)
			}
		case c < 0x20:
			return nil, false, s.fail(errNotJSON)
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, s.fail(errEncoding)
			}
			j += size
		}
	}
	return nil, false, s.fail(errNotJSON)
}

// hex4 decodes the four hex digits at b[j:].
func hex4(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// smallObject is how many member names an object may have before the
// duplicate check switches from comparing each pair to a map.
const smallObject = 16

// open enters the object or array at s.i, which close ends: it reports
// whether it is empty (and consumed), and false in ok when it nests too
// deep.
func (s *jsonScanner) open(close byte) (empty, ok bool) {
	if s.depth++; s.depth > maxJSONDepth {
		return false, s.fail(&jsonProblem{jsonDepth, codeInvalidJSON, "the request body nests deeper than " + strconv.Itoa(maxJSONDepth) + " levels"})
	}
	s.i++ // { or [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		s.depth--
		return true, true
	}
	return false, true
}

// next reads what follows a member or element: a comma (more) or close
// (the end of the object or array), else a syntax error (not ok).
func (s *jsonScanner) next(close byte) (more, ok bool) {
	s.ws()
	if s.i == len(s.b) {
		return false, s.fail(errNotJSON)
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true, true
	case close:
		s.i++
		s.depth--
		return false, true
	}
	return false, s.fail(errNotJSON)
}

func (s *jsonScanner) object(sh *shape) bool {
	if empty, ok := s.open('}'); empty || !ok {
		return ok
	}
	var few [smallObject][]byte
	names := few[:0]
	var many map[string]struct{}
	for {
		s.ws()
		if s.i == len(s.b) || s.b[s.i] != '"' {
			return s.fail(errNotJSON)
		}
		raw, escaped, ok := s.str()
		if !ok {
			return false
		}
		name := raw
		if escaped {
			var u string
			if json.Unmarshal(s.b[s.i-len(raw)-2:s.i], &u) != nil { // cannot happen: str checked it
				return s.fail(errNotJSON)
			}
			name = []byte(u)
		}
		if s.first == nil {
			dup := false
			if many != nil {
				_, dup = many[string(name)]
				many[string(name)] = struct{}{}
			} else {
				for _, n := range names {
					if bytes.Equal(n, name) {
						dup = true
						break
					}
				}
				if names = append(names, name); len(names) == smallObject {
					many = make(map[string]struct{}, 2*smallObject)
					for _, n := range names {
						many[string(n)] = struct{}{}
					}
				}
			}
			if dup {
				s.note(&jsonProblem{jsonDuplicate, codeInvalidJSON, "member " + memberName(name) + " appears twice in one object; send each name once"})
			}
		}
		var child *shape
		if sh != nil {
			if sh.fields != nil {
				fs, known := sh.fields[string(name)]
				if !known {
					s.note(unknownMember(name, sh))
				}
				child = fs
			} else {
				child = sh.elem
			}
		}
		s.ws()
		if s.i == len(s.b) || s.b[s.i] != ':' {
			return s.fail(errNotJSON)
		}
		s.i++
		if !s.value(child) {
			return false
		}
		if more, ok := s.next('}'); !more || !ok {
			return ok
		}
	}
}

func (s *jsonScanner) array(sh *shape) bool {
	if empty, ok := s.open(']'); empty || !ok {
		return ok
	}
	var elem *shape
	if sh != nil && sh.fields == nil {
		elem = sh.elem
	}
	for {
		if !s.value(elem) {
			return false
		}
		if more, ok := s.next(']'); !more || !ok {
			return ok
		}
	}
}

// memberName quotes a member name for a detail, cut to a sane length.
func memberName(name []byte) string {
	if len(name) > 80 {
		cut := 80
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		return jsonQuote(string(name[:cut])) + "…"
	}
	return jsonQuote(string(name))
}

// unknownMember names the member, and the defined one it differs from
// only in case, if any.
func unknownMember(name []byte, sh *shape) *jsonProblem {
	detail := "member " + memberName(name) + " is not defined for this operation"
	for known := range sh.fields {
		if strings.EqualFold(known, string(name)) {
			detail += "; names are case-sensitive: did you mean " + jsonQuote(known) + "?"
			break
		}
	}
	return &jsonProblem{jsonUnknown, codeUnknownField, detail}
}
