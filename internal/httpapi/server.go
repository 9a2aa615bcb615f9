// Package httpapi is jwtgate's HTTP interface: login, the posts and users
// APIs and health checks, over an auth.Service. It speaks JSON, reports
// every error as an RFC 9457 problem with a stable code (see the code
// constants in problem.go and openapi.yaml), and is described by the
// OpenAPI document served at GET /openapi.yaml.
//
// Every response carries X-Request-Id (a sane incoming one is kept),
// X-Content-Type-Options: nosniff, Cache-Control: no-store and
// Referrer-Policy: no-referrer. Each request is logged once, with method,
// path (never the query), status, duration, request id and client IP;
// never headers, bodies, passwords or tokens.
package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Config configures the HTTP API.
type Config struct {
	// Service issues the tokens; its Tokens also verify them and give the
	// issuer of the discovery document, so both always agree.
	Service *auth.Service
	Log     *slog.Logger // defaults to slog.Default()

	// TrustProxyHeaders takes the client IP (for login rate limits and
	// logs) from the last X-Forwarded-For entry, the one appended by the
	// reverse proxy in front of the server. Enable it only behind exactly
	// one proxy that appends to X-Forwarded-For; otherwise any client can
	// claim any address. By default r.RemoteAddr is used.
	TrustProxyHeaders bool

	// InsecureCookies drops the Secure attribute from cookies, and with it
	// their __Host- and __Secure- name prefixes, for a server reached over
	// plain http:// during development (see CookieAccess).
	InsecureCookies bool

	// SetupHint is the command that creates the first admin of this
	// server's store, shown by GET /setup-status while there is no user.
	// It must not carry secrets (a database URL's password).
	SetupHint string

	// PublicURL is the server's external base URL (https://auth.example),
	// used in the OpenID configuration document. By default the issuer is
	// used if it is an https:// URL; without either the document answers
	// 404 (see DiscoveryBaseURL). Its origin is also trusted by the
	// cross-origin check, for browsers that send Origin but not
	// Sec-Fetch-Site through a proxy that rewrites Host.
	PublicURL string

	// UI, if set, serves the browser pages: GET /, /inspect, /admin, /security and
	// the assets under /ui/. It sets its own Content-Security-Policy.
	UI http.Handler

	// TokenIPLimit and TokenClientLimit limit calls to the OAuth token,
	// revocation and introspection endpoints per client address and per
	// client id (defaults: DefaultTokenIPLimit, DefaultTokenClientLimit).
	TokenIPLimit, TokenClientLimit *auth.Limiter

	// MaxBodyBytes limits request bodies (default 64 KiB); larger ones
	// get 413 body_too_large.
	MaxBodyBytes int64
	// Passkeys, if set, serves passkey registration and passwordless
	// sign-in (/me/passkeys/register/..., /login/passkey/...); without it
	// those answer 404 passkeys_disabled.
	Passkeys Passkeys
	// Metrics, if set, is told of every request, login, refresh and
	// failure (internal/metrics exports them to Prometheus).
	Metrics Metrics
}

// Metrics receives what the API observes. Its methods are called on the
// request path: they must be cheap and safe for concurrent use.
type Metrics interface {
	// Request is called once per request, after the response, with the
	// ServeMux pattern that matched ("" for none), the status sent (0 if
	// the response was aborted) and the time taken.
	Request(pattern string, status int, d time.Duration)
	// Login is called with what auth.Service.Login returned (nil: the
	// password was right), for every login that reached the Service.
	Login(err error)
	// Refresh is called with the error of auth.Service.Refresh (nil: the
	// token was rotated).
	Refresh(err error)
	// Failed is called with every error of the Service or its Store that
	// the API turns into a problem.
	Failed(err error)
}

// noMetrics is the Metrics of a server configured without any.
type noMetrics struct{}

func (noMetrics) Request(string, int, time.Duration) {}
func (noMetrics) Login(error)                        {}
func (noMetrics) Refresh(error)                      {}
func (noMetrics) Failed(error)                       {}

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// Default budgets of the OAuth token endpoints: a burst, then one call
// per interval. A client's whole fleet shares the per-client budget.
func DefaultTokenIPLimit() *auth.Limiter     { return auth.NewLimiter(200*time.Millisecond, 60) }
func DefaultTokenClientLimit() *auth.Limiter { return auth.NewLimiter(10*time.Millisecond, 500) }

