package jwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Verifier checks tokens against a fixed set of keys and validation rules.
// Build it once with NewVerifier and share it: it is safe for concurrent
// use and allocates only the claims it hands back.
type Verifier struct {
	single     *Key            // the key when there is exactly one
	byKID      map[string]*Key // keys with a kid
	byHeader   map[string]*Key // the exact base64url headers Sign makes for each key
	issuer     string
	audience   string
	leeway     time.Duration
	now        func() time.Time
	requireExp bool
	maxSize    int
}

// An Option changes how a Verifier validates tokens.
type Option func(*Verifier)

// WithIssuer requires the iss claim to equal iss.
func WithIssuer(iss string) Option { return func(v *Verifier) { v.issuer = iss } }

// WithAudience requires the aud claim to be, or to contain, aud.
func WithAudience(aud string) Option { return func(v *Verifier) { v.audience = aud } }

// WithLeeway allows for clock skew when checking exp, nbf and iat.
func WithLeeway(d time.Duration) Option { return func(v *Verifier) { v.leeway = d } }

// WithClock replaces time.Now, for tests and for checking a token as of
// another time.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// AllowMissingExp accepts tokens without an exp claim. By default a token
// that never expires is refused with ErrMissingExp.
func AllowMissingExp() Option { return func(v *Verifier) { v.requireExp = false } }

// WithMaxSize changes the token length limit (default DefaultMaxSize).
func WithMaxSize(n int) Option { return func(v *Verifier) { v.maxSize = n } }

// NewVerifier returns a Verifier for keys. With one key, tokens with any
// or no kid are checked against it (unless the key has a kid, which must
// then match). With several keys each must have a distinct kid, and a
// token must name one.
func NewVerifier(keys []*Key, opts ...Option) (*Verifier, error) {
	v := &Verifier{now: time.Now, requireExp: true, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(v)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no verification keys", ErrInvalidKey)
	}
	if len(keys) == 1 {
		v.single = keys[0]
	}
	v.byKID = make(map[string]*Key, len(keys))
	v.byHeader = make(map[string]*Key, 2*len(keys))
	for _, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
		}
		v.byHeader[k.hdrJWT], v.byHeader[k.hdrJWS] = k, k
		if k.kid == "" {
			if len(keys) > 1 {
				return nil, fmt.Errorf("%w: with several keys every key needs a kid", ErrInvalidKey)
			}
			continue
		}
		if _, dup := v.byKID[k.kid]; dup {
			return nil, fmt.Errorf("%w: duplicate kid %q", ErrInvalidKey, k.kid)
		}
		v.byKID[k.kid] = k
	}
	return v, nil
}

// Verify checks token's shape, header, signature and claims, then decodes
// the claims into claims, which may be:
//   - nil, to only check;
//   - *Claims, or any ClaimDecoder (a struct embedding Claims with a
//     DecodeClaim method): decoded without reflection;
//   - anything encoding/json can unmarshal into (a struct pointer, a
//     *map[string]any, a *json.RawMessage).
//
// The claims are written only when the token is valid. The returned error
// wraps one of the package's sentinel errors, except when claims is
// neither nil nor a non-nil pointer: that is an *InvalidTargetError,
// whatever the token.
func (v *Verifier) Verify(token string, claims any) error {
	if err := checkTarget(claims); err != nil {
		return err
	}
	// With a single HMAC key, one pooled state holds both the HMAC and the
	// scratch buffer: one pool round trip per token instead of two.
	if k := v.single; k != nil && k.macs != nil {
		m := k.macs.Get().(*macState)
		err := v.verify(token, claims, &m.buf, m)
		if cap(m.buf) > 64<<10 {
			m.buf = nil // do not pin the odd huge buffer
		}
		k.macs.Put(m)
		return err
	}
	buf := getBuf()
	err := v.verify(token, claims, buf, nil)
	putBuf(buf)
	return err
}

