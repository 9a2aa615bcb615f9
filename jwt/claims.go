package jwt

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Claims holds the registered claims of RFC 7519 section 4.1. Embed it in
// your own struct for custom claims; Sign and Verify then encode and
// decode every field of that struct (with encoding/json), and Verify
// fills *Claims itself without reflection.
//
// Claims deliberately has no method that Sign or Verify would find on a
// struct embedding it and use in place of that struct's own encoding:
// no MarshalJSON, no UnmarshalJSON, no AppendJSON. Such a method, promoted
// to the struct, would handle the registered claims alone and silently
// drop the struct's own fields. A struct that wants to skip reflection
// implements ClaimAppender and ClaimDecoder itself, with AppendMembers.
type Claims struct {
	Issuer    string      `json:"iss,omitempty"`
	Subject   string      `json:"sub,omitempty"`
	Audience  Audience    `json:"aud,omitempty"`
	ExpiresAt NumericDate `json:"exp,omitzero"`
	NotBefore NumericDate `json:"nbf,omitzero"`
	IssuedAt  NumericDate `json:"iat,omitzero"`
	ID        string      `json:"jti,omitempty"`
}

// RegisteredClaims returns c itself, so that a struct embedding Claims
// satisfies ClaimDecoder's first method.
func (c *Claims) RegisteredClaims() *Claims { return c }

// appendJSON appends c as a JSON object, the same bytes encoding/json
// would produce, without reflection.
func (c *Claims) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = c.appendMembers(dst, false)
	return append(dst, '}')
}

// AppendMembers appends the non-empty registered claims as JSON object
// members (without braces), preceded by a comma when comma is true. It
// returns the buffer and whether anything was written, so a custom claims
// type can write its own members around it.
func (c *Claims) AppendMembers(dst []byte, comma bool) ([]byte, bool) {
	n := len(dst)
	dst = c.appendMembers(dst, comma)
	return dst, len(dst) != n
}

func (c *Claims) appendMembers(dst []byte, comma bool) []byte {
	str := func(name, v string) {
		if v == "" {
			return
		}
		if comma {
			dst = append(dst, ',')
		}
		comma = true
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		dst = AppendJSONString(dst, v)
	}
	date := func(name string, d NumericDate) {
		if d.IsZero() {
			return
		}
		if comma {
			dst = append(dst, ',')
		}
		comma = true
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		dst = d.appendJSON(dst)
	}
	str("iss", c.Issuer)
	str("sub", c.Subject)
	switch len(c.Audience) {
	case 0:
	case 1:
		str("aud", c.Audience[0])
	default:
		if comma {
			dst = append(dst, ',')
		}
		comma = true
		dst = append(dst, `"aud":[`...)
		for i, a := range c.Audience {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, a)
		}
		dst = append(dst, ']')
	}
	date("exp", c.ExpiresAt)
	date("nbf", c.NotBefore)
	date("iat", c.IssuedAt)
	str("jti", c.ID)
	return dst
}

// ClaimDecoder is implemented by claim types that decode themselves
// without reflection (see Claims). Verify fills RegisteredClaims() and
// calls DecodeClaim for every other top-level member, after the signature
// and the registered claims have been checked.
type ClaimDecoder interface {
	RegisteredClaims() *Claims
	DecodeClaim(name string, v Value) error
}

// ClaimAppender is implemented by claim types that encode themselves as a
// JSON object without reflection. Sign uses it when present, so it must
// write every claim of the type; Claims.AppendMembers writes the
// registered ones. A struct embedding a ClaimAppender inherits its
// AppendJSON, and with it encodes only what that method writes.
type ClaimAppender interface {
	AppendJSON(dst []byte) []byte
}

// Value is one raw JSON value handed to ClaimDecoder.DecodeClaim. It is
// only valid during the call, except for strings it returns.
type Value struct {
	raw  []byte // the JSON text
	text string // the same, as a string that String and Int64 cut from
	esc  bool   // a string value with escapes (known from the scan)
}

// Raw returns the JSON text of the value. The bytes are only valid during
// the DecodeClaim call; copy them to keep them.
func (v Value) Raw() []byte { return v.raw }

