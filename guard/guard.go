package guard

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// Defaults for the zero values of Config. DefaultIssuer, DefaultAudience
// and DefaultLeeway are the jwtgate server's own defaults, so that a zero
// Config accepts what a server started without flags issues.
const (
	DefaultIssuer             = "jwtgate"
	DefaultAudience           = "jwtgate"
	DefaultLeeway             = 30 * time.Second
	DefaultRefreshInterval    = 5 * time.Minute
	DefaultMinRefreshInterval = 10 * time.Second
	DefaultMaxJWKSBytes       = 1 << 20
	DefaultFetchTimeout       = 10 * time.Second
	// jwtgate's access-token cookie: DefaultSecureCookie on a server with
	// Secure cookies, DefaultCookie with --insecure-cookies. A zero
	// Config.Cookie reads both, in that order.
	DefaultSecureCookie = "__Host-access_token"
	DefaultCookie       = "access_token"
	// The CSRF cookie that goes with each.
	secureCSRFCookie = "__Host-csrf_token"
	csrfCookie       = "csrf_token"
	csrfHeader       = "X-CSRF-Token"
)

// Config says where the keys come from and what a token must carry.
// Exactly one of JWKSURL and Keys must be set.
type Config struct {
	// JWKSURL is the jwtgate server's key set,
	// https://<server>/.well-known/jwks.json.
	JWKSURL string
	// Keys verify tokens instead of a JWKS: public keys, or the shared
	// HS256 secret (jwt.NewHMACKey). Several keys need distinct key ids.
	Keys []*jwt.Key

	// Issuer and Audience are the iss and aud a token must carry; they
	// default to jwtgate's own defaults, "jwtgate" and "jwtgate".
	Issuer   string
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30 s;
	// negative means none).
	Leeway time.Duration

	// Client fetches the JWKS (default: a client with a 10 s timeout).
	Client *http.Client
	// RefreshInterval is how long a fetched JWKS is used before it is
	// read again (default 5 min).
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches, however
	// many unknown key ids arrive (default 10 s).
	MinRefreshInterval time.Duration
	// MaxJWKSBytes limits the JWKS document (default 1 MiB).
	MaxJWKSBytes int64

	// Cookie is the name of the cookie read when there is no
	// Authorization header; "-" reads no cookie. By default
	// "__Host-access_token" is read, else "access_token". A request
	// authenticated by a __Host- cookie must repeat "__Host-csrf_token" in
	// its CSRF header, any other cookie "csrf_token".
	Cookie string

	// Log receives JWKS fetch failures (default slog.Default()).
	Log *slog.Logger
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Guard verifies jwtgate access tokens. It is safe for concurrent use.
type Guard struct {
	cfg    Config
	opts   []jwt.Option
	fixed  *jwt.Verifier // Config.Keys
	remote *jwksSource   // Config.JWKSURL
}

// New checks cfg and returns a Guard. With a JWKSURL nothing is fetched
// yet: the first request does it, so a service can start before jwtgate.
func New(cfg Config) (*Guard, error) {
	if (cfg.JWKSURL == "") == (len(cfg.Keys) == 0) {
		return nil, errors.New("guard: set exactly one of Config.JWKSURL and Config.Keys")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: DefaultFetchTimeout}
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if cfg.MaxJWKSBytes <= 0 {
		cfg.MaxJWKSBytes = DefaultMaxJWKSBytes
	}
	g := &Guard{cfg: cfg, opts: []jwt.Option{
		jwt.WithIssuer(cfg.Issuer), jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway), jwt.WithClock(cfg.Now),
	}}
	if len(cfg.Keys) > 0 {
		v, err := jwt.NewVerifier(cfg.Keys, g.opts...)
		if err != nil {
			return nil, fmt.Errorf("guard: %w", err)
		}
		g.fixed = v
		return g, nil
	}
	src, err := newJWKSSource(&g.cfg, g.opts)
	if err != nil {
		return nil, err
	}
	g.remote = src
	return g, nil
}

// ErrNoKeys means the JWKS could not be loaded and no earlier copy is at
// hand; requests get 503.
var ErrNoKeys = errors.New("guard: no verification keys")