type server struct {
	svc        *auth.Service
	tokens     *auth.Tokens
	log        *slog.Logger
	trustProxy bool
	maxBody    int64
	metrics    Metrics
	passkeys   Passkeys

	tokenIPLimit     *auth.Limiter
	tokenClientLimit *auth.Limiter

	insecureCookies bool
	cookies         cookieNames
	setupHint       string
	usersExist      atomic.Bool // a user was seen: /setup-status has nothing to say
	publicURL       string
	oidcBase        string // oidcBaseURL(Config.PublicURL): see oidcIssuer
	mux             *http.ServeMux
	crossOrigin     *http.CrossOriginProtection
}

// route is one registered pattern. role is the least role the route
// needs: "" for public routes, auth.RoleReader for any valid token.
type route struct {
	pattern string
	role    auth.Role
	handler http.HandlerFunc
}

func (s *server) routes() []route {
	return []route{
		{"GET /healthz", "", s.healthz},
		{"GET /readyz", "", s.readyz},
		{"GET /openapi.yaml", "", s.openapi},
		{"POST /login", "", s.login},
		{"POST /login/mfa", "", s.loginMFA},
		{"POST /refresh", "", s.refresh},
		{"POST /logout", "", s.logout},      // an access token, or a refresh token in the body: checked by logout
		{"/auth/verify", "", s.forwardAuth}, // any method: proxies may pass the original one
		{"GET /.well-known/jwks.json", "", s.jwks},
		{"GET /.well-known/openid-configuration", "", s.openidConfiguration},
		{"GET /.well-known/oauth-authorization-server", "", s.oidcRoute(s.authorizationServerMetadata)},
		{"GET /oauth2/authorize", "", s.oidcRoute(noHEAD(s.authorize))},
		{"POST /oauth2/authorize", "", s.oidcRoute(s.authorize)},
		{"POST /oauth2/token", "", s.oidcRoute(s.token)},
		{"GET /oauth2/userinfo", "", s.oidcRoute(s.userinfo)},
		{"POST /oauth2/userinfo", "", s.oidcRoute(s.userinfo)},
		{"GET /oauth2/logout", "", s.oidcRoute(noHEAD(s.endSession))},
		{"POST /oauth2/logout", "", s.oidcRoute(s.endSession)},
		{"POST /oauth2/revoke", "", s.oidcRoute(s.revoke)},
		{"POST /oauth2/introspect", "", s.oidcRoute(s.introspect)},
		{"GET /oauth2/client-info", "", s.oidcRoute(s.clientInfo)},
		{"GET /setup-status", "", s.setupStatus},
		{"GET /me", auth.RoleReader, s.me},
		{"GET /login/passkey", "", s.passkeyLogin},
		{"POST /login/passkey/begin", "", s.beginPasskeyLogin},
		{"POST /login/passkey/finish", "", s.finishPasskeyLogin},
		{"GET /me/passkeys", auth.RoleReader, s.listPasskeys},
		{"POST /me/passkeys/register/begin", auth.RoleReader, s.beginPasskeyRegistration},
		{"POST /me/passkeys/register/finish", auth.RoleReader, s.finishPasskeyRegistration},
		{"PATCH /me/passkeys/{id}", auth.RoleReader, s.renamePasskey},
		{"DELETE /me/passkeys/{id}", auth.RoleReader, s.deletePasskey},
		{"POST /me/password", auth.RoleReader, s.changePassword},
		{"GET /me/sessions", auth.RoleReader, s.listSessions},
		{"DELETE /me/sessions", auth.RoleReader, s.endOtherSessions},
		{"DELETE /me/sessions/{id}", auth.RoleReader, s.endOwnSession},
		{"GET /me/mfa", auth.RoleReader, s.mfaStatus},
		{"POST /me/mfa/totp", auth.RoleReader, s.beginTOTP},
		{"POST /me/mfa/totp/confirm", auth.RoleReader, s.confirmTOTP},
		{"DELETE /me/mfa/totp", auth.RoleReader, s.removeTOTP},
		{"POST /me/mfa/recovery", auth.RoleReader, s.regenerateRecovery},
		{"GET /posts", auth.RoleReader, s.listPosts},
		{"POST /posts", auth.RoleEditor, s.createPost},
		{"GET /posts/{id}", auth.RoleReader, s.getPost},
		{"DELETE /posts/{id}", auth.RoleReader, s.deletePost}, // author or admin: checked by auth.Service
		{"POST /users", auth.RoleAdmin, s.createUser},
		{"GET /users", auth.RoleAdmin, s.listUsers},
		{"PATCH /users/{name}", auth.RoleAdmin, s.updateUser},
		{"DELETE /users/{name}", auth.RoleAdmin, s.deleteUser},
		{"POST /users/{name}/password", auth.RoleAdmin, s.resetPassword},
		{"DELETE /users/{name}/sessions", auth.RoleAdmin, s.endUserSessions},
		{"GET /users/{name}/sessions", auth.RoleAdmin, s.listUserSessions},
		{"DELETE /users/{name}/sessions/{id}", auth.RoleAdmin, s.endUserSession},
		{"POST /users/{name}/mfa-reset", auth.RoleAdmin, s.resetUserMFA},
		{"GET /clients", auth.RoleAdmin, s.listClients},
		{"POST /clients", auth.RoleAdmin, s.createClient},
		{"DELETE /clients/{id}", auth.RoleAdmin, s.deleteClient},
		{"POST /clients/{id}/secret", auth.RoleAdmin, s.rotateClientSecret},
		{"GET /audit", auth.RoleAdmin, s.listAudit},
	}
}