// Kind returns the JSON type of the value: one of '"', '{', '[', 't', 'f',
// 'n' or '0' (number).
func (v Value) Kind() byte {
	switch c := v.raw[0]; c {
	case '"', '{', '[', 't', 'f', 'n':
		return c
	}
	return '0'
}

// String returns the value as a string; it fails unless the value is a
// JSON string.
func (v Value) String() (string, error) {
	if len(v.raw) < 2 || v.raw[0] != '"' {
		return "", fmt.Errorf("%w: claim is not a string", ErrMalformed)
	}
	if v.esc {
		return string(unescape(v.raw[1 : len(v.raw)-1])), nil
	}
	return v.text[1 : len(v.text)-1], nil
}

// Int64 returns the value as an integer; it fails unless the value is a
// JSON number without fraction or exponent that fits in an int64.
func (v Value) Int64() (int64, error) {
	n, err := strconv.ParseInt(v.text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: claim is not an integer", ErrMalformed)
	}
	return n, nil
}

// Bool returns the value as a boolean.
func (v Value) Bool() (bool, error) {
	switch string(v.raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: claim is not a boolean", ErrMalformed)
}

// Decode unmarshals the value with encoding/json.
func (v Value) Decode(dst any) error {
	if err := json.Unmarshal(v.raw, dst); err != nil {
		return fmt.Errorf("%w: claim: %w", ErrMalformed, err)
	}
	return nil
}

// Audience is the "aud" claim: one string or a list of strings. A single
// audience is encoded as a plain string, as most peers expect.
type Audience []string

// Contains reports whether s is one of the audiences.
func (a Audience) Contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

// MarshalJSON implements json.Marshaler.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return AppendJSONString(nil, a[0]), nil
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("%w: aud must be a string or an array of strings", ErrMalformed)
	}
	*a = l
	return nil
}

// NumericDate is a JWT time: seconds since the Unix epoch, integer or
// fraction (RFC 7519 section 2). The zero value means "absent".
type NumericDate struct {
	time.Time
}

// NewNumericDate returns t as a NumericDate, truncated to whole seconds as
// most peers expect.
func NewNumericDate(t time.Time) NumericDate {
	return NumericDate{t.Truncate(time.Second)}
}

// maxNumericDate is 9999-12-31T23:59:59Z: later dates, negative dates and
// non-numbers are refused as malformed rather than silently clamped.
const maxNumericDate = 253402300799

func (d NumericDate) appendJSON(dst []byte) []byte {
	dst = strconv.AppendInt(dst, d.Unix(), 10)
	if ns := d.Nanosecond(); ns != 0 {
		frac := strconv.AppendInt(nil, int64(ns)+1e9, 10)[1:] // 9 digits, zero-padded
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		dst = append(append(dst, '.'), frac...)
	}
	return dst
}

// MarshalJSON implements json.Marshaler.
func (d NumericDate) MarshalJSON() ([]byte, error) {
	return d.appendJSON(nil), nil
}

// UnmarshalJSON accepts a JSON number in range.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	t, ok := parseNumericDate(b)
	if !ok {
		return fmt.Errorf("%w: time claim must be a number of seconds between 0 and %d", ErrMalformed, maxNumericDate)
	}
	*d = t
	return nil
}

// parseNumericDate parses a JSON number as seconds (with optional
// fraction) without allocating in the common cases.
func parseNumericDate(b []byte) (NumericDate, bool) {
	if end, ok := scanNumber(b, 0); !ok || end != len(b) {
		return NumericDate{}, false
	}
	return numericDate(b)
}

// numericDate is parseNumericDate for a value the scanner has already
// validated as some JSON value.
func numericDate(b []byte) (NumericDate, bool) {
	d, ok := scanDate(b)
	return d.time(), ok
}

// date is a NumericDate as the claims scanner keeps it: plain integers,
// so that validation compares numbers and only accepted tokens pay for
// building a time.Time.
type date struct {
	sec  int64
	nsec int64
	set  bool
}

