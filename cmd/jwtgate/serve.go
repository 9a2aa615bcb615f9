package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/buildinfo"
	"github.com/jwtgate/jwtgate/internal/httpapi"
	"github.com/jwtgate/jwtgate/internal/lograte"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/web"
	"github.com/jwtgate/jwtgate/jwt"
)

// serveConfig holds every setting of `jwtgate serve`. Each comes from a
// flag, else from its JWTGATE_* environment variable, else a default.
type serveConfig struct {
	Addr            string
	Data            string
	DB              string
	DBMaxConns      int
	Issuer          string
	Audience        string
	AccessTTL       time.Duration
	Leeway          time.Duration
	RefreshTTL      time.Duration
	SessionTTL      time.Duration
	KeyFile         string
	VerifyKeyFiles  string
	SecretFile      string
	Alg             string
	AlgSet          bool // --alg or $JWTGATE_ALG given, not the default
	KeyReload       time.Duration
	RevocationPoll  time.Duration
	InsecureCookies bool
	PublicURL       string
	LoginIPEvery    time.Duration
	LoginIPBurst    int
	LoginUserEvery  time.Duration
	LoginUserBurst  int
	LoginNetEvery   time.Duration
	LoginNetBurst   int
	HashConcurrency int
	HashWait        time.Duration
	TrustProxy      bool
	PKCEOptional    bool
	LogFormat       string
	LogLevel        string
	ShutdownTimeout time.Duration
	AuditRetention  time.Duration
	MetricsAddr     string
	RequireMFA      []auth.Role
	MFAKeyFile      string

	now func() time.Time // the clock of tokens and sessions; nil: time.Now (tests set it)
}

// Defaults of serve's flags that other commands' help texts quote.
const (
	defaultKeyReload      = 10 * time.Second
	defaultRevocationPoll = 500 * time.Millisecond
)