// uiPatterns are the paths of the browser UI (Config.UI).
var uiPatterns = []string{"GET /{$}", "GET /inspect", "GET /admin", "GET /security", "GET /ui/"}

// Routes returns the registered patterns ("METHOD /path"), in the form
// net/http.ServeMux takes them. GET routes also answer HEAD; a pattern
// without a method answers every method.
func Routes() []string {
	rs := (&server{}).routes()
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.pattern
	}
	return out
}

// New returns the API handler. It panics if cfg has no Service with a
// Store, a Hasher and Tokens: that is a programming error.
func New(cfg Config) http.Handler {
	if cfg.Service == nil || cfg.Service.Store == nil || cfg.Service.Hasher == nil || cfg.Service.Tokens == nil {
		panic("httpapi: Config needs a Service with a Store, a Hasher and Tokens")
	}
	s := &server{
		svc:        cfg.Service,
		tokens:     cfg.Service.Tokens,
		log:        cfg.Log,
		trustProxy: cfg.TrustProxyHeaders,
		maxBody:    cfg.MaxBodyBytes,
		metrics:    cfg.Metrics,
		passkeys:   cfg.Passkeys,

		insecureCookies: cfg.InsecureCookies,
		cookies:         namesFor(cfg.InsecureCookies),
		setupHint:       cfg.SetupHint,
		publicURL:       DiscoveryBaseURL(cfg.PublicURL, cfg.Service.Tokens.Issuer()),
		oidcBase:        oidcBaseURL(cfg.PublicURL),
		mux:             http.NewServeMux(),
		crossOrigin:     newCrossOriginProtection(cfg.PublicURL),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.tokenIPLimit, s.tokenClientLimit = cfg.TokenIPLimit, cfg.TokenClientLimit
	if s.tokenIPLimit == nil {
		s.tokenIPLimit = DefaultTokenIPLimit()
	}
	if s.tokenClientLimit == nil {
		s.tokenClientLimit = DefaultTokenClientLimit()
	}
	if s.metrics == nil {
		s.metrics = noMetrics{}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if cfg.UI != nil {
		for _, p := range uiPatterns {
			s.mux.Handle(p, cfg.UI)
		}
	}
	for _, rt := range s.routes() {
		h := rt.handler
		if rt.role != "" {
			h = s.authenticate(rt.role, h)
		}
		s.mux.Handle(rt.pattern, h)
	}
	return s
}

// newCrossOriginProtection refuses state-changing requests that a browser
// sends from another origin (Sec-Fetch-Site, else Origin against Host):
// without it a page elsewhere could post the login form with cookie=true
// and log the victim's browser in as the attacker. Clients that send
// neither header (curl, SDKs, proxies) pass. /auth/verify is exempt: it
// changes nothing here, and the origin a proxy forwards to it is the
// protected application's, not jwtgate's. So are the OAuth endpoints
// that applications call with their own credentials, never with cookies
// (a single-page application calls them from its own origin).
func newCrossOriginProtection(publicURL string) *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	for _, p := range crossOriginExempt {
		c.AddInsecureBypassPattern(p)
	}
	if o := originOf(publicURL); o != "" {
		if err := c.AddTrustedOrigin(o); err != nil {
			panic("httpapi: origin of PublicURL: " + err.Error()) // originOf returns a scheme and a host only
		}
	}
	return c
}

// originOf returns the origin of an absolute URL as a browser writes it in
// the Origin header (lower case, no default port), or "".
func originOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host
}