func (d date) time() NumericDate {
	if !d.set {
		return NumericDate{}
	}
	return NumericDate{time.Unix(d.sec, d.nsec).UTC()}
}

// instant is a time as whole Unix seconds and nanoseconds, the form
// validation compares dates in.
type instant struct{ sec, nsec int64 }

// instantOf returns t as an instant.
func instantOf(t time.Time) instant {
	return instant{t.Unix(), int64(t.Nanosecond())}
}

// add returns t moved by d.
func (t instant) add(d time.Duration) instant {
	sec := t.sec + int64(d/time.Second)
	nsec := t.nsec + int64(d%time.Second)
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	} else if nsec >= 1e9 {
		sec, nsec = sec+1, nsec-1e9
	}
	return instant{sec, nsec}
}

// cmp compares d with t: -1 if d is earlier, 0 if equal, +1 if later.
func (d date) cmp(t instant) int {
	if d.sec != t.sec {
		return cmp.Compare(d.sec, t.sec)
	}
	return cmp.Compare(d.nsec, t.nsec)
}

// scanNumberDate scans a JSON number starting with a digit at b[i], like
// scanNumber, and also returns it as a date when it is one (set is false
// otherwise). Plain integers, what every peer writes, take one pass.
func scanNumberDate(b []byte, i int) (int, date, bool) {
	start := i
	var sec int64
	if b[i] == '0' {
		i++
	} else {
		// A NumericDate of today has ten digits: take eight in one step.
		if i+8 <= len(b) {
			if x := binary.LittleEndian.Uint64(b[i:]); allDigits8(x) {
				sec, i = parse8Digits(x), i+8
			}
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' && sec <= maxNumericDate {
			sec = sec*10 + int64(b[i]-'0')
			i++
		}
	}
	if i < len(b) && ('0' <= b[i] && b[i] <= '9' || b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		end, ok := scanNumber(b, start) // fraction, exponent or a huge number
		if !ok {
			return 0, date{}, false
		}
		d, _ := scanDate(b[start:end])
		return end, d, true
	}
	if sec > maxNumericDate {
		return i, date{}, true
	}
	return i, date{sec: sec, set: true}, true
}

// allDigits8 reports whether the eight bytes of x (little-endian) are all
// ASCII digits: each byte's high nibble is 3 and adding 6 does not carry
// into it.
func allDigits8(x uint64) bool {
	return x&0xf0f0f0f0f0f0f0f0|(x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0>>4 == 0x3333333333333333
}

// parse8Digits returns the value of eight ASCII digits read little-endian
// (the first digit in the low byte), combining pairs, then quads, then
// the two halves.
func parse8Digits(x uint64) int64 {
	x &= 0x0f0f0f0f0f0f0f0f
	x = (x*10 + x>>8) & 0x00ff00ff00ff00ff
	x = (x*100 + x>>16) & 0x0000ffff0000ffff
	x = (x*10000 + x>>32) & 0xffffffff
	return int64(x)
}

// scanDate is numericDate without the time.Time.
func scanDate(b []byte) (date, bool) {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' { // not a number, or negative
		return date{}, false
	}
	var sec, nsec int64
	i, slow := 0, false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
		if sec > maxNumericDate {
			if !bytes.ContainsAny(b, "eE") {
				return date{}, false
			}
			slow = true // an exponent may bring it back in range
			break
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		scale := int64(1e8)
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			nsec += int64(b[i]-'0') * scale
			scale /= 10
		}
	}
	if slow || i < len(b) { // exponent: rare, take the slow path
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f < 0 || f > maxNumericDate || math.IsNaN(f) {
			return date{}, false
		}
		s, frac := math.Modf(f)
		sec, nsec = int64(s), int64(math.Round(frac*1e9))
	}
	if sec == maxNumericDate && nsec > 0 {
		return date{}, false
	}
	return date{sec, nsec, true}, true
}

// AppendJSONString appends s as a JSON string literal, escaping as
// encoding/json does (including <, > and & for HTML safety).
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < 0x80 {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes AppendJSONString copies as they are: one table
// load per byte instead of seven comparisons.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