// Verify checks a token and returns its claims. Errors wrap the jwt
// package's sentinels (jwt.ErrExpired, jwt.ErrSignature, ...) or ErrNoKeys.
func (g *Guard) Verify(ctx context.Context, token string) (*Claims, error) {
	c := new(Claims)
	if g.fixed != nil {
		if err := g.fixed.Verify(token, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	v, err := g.remote.verifier(ctx)
	if err != nil {
		return nil, err
	}
	err = v.Verify(token, c)
	if errors.Is(err, jwt.ErrKeyNotFound) {
		// A key id the set does not hold: perhaps the server rotated.
		// The source re-fetches at most once per MinRefreshInterval.
		if nv, ok := g.remote.refreshFor(ctx, v); ok {
			*c = Claims{}
			err = nv.Verify(token, c)
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Require admits requests with a valid token of any role.
func (g *Guard) Require(next http.Handler) http.Handler {
	return g.handler("", next)
}

// RequireRole admits requests whose token has role or a higher one
// (admin > editor > reader). It panics on an unknown role: that is a
// programming error, found at start-up rather than by a refused request.
func (g *Guard) RequireRole(role string, next http.Handler) http.Handler {
	if rank(role) == 0 {
		panic(fmt.Sprintf("guard: unknown role %q (want admin, editor or reader)", role))
	}
	return g.handler(role, next)
}

// RequireMFA admits requests whose token's login used a second factor
// (acr "urn:jwtgate:mfa"); others get 403 with code mfa_required. Inside
// Require or RequireRole it checks their token; alone it verifies one
// itself, admitting any role: g.RequireRole("admin", g.RequireMFA(h)).
func (g *Guard) RequireMFA(next http.Handler) http.Handler {
	return g.requireLogin(func(c *Claims) bool { return c.ACR == ACRMFA }, next)
}

// RequireAMR admits requests whose token's amr has every one of methods
// (RFC 8176 values: "otp" for a TOTP code, "hwk" or "swk" for a passkey
// or security key), as RequireMFA does. It panics without methods.
func (g *Guard) RequireAMR(next http.Handler, methods ...string) http.Handler {
	if len(methods) == 0 {
		panic("guard: RequireAMR needs at least one method")
	}
	methods = append([]string(nil), methods...)
	return g.requireLogin(func(c *Claims) bool { return c.HasAMR(methods...) }, next)
}

const detailEnroll = "your role requires a second factor: set one up on jwtgate's Security page and log in again"

const detailMFA = "this operation needs a login with a second factor; log in again with it"

func (g *Guard) requireLogin(ok func(*Claims) bool, next http.Handler) http.Handler {
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFrom(r.Context())
		if !ok(c) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate", error="insufficient_user_authentication", error_description="a second factor is required"`)
			writeProblem(w, http.StatusForbidden, "mfa_required", detailMFA)
			return
		}
		next.ServeHTTP(w, r)
	})
	verified := g.handler("", check)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := ClaimsFrom(r.Context()); ok {
			check(w, r)
			return
		}
		verified.ServeHTTP(w, r)
	})
}

func (g *Guard) handler(role string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, csrfName, present, ok := g.credentials(r)
		if !present {
			w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate"`)
			writeProblem(w, http.StatusUnauthorized, "token_missing", detailMissing)
			return
		}
		if !ok {
			unauthorized(w, "token_invalid", detailMalformed)
			return
		}
		c, err := g.Verify(r.Context(), token)
		if errors.Is(err, ErrNoKeys) {
			// The next fetch is at most MinRefreshInterval away.
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(g.cfg.MinRefreshInterval.Seconds()))))
			writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the keys that verify tokens cannot be loaded; try again later")
			return
		}
		if err != nil {
			code, detail := tokenFailure(err)
			unauthorized(w, code, detail)
			return
		}
		if csrfName != "" && changesState(r.Method) && !csrfOK(r, csrfName) {
			writeProblem(w, http.StatusForbidden, "csrf_failed", detailCSRF)
			return
		}
		if c.MFAEnroll {
			// A user whose role requires a second factor, logged in
			// only to enrol one: jwtgate refuses it everywhere else too.
			writeProblem(w, http.StatusForbidden, "mfa_enrollment_required", detailEnroll)
			return
		}
		if role != "" && rank(c.Role) < rank(role) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate", error="insufficient_scope", error_description="the role of the token does not allow this operation"`)
			writeProblem(w, http.StatusForbidden, "forbidden", "this operation needs the "+role+" role or higher")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// credentials finds the token as jwtgate's httpapi does (findCredentials,