// verify is Verify with a scratch buffer, and the single key's HMAC state
// when the caller has taken it.
func (v *Verifier) verify(token string, claims any, buf *[]byte, m *macState) error {
	var seg segments
	if err := v.check(token, buf, &seg, m); err != nil {
		return err
	}
	var rc scanned
	if err := scanClaims(seg.payload, &rc); err != nil {
		return err
	}
	if err := v.validate(seg.payload, &rc); err != nil {
		return err
	}
	switch c := claims.(type) {
	case nil:
		return nil
	case *Claims:
		rc.fill(text(seg.payload), seg.payload, c)
		return nil
	case ClaimDecoder:
		r := c.RegisteredClaims()
		if r == nil {
			return &InvalidTargetError{Type: reflect.TypeOf(claims)}
		}
		t := text(seg.payload)
		rc.fill(t, seg.payload, r)
		return rc.decodeExtra(t, seg.payload, c)
	}
	if err := json.Unmarshal(seg.payload, claims); err != nil {
		return fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return nil
}

// VerifyJWS checks a compact JWS's shape, header and signature and returns
// a copy of its payload, which may be anything (RFC 7515). No claims are
// read or validated: use Verify for JWTs.
func (v *Verifier) VerifyJWS(token string) ([]byte, error) {
	buf := getBuf()
	defer putBuf(buf)
	var seg segments
	if err := v.check(token, buf, &seg, nil); err != nil {
		return nil, err
	}
	return append([]byte(nil), seg.payload...), nil
}

// check runs everything up to and including the signature. m, when not
// nil, is an HMAC state of v.single to use.
func (v *Verifier) check(token string, buf *[]byte, seg *segments, m *macState) error {
	if err := split(token, v.maxSize, buf, seg); err != nil {
		return err
	}
	// A header byte-identical to one Sign makes for a key needs no
	// parsing: it names exactly that key and its algorithm.
	k := v.byHeader[string(seg.rawHdr)]
	if k == nil {
		h, err := seg.decodeHeader()
		if err != nil {
			return err
		}
		if h.crit != "" {
			return fmt.Errorf("%w: %s", ErrCritical, h.crit)
		}
		alg, ok := parseAlg(string(h.alg))
		if !ok {
			return fmt.Errorf("%w: %s", ErrUnsupportedAlgorithm, algName(Algorithm(h.alg)))
		}
		if k, err = v.key(h); err != nil {
			return err
		}
		if alg != k.alg {
			return fmt.Errorf("%w: token says %s, key is %s", ErrAlgorithmMismatch, alg, k.alg)
		}
	}
	var ok bool
	if m != nil && k == v.single {
		ok = macEqual(m, seg.input, seg.sig)
	} else {
		ok = k.verifySignature(seg.input, seg.sig)
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

func (v *Verifier) key(h header) (*Key, error) {
	if h.hasKID {
		if k, ok := v.byKID[string(h.kid)]; ok {
			return k, nil
		}
		if v.single != nil && v.single.kid == "" {
			return v.single, nil
		}
		return nil, fmt.Errorf("%w: no key with kid %q", ErrKeyNotFound, short(h.kid))
	}
	if v.single != nil {
		return v.single, nil
	}
	return nil, fmt.Errorf("%w: token has no kid and the verifier holds several keys", ErrKeyNotFound)
}

// validate applies the time, issuer and audience rules.
func (v *Verifier) validate(p []byte, rc *scanned) error {
	now := instantOf(v.now())
	early, late := now, now // the bounds exp and nbf/iat are held to
	if v.leeway != 0 {
		early, late = now.add(-v.leeway), now.add(v.leeway)
	}
	if rc.exp.set {
		// Valid while now < exp + leeway, that is while exp > now - leeway.
		if rc.exp.cmp(early) <= 0 {
			return fmt.Errorf("%w at %s", ErrExpired, rc.exp.time().Format(time.RFC3339))
		}
	} else if v.requireExp {
		return ErrMissingExp
	}
	if rc.nbf.set && rc.nbf.cmp(late) > 0 {
		return fmt.Errorf("%w before %s", ErrNotYetValid, rc.nbf.time().Format(time.RFC3339))
	}
	if rc.iat.set && rc.iat.cmp(late) > 0 {
		return fmt.Errorf("%w: iat %s", ErrIssuedInFuture, rc.iat.time().Format(time.RFC3339))
	}
	if v.issuer != "" && (!rc.hasIss || !spanEquals(p, rc.iss, v.issuer)) {
		return ErrIssuer
	}
	if v.audience != "" && !rc.audContains(p, v.audience) {
		return ErrAudience
	}
	return nil
}

// scanned holds the registered claims found by scanClaims, as spans into
// the payload: nothing is copied until the token has been accepted.
type scanned struct {
	exp, nbf, iat          date
	iss, sub, jti          span // string contents
	aud                    span // raw value: a string (with quotes) or an array
	hasIss, hasSub, hasJTI bool
	hasAud                 bool
	// extra records the other members for a ClaimDecoder, so the payload
	// is walked once; nExtra > len(extra) means "walk it again".
	extra  [8]member
	nExtra int
}

type member struct{ name, val span }

// maxClaims bounds the members of a payload, and with it the cost of the
// duplicate-name check.
const maxClaims = 256

// scanClaims validates the payload (one JSON object, no duplicate member
// names, well-typed registered claims) and records the claims into rc.
func scanClaims(p []byte, rc *scanned) error {
	if scanClaimsFast(p, rc) {
		return nil
	}
	*rc = scanned{}
	return scanClaimsFull(p, rc)
}

// scanClaimsFull is scanClaims for any payload.
//
// Duplicates are judged as encoding/json matches member names: case-
// insensitively, with Unicode folding. Else {"iss":"good","ISS":"evil"}
// would validate one value and hand the caller's struct the other. A
// registered claim must be spelled exactly in lower case, and any other
// name that folds to one is refused, so registered claims can only repeat
// themselves (one bit each in reg) and the other members are compared
// only with each other (in extras).
func scanClaimsFull(p []byte, rc *scanned) error {
	it, ok := openObject(p)
	if !ok {
		return fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	var reg uint8
	var small [8]span
	extras := extraNames{list: small[:0]}
	for {
		name, val, more, ok := it.next()
		if !ok {
			return fmt.Errorf("%w: payload is not valid JSON", ErrMalformed)
		}
		if !more {
			break
		}
		if it.n > maxClaims {
			return fmt.Errorf("%w: payload has more than %d members", ErrMalformed, maxClaims)
		}
		nm := p[name.start:name.end]
		if name.esc {
			nm = unescape(nm)
		}
		if id := registeredClaim(nm); id != notRegistered {
			d, err := claimValue(p, id, val, it.num)
			if err != nil {
				return err
			}
			if reg&id.bit() != 0 {
				return fmt.Errorf("%w: duplicate claim %q", ErrMalformed, nm)
			}
			reg |= id.bit()
			rc.record(id, val, d)
			continue
		}
		if registeredFold(nm, name.high || name.esc) {
			return fmt.Errorf("%w: claim %q must be spelled in lower case", ErrMalformed, short(nm))
		}
		var repeated bool
		if extras, repeated = extras.add(p, name, nm); repeated {
			return fmt.Errorf("%w: duplicate claim %q", ErrMalformed, short(nm))
		}
		if rc.nExtra < len(rc.extra) {
			rc.extra[rc.nExtra] = member{name, val}
		}
		rc.nExtra++
	}
	if skipWS(p, it.i) != len(p) {
		return fmt.Errorf("%w: data after the payload object", ErrMalformed)
	}
	return nil
}

// extraNames holds the names of the non-registered members met so far.
type extraNames struct {
	list []span
	// bits is a bloom filter of the plain names (nameBit): most names
	// need no comparison. Escaped, non-ASCII and empty names are always
	// compared, and so is every name after one of them (special).
	bits    uint64
	special bool
}

// add returns x with the name at span name (nm, unescaped) added, and
// whether nm folds to a name met before. It returns x rather than
// updating *x so that the list can stay on the caller's stack.
func (x extraNames) add(p []byte, name span, nm []byte) (extraNames, bool) {
	special := name.esc || name.high || len(nm) == 0
	var h uint64
	if !special {
		h = nameBit(nm)
	}
	if special || x.special || x.bits&h != 0 {
		for _, prev := range x.list {
			if bytes.EqualFold(nameBytes(p, prev), nm) {
				return x, true
			}
		}
	}
	x.bits |= h
	x.special = x.special || special
	x.list = append(x.list, name)
	return x, false
}

// nameBit picks one of 64 bits for a non-empty plain ASCII name, from its
// length and its first and last letters folded to lower case: names that
// fold to one another get the same bit.
func nameBit(nm []byte) uint64 {
	return 1 << ((uint(len(nm)) + uint(nm[0]|0x20)*3 + uint(nm[len(nm)-1]|0x20)*5) & 63)
}

// claimValue checks that val, the value of claim id, has the claim's type,
// and returns it when it is a date. num is the value as the iterator read
// it, when it read a date.
func claimValue(p []byte, id claimID, val span, num date) (date, error) {
	name := registeredNames[id]
	switch {
	case id.isDate():
		return dateValue(p, val, num, name)
	case id == claimAud:
		return date{}, checkAud(p, val)
	case p[val.start] != '"':
		return date{}, fmt.Errorf("%w: %s is not a string", ErrMalformed, name)
	}
	return date{}, nil
}

// dateValue returns a time claim: num when the scanner already read the
// value as a date, else the value parsed now (or the reason it is not one).
func dateValue(p []byte, val span, num date, name string) (date, error) {
	if num.set {
		return num, nil
	}
	d, ok := scanDate(p[val.start:val.end])
	if !ok {
		return d, fmt.Errorf("%w: %s must be a number of seconds between 0 and %d", ErrMalformed, name, maxNumericDate)
	}
	return d, nil
}

// checkAud requires a string or an array of strings.
func checkAud(p []byte, val span) error {
	if p[val.start] == '"' {
		return nil // the scanner has already validated the string
	}
	ok := true
	eachAud(p, val, func(sp span, isStr bool) { ok = ok && isStr })
	if !ok {
		return fmt.Errorf("%w: aud must be a string or an array of strings", ErrMalformed)
	}
	return nil
}

// eachAud calls fn for the aud string or for each element of the array.
func eachAud(p []byte, val span, fn func(sp span, isStr bool)) {
	if p[val.start] == '"' {
		_, sp, _ := scanString(p, val.start)
		fn(sp, true)
		return
	}
	if p[val.start] != '[' {
		fn(span{}, false)
		return
	}
	i := skipWS(p, val.start+1)
	for i < val.end && p[i] != ']' {
		if p[i] != '"' {
			fn(span{}, false)
			return
		}
		end, sp, _ := scanString(p, i)
		fn(sp, true)
		i = skipWS(p, end)
		if p[i] == ',' {
			i = skipWS(p, i+1)
		}
	}
}

func (rc *scanned) audContains(p []byte, want string) bool {
	if !rc.hasAud {
		return false
	}
	if a := rc.aud; p[a.start] == '"' && !a.esc { // the usual single audience
		return string(p[a.start+1:a.end-1]) == want
	}
	found := false
	eachAud(p, rc.aud, func(sp span, _ bool) { found = found || spanEquals(p, sp, want) })
	return found
}

func spanEquals(p []byte, sp span, want string) bool {
	if sp.esc {
		return string(unescape(p[sp.start:sp.end])) == want
	}
	return string(p[sp.start:sp.end]) == want
}

// text is the payload as a string, one allocation that the strings
// Verify hands out share.
type text string

// str returns the string at sp, sharing t's memory unless it has escapes.
func (t text) str(p []byte, sp span) string {
	if sp.esc {
		return string(unescape(p[sp.start:sp.end]))
	}
	return string(t[sp.start:sp.end])
}

// fill writes the registered claims into c.
//
// Fields are written one by one: copying a whole Claims into c, usually
// on the heap, runs a bulk write barrier over every pointer in it while
// the garbage collector marks, which costs more than the few pointers
// that change.
func (rc *scanned) fill(t text, p []byte, c *Claims) {
	var iss, sub, jti string
	if rc.hasIss {
		iss = t.str(p, rc.iss)
	}
	if rc.hasSub {
		sub = t.str(p, rc.sub)
	}
	if rc.hasJTI {
		jti = t.str(p, rc.jti)
	}
	c.Issuer, c.Subject, c.ID = iss, sub, jti
	c.ExpiresAt, c.NotBefore, c.IssuedAt = rc.exp.time(), rc.nbf.time(), rc.iat.time()
	switch {
	case !rc.hasAud:
		c.Audience = nil
	case p[rc.aud.start] == '"':
		aud := t.str(p, span{start: rc.aud.start + 1, end: rc.aud.end - 1, esc: rc.aud.esc})
		// An array of its own: one inside c would be shared by every copy
		// of c and rewritten by the next Verify into it.
		c.Audience = Audience{aud}
	default: // an array
		list := []string{}
		eachAud(p, rc.aud, func(sp span, _ bool) { list = append(list, t.str(p, sp)) })
		c.Audience = list
	}
}

// decodeExtra hands every non-registered member to d.
func (rc *scanned) decodeExtra(t text, p []byte, d ClaimDecoder) error {
	if rc.nExtra <= len(rc.extra) {
		for i := range rc.extra[:rc.nExtra] {
			m := &rc.extra[i]
			name := t.str(p, m.name)
			if err := d.DecodeClaim(name, Value{raw: p[m.val.start:m.val.end], text: string(t[m.val.start:m.val.end]), esc: m.val.esc}); err != nil {
				return claimError(name, err)
			}
		}
		return nil
	}
	// Too many to have been recorded (so not the fast path): walk again.
	it, _ := openObject(p)
	for {
		name, val, more, _ := it.next()
		if !more {
			return nil
		}
		n := t.str(p, name)
		if registeredClaim([]byte(n)) != notRegistered {
			continue
		}
		if err := d.DecodeClaim(n, Value{raw: p[val.start:val.end], text: string(t[val.start:val.end]), esc: val.esc}); err != nil {
			return claimError(n, err)
		}
	}
}

func claimError(name string, err error) error {
	return fmt.Errorf("%w: claim %q: %w", ErrMalformed, short([]byte(name)), err)
}