// parseServeFlags parses serve's flags over its environment variables
// over their defaults; the flag package's complaints and the usage go to
// out.
func parseServeFlags(args []string, env func(string) string, out io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	f := newCommand("jwtgate serve", "jwtgate serve [flags]", `
Runs the login server. Every flag can also be set with the environment
variable shown; a flag wins over its variable.`, env)
	f.fs.SetOutput(out)
	f.str(&c.Addr, "addr", "JWTGATE_ADDR", "127.0.0.1:8080", "listen address")
	f.str(&c.Data, "data", "JWTGATE_DATA", defaultData, "data folder: SQLite database and generated keys")
	f.secret(&c.DB, "db", "JWTGATE_DB", "", "PostgreSQL URL (postgres://user:pass@host/db) instead of SQLite in the data folder; share it between instances")
	f.int(&c.DBMaxConns, "db-max-conns", "JWTGATE_DB_MAX_CONNS", postgres.DefaultMaxConns, "PostgreSQL connection pool size")
	f.str(&c.Issuer, "issuer", "JWTGATE_ISSUER", auth.DefaultIssuer, "iss claim of issued tokens, required on verification")
	f.str(&c.Audience, "audience", "JWTGATE_AUDIENCE", auth.DefaultAudience, "aud claim of issued tokens, required on verification")
	f.dur(&c.AccessTTL, "access-ttl", "JWTGATE_ACCESS_TTL", auth.DefaultAccessTTL, "access token lifetime")
	f.dur(&c.Leeway, "leeway", "JWTGATE_LEEWAY", auth.DefaultLeeway, "clock-skew leeway when checking exp, nbf, iat")
	f.dur(&c.RefreshTTL, "refresh-ttl", "JWTGATE_REFRESH_TTL", auth.DefaultRefreshTTL, "refresh token lifetime (each refresh makes a new one)")
	f.dur(&c.SessionTTL, "session-ttl", "JWTGATE_SESSION_TTL", auth.DefaultSessionTTL, "absolute session lifetime, however often it is refreshed")
	f.str(&c.Alg, "alg", "JWTGATE_ALG", "HS256", "algorithm of the key generated on first start; with --key-file, the key's algorithm when the key allows several (RS256 or PS256)")
	f.str(&c.KeyFile, "key-file", "JWTGATE_KEY_FILE", "", "signing key: PEM or JWK private key (EdDSA, ES256, RS256, ...) or an oct JWK")
	f.str(&c.VerifyKeyFiles, "verify-key-file", "JWTGATE_VERIFY_KEY_FILE", "", "comma-separated key files that still verify tokens but sign none (old keys after a manual rotation)")
	f.dur(&c.KeyReload, "key-reload", "JWTGATE_KEY_RELOAD", defaultKeyReload, "how often to look for rotated keys (SIGHUP reloads at once)")
	f.dur(&c.RevocationPoll, "revocation-poll", "JWTGATE_REVOCATION_POLL", defaultRevocationPoll, "how often to load revocations made by other instances or the command line")
	f.bool(&c.InsecureCookies, "insecure-cookies", "JWTGATE_INSECURE_COOKIES", false, "cookies without the Secure attribute and __Host- prefixes, for plain http (Safari on localhost, or another address)")
	f.str(&c.PublicURL, "public-url", "JWTGATE_PUBLIC_URL", "", "external base URL (https://auth.example.com) of the OpenID configuration's links (default: an https:// --issuer, else no discovery document)")
	f.str(&c.SecretFile, "secret-file", "JWTGATE_SECRET_FILE", "", "HS256 secret from a file (e.g. a secret manager's mount); $JWTGATE_SECRET gives it directly")
	f.dur(&c.LoginIPEvery, "login-ip-every", "JWTGATE_LOGIN_IP_EVERY", 6*time.Second, "login attempts per client IP (IPv6: /64): one more allowed every")
	f.int(&c.LoginIPBurst, "login-ip-burst", "JWTGATE_LOGIN_IP_BURST", 20, "login attempts per client IP (IPv6: /64) allowed at once (0 disables)")
	f.dur(&c.LoginNetEvery, "login-user-net-every", "JWTGATE_LOGIN_USER_NET_EVERY", 12*time.Second, "failed logins per username from one client network (IPv4 /24, IPv6 /64): one more allowed every")
	f.int(&c.LoginNetBurst, "login-user-net-burst", "JWTGATE_LOGIN_USER_NET_BURST", 10, "failed logins per username from one client network allowed at once (0 disables)")
	f.dur(&c.LoginUserEvery, "login-user-every", "JWTGATE_LOGIN_USER_EVERY", 2*time.Second, "failed logins per username from all networks it has not logged in from lately: one more allowed every")
	f.int(&c.LoginUserBurst, "login-user-burst", "JWTGATE_LOGIN_USER_BURST", 100, "failed logins per username from all such networks allowed at once (0 disables)")
	f.int(&c.HashConcurrency, "hash-concurrency", "JWTGATE_HASH_CONCURRENCY", runtime.NumCPU(), "password hashes computed at once (each takes 19 MiB)")
	f.dur(&c.HashWait, "hash-wait", "JWTGATE_HASH_WAIT", 2*time.Second, "how long a login waits for a hashing slot before 503")
	f.bool(&c.TrustProxy, "trust-proxy", "JWTGATE_TRUST_PROXY", false, "take the client IP from X-Forwarded-For (only behind a proxy you run)")
	f.bool(&c.PKCEOptional, "oidc-pkce-optional", "JWTGATE_OIDC_PKCE_OPTIONAL", false, "let confidential OpenID clients leave PKCE out (public clients always need it; RFC 9700 advises it for all)")
	f.str(&c.LogFormat, "log-format", "JWTGATE_LOG_FORMAT", "text", "log format: text or json")
	f.str(&c.LogLevel, "log-level", "JWTGATE_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	f.str(&c.MetricsAddr, "metrics-addr", "JWTGATE_METRICS_ADDR", "", "listen address of GET /metrics (Prometheus), e.g. 127.0.0.1:9090; never served on --addr (default: off)")
	f.dur(&c.ShutdownTimeout, "shutdown-timeout", "JWTGATE_SHUTDOWN_TIMEOUT", 15*time.Second, "how long SIGTERM waits for in-flight requests before closing their connections")
	f.dur(&c.AuditRetention, "audit-retention", "JWTGATE_AUDIT_RETENTION", auth.DefaultAuditRetention, "how long audit events are kept (0 keeps them forever)")
	var requireMFA string
	f.str(&requireMFA, "require-mfa", "JWTGATE_REQUIRE_MFA", "", "comma-separated roles whose users need a second factor: until they have one, a login only lets them enrol one")
	f.str(&c.MFAKeyFile, "mfa-key-file", "JWTGATE_MFA_KEY_FILE", "", "key that encrypts TOTP secrets, kept out of the database (default with SQLite: mfa.key in the data folder, made on first start; PostgreSQL needs it for TOTP)")
	pos, err := f.parseArgs(args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, fmt.Errorf("unexpected argument %q", pos[0])
	}
	for _, r := range strings.Split(requireMFA, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		role, err := auth.ParseRole(r)
		if err != nil {
			return nil, fmt.Errorf("--require-mfa: %w", err)
		}
		c.RequireMFA = append(c.RequireMFA, role)
	}
	if c.AccessTTL <= 0 || c.Leeway < 0 {
		return nil, errors.New("--access-ttl must be positive and --leeway not negative")
	}
	if c.RefreshTTL <= 0 || c.SessionTTL <= 0 || c.KeyReload <= 0 || c.RevocationPoll <= 0 {
		return nil, errors.New("--refresh-ttl, --session-ttl, --key-reload and --revocation-poll must be positive")
	}
	if c.AuditRetention < 0 {
		return nil, errors.New("--audit-retention must not be negative")
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		return nil, err
	}
	if !jwt.Algorithm(c.Alg).Valid() {
		return nil, fmt.Errorf("--alg: unknown algorithm %q (want one of %s)", c.Alg, algList())
	}
	c.AlgSet = f.set("alg")
	return c, nil
}

// checkPublicURL accepts "" or an absolute http(s) URL with a host and
// nothing after the path: the discovery document's links are built on it.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("--public-url %q: want an absolute URL such as https://auth.example.com", s)
	}
	return nil
}

