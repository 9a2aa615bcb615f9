package bench

// The cases: each sets up one library once (outside the timed loop) and
// returns a closure that does one verify or sign. The benchmarks time the
// closure; TestVerifyCases and TestSignCases run the very same closures
// and check what they decode or produce, so a benchmark cannot quietly
// measure a failing path.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	cj "github.com/cristalhq/jwt/v4"
	gj "github.com/golang-jwt/jwt/v5"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
	kj "github.com/kataras/jwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
	xj "github.com/lestrrat-go/jwx/v3/jwt"
)

// The shared fixture: one 32-byte HS256 secret, one fixed clock, one
// claims set.
var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Unix(1_700_000_000, 0)
)

// clock is the verifiers' fixed time: a minute after issue (cristalhq
// wants iat strictly before now), long before expiry.
func clock() time.Time { return now.Add(time.Minute) }

const (
	issuer   = "https://auth.example"
	audience = "api"
)

func init() {
	kj.Clock = clock // kataras has only a package-level clock
}

// plainClaims is the "arbitrary struct with json tags": what jwtgate-struct,
// floor-full and kataras decode into, and what jwtgate-json and kataras sign.
type plainClaims struct {
	Iss  string `json:"iss"`
	Sub  string `json:"sub"`
	Aud  string `json:"aud"`
	Exp  int64  `json:"exp"`
	Iat  int64  `json:"iat"`
	Jti  string `json:"jti"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// want is what every verify case must decode and every sign case encode.
var want = plainClaims{
	Iss:  issuer,
	Sub:  "42",
	Aud:  audience,
	Exp:  now.Add(15 * time.Minute).Unix(),
	Iat:  now.Unix(),
	Jti:  "b2f1c7d4e5a6",
	Name: "Ada Lovelace",
	Role: "editor",
}

// gateClaims is the claims type the jwtgate server itself signs and
// verifies: registered claims plus name and role, without reflection.
type gateClaims = auth.AccessClaims

func gateFrom(p plainClaims) *gateClaims {
	return &gateClaims{
		Claims: jwt.Claims{
			Issuer:    p.Iss,
			Subject:   p.Sub,
			Audience:  jwt.Audience{p.Aud},
			ExpiresAt: jwt.NewNumericDate(time.Unix(p.Exp, 0)),
			IssuedAt:  jwt.NewNumericDate(time.Unix(p.Iat, 0)),
			ID:        p.Jti,
		},
		Name: p.Name,
		Role: auth.Role(p.Role),
	}
}

func plainOf(c *gateClaims) plainClaims {
	p := plainClaims{Iss: c.Issuer, Sub: c.Subject, Jti: c.ID, Name: c.Name, Role: string(c.Role)}
	if len(c.Audience) == 1 {
		p.Aud = c.Audience[0]
	}
	if !c.ExpiresAt.IsZero() {
		p.Exp = c.ExpiresAt.Unix()
	}
	if !c.IssuedAt.IsZero() {
		p.Iat = c.IssuedAt.Unix()
	}
	return p
}

// gjClaims is the golang-jwt idiom: RegisteredClaims embedded.
type gjClaims struct {
	gj.RegisteredClaims
	Name string `json:"name"`
	Role string `json:"role"`
}

func gjFrom(p plainClaims) *gjClaims {
	return &gjClaims{
		RegisteredClaims: gj.RegisteredClaims{
			Issuer:    p.Iss,
			Subject:   p.Sub,
			Audience:  gj.ClaimStrings{p.Aud},
			ExpiresAt: gj.NewNumericDate(time.Unix(p.Exp, 0)),
			IssuedAt:  gj.NewNumericDate(time.Unix(p.Iat, 0)),
			ID:        p.Jti,
		},
		Name: p.Name,
		Role: p.Role,
	}
}

func (c *gjClaims) plain() plainClaims {
	p := plainClaims{Iss: c.Issuer, Sub: c.Subject, Jti: c.ID, Name: c.Name, Role: c.Role}
	if len(c.Audience) == 1 {
		p.Aud = c.Audience[0]
	}
	if c.ExpiresAt != nil {
		p.Exp = c.ExpiresAt.Unix()
	}
	if c.IssuedAt != nil {
		p.Iat = c.IssuedAt.Unix()
	}
	return p
}

// chClaims is the cristalhq idiom: RegisteredClaims embedded.
type chClaims struct {
	cj.RegisteredClaims
	Name string `json:"name"`
	Role string `json:"role"`
}

func chFrom(p plainClaims) *chClaims {
	return &chClaims{
		RegisteredClaims: cj.RegisteredClaims{
			Issuer:    p.Iss,
			Subject:   p.Sub,
			Audience:  cj.Audience{p.Aud},
			ExpiresAt: cj.NewNumericDate(time.Unix(p.Exp, 0)),
			IssuedAt:  cj.NewNumericDate(time.Unix(p.Iat, 0)),
			ID:        p.Jti,
		},
		Name: p.Name,
		Role: p.Role,
	}
}

func (c *chClaims) plain() plainClaims {
	p := plainClaims{Iss: c.Issuer, Sub: c.Subject, Jti: c.ID, Name: c.Name, Role: c.Role}
	if len(c.Audience) == 1 {
		p.Aud = c.Audience[0]
	}
	if c.ExpiresAt != nil {
		p.Exp = c.ExpiresAt.Unix()
	}
	if c.IssuedAt != nil {
		p.Iat = c.IssuedAt.Unix()
	}
	return p
}

// jwxBuild is the jwx idiom for making a token from claims.
func jwxBuild(p plainClaims) (xj.Token, error) {
	return xj.NewBuilder().
		Issuer(p.Iss).
		Subject(p.Sub).
		Audience([]string{p.Aud}).
		Expiration(time.Unix(p.Exp, 0)).
		IssuedAt(time.Unix(p.Iat, 0)).
		JwtID(p.Jti).
		Claim("name", p.Name).
		Claim("role", p.Role).
		Build()
}

// jwxPlain reads a jwx token into plainClaims through its accessors.
func jwxPlain(t xj.Token, c *plainClaims) error {
	*c = plainClaims{}
	c.Iss, _ = t.Issuer()
	c.Sub, _ = t.Subject()
	if aud, ok := t.Audience(); ok && len(aud) == 1 {
		c.Aud = aud[0]
	}
	if e, ok := t.Expiration(); ok {
		c.Exp = e.Unix()
	}
	if i, ok := t.IssuedAt(); ok {
		c.Iat = i.Unix()
	}
	c.Jti, _ = t.JwtID()
	if err := t.Get("name", &c.Name); err != nil {
		return err
	}
	return t.Get("role", &c.Role)
}

// Keys, made once per test binary.
type keySet struct {
	hs   *jwt.Key
	gate map[jwt.Algorithm]*jwt.Key // signing keys
	pub  map[jwt.Algorithm]crypto.PublicKey
}

var keys = sync.OnceValue(func() *keySet {
	must := func(k *jwt.Key, err error) *jwt.Key {
		if err != nil {
			panic(err)
		}
		return k
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return &keySet{
		hs: must(jwt.NewHMACKey(jwt.HS256, secret)),
		gate: map[jwt.Algorithm]*jwt.Key{
			jwt.EdDSA: must(jwt.NewSigningKey(jwt.EdDSA, edKey)),
			jwt.ES256: must(jwt.NewSigningKey(jwt.ES256, ecKey)),
			jwt.RS256: must(jwt.NewSigningKey(jwt.RS256, rsaKey)),
		},
		pub: map[jwt.Algorithm]crypto.PublicKey{
			jwt.EdDSA: edPub,
			jwt.ES256: &ecKey.PublicKey,
			jwt.RS256: &rsaKey.PublicKey,
		},
	}
})

// signGate signs p (after mut) with jwtgate: the shared tokens.
func signGate(tb testing.TB, k *jwt.Key, mut func(*gateClaims)) string {
	tb.Helper()
	c := gateFrom(want)
	if mut != nil {
		mut(c)
	}
	tok, err := jwt.Sign(k, c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

var (
	errIssuer   = errors.New("wrong issuer")
	errAudience = errors.New("wrong audience")
	errExpired  = errors.New("expired or no exp")
	errMAC      = errors.New("bad MAC")
)

// verifyCase verifies tok into the case's own claims type, with the
// issuer, audience and exp checks the library offers.
type verifyCase struct {
	name string
	// floor cases check no claims; floor-hmac decodes nothing either.
	floor, decodes bool
	setup          func(tb testing.TB, tok string) (run func() error, got func() plainClaims)
}

func gateVerifier(tb testing.TB, k *jwt.Key) *jwt.Verifier {
	tb.Helper()
	if !k.IsSymmetric() {
		k = k.Public()
	}
	v, err := jwt.NewVerifier([]*jwt.Key{k}, jwt.WithClock(clock), jwt.WithIssuer(issuer), jwt.WithAudience(audience))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func gateCase(k func() *jwt.Key) verifyCase {
	return verifyCase{name: "jwtgate", decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		v := gateVerifier(tb, k())
		var c gateClaims
		return func() error {
			c = gateClaims{}
			return v.Verify(tok, &c)
		}, func() plainClaims { return plainOf(&c) }
	}}
}

func golangJWTCase(alg string, key func() any) verifyCase {
	return verifyCase{name: "golangjwt", decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		p := gj.NewParser(
			gj.WithValidMethods([]string{alg}),
			gj.WithIssuer(issuer),
			gj.WithAudience(audience),
			gj.WithExpirationRequired(),
			gj.WithTimeFunc(clock),
		)
		k := key()
		kf := func(*gj.Token) (any, error) { return k, nil }
		var c gjClaims
		return func() error {
			c = gjClaims{}
			_, err := p.ParseWithClaims(tok, &c, kf)
			return err
		}, c.plain
	}}
}

var hsVerifyCases = []verifyCase{
	gateCase(func() *jwt.Key { return keys().hs }),
	{name: "jwtgate-struct", decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		v := gateVerifier(tb, keys().hs)
		var c plainClaims
		return func() error {
			c = plainClaims{}
			return v.Verify(tok, &c)
		}, func() plainClaims { return c }
	}},
	golangJWTCase("HS256", func() any { return secret }),
	{name: "cristalhq", decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		ver, err := cj.NewVerifierHS(cj.HS256, secret)
		if err != nil {
			tb.Fatal(err)
		}
		raw := []byte(tok)
		var c chClaims
		return func() error {
			c = chClaims{}
			if err := cj.ParseClaims(raw, ver, &c); err != nil {
				return err
			}
			if c.ExpiresAt == nil || !c.IsValidAt(clock()) {
				return errExpired
			}
			if !c.IsIssuer(issuer) {
				return errIssuer
			}
			if !c.IsForAudience(audience) {
				return errAudience
			}
			return nil
		}, c.plain
	}},
	{name: "jwx", decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		raw := []byte(tok)
		opts := []xj.ParseOption{
			xj.WithKey(jwa.HS256(), secret),
			xj.WithValidate(true),
			xj.WithIssuer(issuer),
			xj.WithAudience(audience),
			xj.WithRequiredClaim("exp"),
			xj.WithClock(xj.ClockFunc(clock)),
		}
		var c plainClaims
		return func() error {
			t, err := xj.Parse(raw, opts...)
			if err != nil {
				return err
			}
			return jwxPlain(t, &c)
		}, func() plainClaims { return c }
	}},
	{name: "kataras", decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		raw := []byte(tok)
		expected := kj.Expected{Issuer: issuer, Audience: kj.Audience{audience}}
		requireExp := kj.TokenValidatorFunc(func(_ []byte, c kj.Claims, err error) error {
			if err == nil && c.Expiry == 0 {
				err = errExpired
			}
			return err
		})
		var c plainClaims
		return func() error {
			vt, err := kj.Verify(kj.HS256, secret, raw, expected, requireExp)
			if err != nil {
				return err
			}
			c = plainClaims{}
			return vt.Claims(&c)
		}, func() plainClaims { return c }
	}},
	{name: "floor-hmac", floor: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		input := []byte(tok[:strings.LastIndexByte(tok, '.')])
		h := hmac.New(sha256.New, secret)
		var buf [sha256.Size]byte
		return func() error {
			h.Reset()
			h.Write(input)
			h.Sum(buf[:0])
			return nil
		}, func() plainClaims { return plainClaims{} }
	}},
	{name: "floor-full", floor: true, decodes: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		raw := []byte(tok)
		h := hmac.New(sha256.New, secret)
		b64 := base64.RawURLEncoding
		var mac [sha256.Size]byte
		sigBuf := make([]byte, len(raw))
		payBuf := make([]byte, len(raw))
		var c plainClaims
		return func() error {
			d1, d2 := bytes.IndexByte(raw, '.'), bytes.LastIndexByte(raw, '.')
			h.Reset()
			h.Write(raw[:d2])
			sum := h.Sum(mac[:0])
			n, err := b64.Decode(payBuf, raw[d1+1:d2])
			if err != nil {
				return err
			}
			s, err := b64.Decode(sigBuf, raw[d2+1:])
			if err != nil {
				return err
			}
			c = plainClaims{}
			if err := json.Unmarshal(payBuf[:n], &c); err != nil {
				return err
			}
			if !hmac.Equal(sum, sigBuf[:s]) {
				return errMAC
			}
			return nil
		}, func() plainClaims { return c }
	}},
}

// asymVerifyCases: jwtgate, golang-jwt and the bare stdlib call for alg.
func asymVerifyCases(alg jwt.Algorithm) []verifyCase {
	pub := func() any { return keys().pub[alg] }
	floor := verifyCase{name: "floor", floor: true, setup: func(tb testing.TB, tok string) (func() error, func() plainClaims) {
		dot := strings.LastIndexByte(tok, '.')
		input := []byte(tok[:dot])
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		if err != nil {
			tb.Fatal(err)
		}
		none := func() plainClaims { return plainClaims{} }
		switch p := pub().(type) {
		case ed25519.PublicKey:
			return func() error {
				if !ed25519.Verify(p, input, sig) {
					return errMAC
				}
				return nil
			}, none
		case *ecdsa.PublicKey:
			n := len(sig) / 2
			der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
			if err != nil {
				tb.Fatal(err)
			}
			return func() error {
				d := sha256.Sum256(input)
				if !ecdsa.VerifyASN1(p, d[:], der) {
					return errMAC
				}
				return nil
			}, none
		case *rsa.PublicKey:
			return func() error {
				d := sha256.Sum256(input)
				return rsa.VerifyPKCS1v15(p, crypto.SHA256, d[:], sig)
			}, none
		}
		tb.Fatalf("no floor for %s", alg)
		return nil, nil
	}}
	return []verifyCase{
		gateCase(func() *jwt.Key { return keys().gate[alg] }),
		golangJWTCase(string(alg), pub),
		floor,
	}
}

// signCase signs want with the HS256 secret in the library's idiom.
type signCase struct {
	name  string
	setup func(tb testing.TB) (run func() error, token func() string)
}

var hsSignCases = []signCase{
	{"jwtgate", func(tb testing.TB) (func() error, func() string) {
		k, c := keys().hs, gateFrom(want)
		var out string
		return func() (err error) {
			out, err = jwt.Sign(k, c)
			return err
		}, func() string { return out }
	}},
	{"jwtgate-json", func(tb testing.TB) (func() error, func() string) {
		k, c := keys().hs, want
		var out string
		return func() (err error) {
			out, err = jwt.Sign(k, &c)
			return err
		}, func() string { return out }
	}},
	{"golangjwt", func(tb testing.TB) (func() error, func() string) {
		c := gjFrom(want)
		var out string
		return func() (err error) {
			out, err = gj.NewWithClaims(gj.SigningMethodHS256, c).SignedString(secret)
			return err
		}, func() string { return out }
	}},
	{"cristalhq", func(tb testing.TB) (func() error, func() string) {
		signer, err := cj.NewSignerHS(cj.HS256, secret)
		if err != nil {
			tb.Fatal(err)
		}
		bld := cj.NewBuilder(signer)
		c := chFrom(want)
		var out []byte
		return func() error {
			t, err := bld.Build(c)
			if err != nil {
				return err
			}
			out = t.Bytes()
			return nil
		}, func() string { return string(out) }
	}},
	{"jwx", func(tb testing.TB) (func() error, func() string) {
		opt := xj.WithKey(jwa.HS256(), secret)
		var out []byte
		return func() error {
			t, err := jwxBuild(want) // from the claims, as the others do
			if err != nil {
				return err
			}
			out, err = xj.Sign(t, opt)
			return err
		}, func() string { return string(out) }
	}},
	{"jwx-prebuilt", func(tb testing.TB) (func() error, func() string) {
		opt := xj.WithKey(jwa.HS256(), secret)
		t, err := jwxBuild(want)
		if err != nil {
			tb.Fatal(err)
		}
		var out []byte
		return func() (err error) {
			out, err = xj.Sign(t, opt)
			return err
		}, func() string { return string(out) }
	}},
	{"kataras", func(tb testing.TB) (func() error, func() string) {
		c := want
		var out []byte
		return func() (err error) {
			out, err = kj.Sign(kj.HS256, secret, &c)
			return err
		}, func() string { return string(out) }
	}},
}