// bearerToken, csrfOK there), so that a request gets the same answer here
// and on jwtgate: the Authorization header first, else the cookie. An
// empty header or another scheme (Basic, ...) is no Bearer token at all,
// not a bad one; present && !ok is a malformed Bearer header. csrfName is
// the CSRF cookie that must match a cookie token ("" for a header).
func (g *Guard) credentials(r *http.Request) (token, csrfName string, present, ok bool) {
	if token, present, ok = bearerToken(r.Header); present {
		return token, "", true, ok
	}
	names := []string{g.cfg.Cookie}
	switch g.cfg.Cookie {
	case "-":
		return "", "", false, false
	case "":
		names = []string{DefaultSecureCookie, DefaultCookie}
	}
	for _, name := range names {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			if strings.HasPrefix(name, "__Host-") {
				return c.Value, secureCSRFCookie, true, true
			}
			return c.Value, csrfCookie, true, true
		}
	}
	return "", "", false, false
}

// bearerToken parses "Authorization: Bearer <token>": scheme
// case-insensitive, one space, one token, one header.
func bearerToken(h http.Header) (token string, present, ok bool) {
	v := h["Authorization"]
	if len(v) == 0 || (len(v) == 1 && v[0] == "") {
		return "", false, false
	}
	if len(v) > 1 {
		return "", true, false
	}
	a := v[0]
	scheme, sp := a, strings.IndexAny(a, " \t")
	if sp >= 0 {
		scheme = a[:sp]
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, false
	}
	if sp < 0 || a[sp] != ' ' {
		return "", true, false
	}
	token = a[sp+1:]
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", true, false
	}
	return token, true, true
}

// changesState lists the methods jwtgate exempts from the CSRF check;
// TRACE is not one of them there, so it is not here.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// csrfOK is the double-submit check: exactly one X-CSRF-Token header (as
// jwtgate requires), equal to the cookie called name, compared in
// constant time.
func csrfOK(r *http.Request, name string) bool {
	c, err := r.Cookie(name)
	h := r.Header.Values(csrfHeader)
	return err == nil && c.Value != "" && len(h) == 1 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(h[0])) == 1
}

func rank(role string) int {
	switch role {
	case "admin":
		return 3
	case "editor":
		return 2
	case "reader":
		return 1
	}
	return 0
}

// The details of refused requests, worded as jwtgate's server words them
// for the same code (a test in its httpapi package compares the two).
const (
	detailMissing     = "send the access token from POST /login in an Authorization: Bearer header"
	detailMalformed   = "the access token is malformed"
	detailExpired     = "the access token has expired; refresh it or log in again"
	detailNotYetValid = "the access token is not valid yet"
	detailForeign     = "the access token was issued for another service"
	detailSignature   = "the access token signature cannot be verified"
	detailCSRF        = "a request authenticated by cookie must send the csrf_token cookie's value in an X-CSRF-Token header"
)

// tokenFailure classifies a Verify error as jwtgate's server does.
func tokenFailure(err error) (code, detail string) {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "token_expired", detailExpired
	case errors.Is(err, jwt.ErrNotYetValid), errors.Is(err, jwt.ErrIssuedInFuture):
		return "token_invalid", detailNotYetValid
	case errors.Is(err, jwt.ErrIssuer), errors.Is(err, jwt.ErrAudience):
		return "token_invalid", detailForeign
	case errors.Is(err, jwt.ErrSignature), errors.Is(err, jwt.ErrKeyNotFound),
		errors.Is(err, jwt.ErrAlgorithmMismatch), errors.Is(err, jwt.ErrUnsupportedAlgorithm):
		return "token_invalid", detailSignature
	}
	return "token_invalid", detailMalformed
}

func unauthorized(w http.ResponseWriter, code, detail string) {
	// detail is one of a few fixed texts: nothing from the token is echoed.
	w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate", error="invalid_token", error_description="`+detail+`"`)
	writeProblem(w, http.StatusUnauthorized, code, detail)
}

var titles = map[string]string{
	"token_missing": "Access token missing",
	"token_invalid": "Access token invalid",
	"token_expired": "Access token expired",
	"forbidden":     "Forbidden",
	"csrf_failed":   "CSRF check failed",
	"unavailable":   "Service unavailable",

	"mfa_enrollment_required": "Second factor enrolment required",
	"mfa_required":            "Second factor required",
}

// problem is an RFC 9457 problem document, as jwtgate writes it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // nosniff JSON: <, > and & need no escapes
	enc.Encode(problem{Type: "urn:jwtgate:problem:" + code, Title: titles[code], Status: status, Detail: detail, Code: code})
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

type claimsKey struct{}

// ClaimsFrom returns the claims that Require or RequireRole put in the
// request's context.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}