func cmdServe(args []string, env func(string) string, stdout, stderr io.Writer) int {
	var out bytes.Buffer
	c, err := parseServeFlags(args, env, &out)
	if err != nil {
		return usageExit("jwtgate serve", out.Bytes(), err, stdout, stderr)
	}
	log, err := newLogger(c.LogFormat, c.LogLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "jwtgate serve:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	defer flushLog(log)
	if err := serve(ctx, c, env, log, nil); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format must be text or json")
	}
	// A failure that repeats on every request (the database is down or
	// full) is written once per interval with a count, not once a request.
	return slog.New(lograte.New(h, lograte.Options{Every: logRepeatEvery})), nil
}

// logRepeatEvery is how often a repeated warning or error is written.
const logRepeatEvery = 10 * time.Second

// flushLog writes the counts of repeated records still held back.
func flushLog(log *slog.Logger) {
	if h, ok := log.Handler().(*lograte.Handler); ok {
		h.Flush()
	}
}

// serve runs the server until ctx is done, then shuts down gracefully:
// in-flight requests finish (up to ShutdownTimeout) and the database is
// closed cleanly. ready, if not nil, receives the bound address.
func serve(ctx context.Context, c *serveConfig, env func(string) string, log *slog.Logger, ready chan<- string) error {
	st := c.storage()
	st.warn = func(msg string) { log.Warn(msg) }
	db, err := st.open(ctx, true)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing database", "err", err)
		}
	}()
	keys, err := newKeyring(ctx, c, env, db, log)
	if err != nil {
		return err
	}
	ks, err := keys.load(ctx, c.timeNow())
	if err != nil {
		return err
	}
	if keys.source == "database" && c.AlgSet && string(ks.Signing.Algorithm()) != c.Alg {
		// --alg only chooses the first key; an existing key set is
		// changed by rotation, never silently by a flag.
		log.Warn("--alg applies to the first start only: the key set already has an active key; switch with: jwtgate key rotate --alg "+c.Alg+" "+st.flag(),
			"active_alg", ks.Signing.Algorithm(), "alg_flag", c.Alg)
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{SigningKey: ks.Signing, VerifyKeys: ks.Verify, Issuer: c.Issuer, OIDCIssuer: httpapi.OIDCIssuer(c.PublicURL), Audience: c.Audience, TTL: c.AccessTTL, Leeway: c.Leeway, Now: c.now})
	if err != nil {
		return err
	}
	svc := &auth.Service{
		Store:        db,
		Hasher:       auth.NewHasher(auth.DefaultArgon2, c.HashConcurrency, c.HashWait),
		Tokens:       tokens,
		IPLimit:      &auth.Limiter{Every: c.LoginIPEvery, Burst: c.LoginIPBurst, Now: c.now},
		UserNetLimit: &auth.Limiter{Every: c.LoginNetEvery, Burst: c.LoginNetBurst, Now: c.now},
		UserLimit:    &auth.Limiter{Every: c.LoginUserEvery, Burst: c.LoginUserBurst, Now: c.now},
		RefreshTTL:   c.RefreshTTL,
		SessionTTL:   c.SessionTTL,
		Now:          c.now,
		PKCEOptional: c.PKCEOptional,
		Log:          log,
		Audit:        &auth.StoreAudit{Store: db, Log: log},
		RequireMFA:   c.RequireMFA,
	}
	if svc.MFAKey, err = c.mfaKey(log); err != nil {
		return err
	}
	shareLoginLimits(svc, c, db)
	// Record how long this server's tokens live, so that `jwtgate user`,
	// `jwtgate key rotate` and the other instances, which cannot see our
	// flags, revoke and retire keys for long enough.
	if err := svc.RecordTokenLifetime(ctx); err != nil {
		return err
	}
	if err := svc.SyncRevocations(ctx); err != nil {
		return fmt.Errorf("loading revocations: %w", err)
	}
	bi := buildinfo.Get()
	var obs httpapi.Metrics
	if c.MetricsAddr != "" {
		m := newMetrics(svc, db, ks, keys, bi, c)
		stopMetrics, err := serveMetrics(c.MetricsAddr, m, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
		obs = m
	}
	var passkeys httpapi.Passkeys
	switch rp, err := passkey.New(svc, c.PublicURL, "jwtgate"); {
	case errors.Is(err, passkey.ErrDisabled):
		log.Info(err.Error())
	case err != nil:
		return err
	default:
		svc.WebAuthn, passkeys = rp, rp
	}
	handler := httpapi.New(httpapi.Config{Service: svc, Log: log, TrustProxyHeaders: c.TrustProxy,
		InsecureCookies: c.InsecureCookies, PublicURL: c.PublicURL, UI: web.Handler(), Metrics: obs, SetupHint: st.setupHint(),
		Passkeys: passkeys})
	bg, stopBG := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	revSync, listenDone := listenRevocations(bg, db, log)
	go func() {
		defer close(bgDone)
		background(bg, c, svc, keys, ks, revSync, log)
		<-listenDone
	}()
	defer func() { stopBG(); <-bgDone }()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	var active inflight
	srv := &http.Server{
		Handler:           active.wrap(handler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("jwtgate listening", "version", bi.Version, "revision", bi.ShortRevision(), "addr", "http://"+ln.Addr().String(), "storage", st.where(), "alg", ks.Signing.Algorithm(), "kid", ks.Signing.KeyID(), "key_source", keys.source)
	if httpapi.DiscoveryBaseURL(c.PublicURL, c.Issuer) == "" {
		// The links of the discovery document are never taken from a
		// request's Host header, which any client chooses.
		lv := slog.LevelInfo
		if !ks.Signing.IsSymmetric() {
			lv = slog.LevelWarn
		}
		log.Log(ctx, lv, "no --public-url and the issuer is not an https:// URL: /.well-known/openid-configuration answers 404 until the server is started with --public-url https://HOST")
	}
	if c.PublicURL != "" && ks.Signing.IsSymmetric() {
		log.Warn("not an OpenID provider: rotate to EdDSA/ES256/RS256 with `jwtgate key rotate --alg EdDSA`", "alg", ks.Signing.Algorithm())
	}
	if n, err := db.CountUsers(ctx); err == nil && n == 0 {
		log.Warn("no users yet; add an admin with: " + st.setupHint())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", c.ShutdownTimeout)
	if err := shutdown(srv, &active, c.ShutdownTimeout, log); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}

// configuredKey reads the signing key the configuration names: --key-file,
// else an HS256 secret from --secret-file or $JWTGATE_SECRET. It returns
// a nil key when none is configured: the server then manages its keys in
// the database.
func configuredKey(c *serveConfig, env func(string) string) (*jwt.Key, string, error) {
	var key *jwt.Key
	var source string
	switch {
	case c.KeyFile != "":
		var alg jwt.Algorithm
		if c.AlgSet { // an RSA key can be RS256 or PS256: say which, or the key decides
			alg = jwt.Algorithm(c.Alg)
		}
		k, err := readKeyFile(c.KeyFile, alg, false)
		if err != nil {
			return nil, "", fmt.Errorf("--key-file: %w", err)
		}
		if !k.CanSign() {
			return nil, "", fmt.Errorf("--key-file %s holds a public key; the server needs the private key", c.KeyFile)
		}
		key, source = k, "key file"
	case c.SecretFile != "":
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, "", fmt.Errorf("--secret-file: %w", err)
		}
		k, err := jwt.NewHMACKey(jwt.HS256, trimNewline(b))
		if err != nil {
			return nil, "", fmt.Errorf("--secret-file: %w", err)
		}
		key, source = k, "secret file"
	case env("JWTGATE_SECRET") != "":
		k, err := jwt.NewHMACKey(jwt.HS256, []byte(env("JWTGATE_SECRET")))
		if err != nil {
			return nil, "", fmt.Errorf("$JWTGATE_SECRET: %w", err)
		}
		key, source = k, "environment"
	default:
		return nil, "", nil
	}
	if key.KeyID() == "" {
		tp, err := key.Thumbprint()
		if err != nil {
			return nil, "", err
		}
		key = key.WithKeyID(tp)
	}
	return key, source, nil
}

// dataFolderSecret reads the generated HS256 key, or makes one (256
// random bits, file mode 0600) on first start.
func dataFolderSecret(path string) (*jwt.Key, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := jwt.ParseJWK(b)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	k, err := jwt.NewHMACKey(jwt.HS256, secret)
	if err != nil {
		return nil, false, err
	}
	tp, err := k.Thumbprint()
	if err != nil {
		return nil, false, err
	}
	k = k.WithKeyID(tp)
	data, err := k.MarshalPrivateJWK()
	if err != nil {
		return nil, false, err
	}
	// Write a private temporary file, then link it into place: a second
	// server starting at the same moment either wins or reads ours whole.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hs256-*.tmp")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		return nil, false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return dataFolderSecret(path)
	} else if err != nil {
		return nil, false, err
	}
	return k, true, nil
}
