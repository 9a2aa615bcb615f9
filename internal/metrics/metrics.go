// Package metrics exports jwtgate's metrics in the Prometheus text format,
// from a registry of its own (never the global one): HTTP requests by
// route and status class, logins and refreshes by outcome, store errors by
// kind, the password hashing queue, the revocations held in memory, the
// signing keys, the PostgreSQL connection pool and the build, plus the Go
// runtime and process collectors.
//
// Metrics implements httpapi.Metrics, so that neither httpapi nor auth
// imports Prometheus. Labels take a few fixed values only: route
// patterns, never paths; never usernames, token ids or addresses.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/buildinfo"
)

// PoolStater is a database with a connection pool (postgres.DB).
type PoolStater interface {
	PoolStats() *pgxpool.Stat
}

// Config says what New exports.
type Config struct {
	// Service's Hasher, Tokens (keys, revocations) are read at each
	// scrape; New sets the Hasher's ObserveWait.
	Service *auth.Service
	Pool    PoolStater // nil: no pool metrics (SQLite)
	Build   buildinfo.Info
	Now     func() time.Time // the clock of the key's age; nil: time.Now
}

// Metrics holds the registry and the series that requests update.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// routes maps a route pattern to its series, created on first use and
	// then read without a lock: the request path must stay cheap.
	routes  atomic.Pointer[map[string]*routeSeries]
	routeMu sync.Mutex // serializes additions to routes

	logins      [len(loginOutcomes)]prometheus.Counter
	refreshes   [len(refreshOutcomes)]prometheus.Counter
	storeErrors [len(storeErrorKinds)]prometheus.Counter

	hashWait prometheus.Histogram
	signing  atomic.Pointer[signingKey]
}

// routeSeries are one route's series, one per status class (see class).
type routeSeries struct {
	classes [6]atomic.Pointer[classSeries]
}

type classSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// signingKey is when the key with this kid was made.
type signingKey struct {
	kid     string
	created time.Time
}

var (
	// statusClasses are the status label's values, indexed by status/100;
	// 0 is a response aborted before any status was sent.
	statusClasses = [6]string{"aborted", "1xx", "2xx", "3xx", "4xx", "5xx"}

	loginOutcomes   = [...]string{"success", "bad_credentials", "disabled", "rate_limited", "busy", "invalid", "error"}
	refreshOutcomes = [...]string{"success", "reused", "invalid", "error"}
	storeErrorKinds = [...]string{"unavailable", "conflict", "canceled", "internal"}
)

// unmatched is the route label of requests no route matched (or that
// were refused before routing: httpapi's cross-origin check).
const unmatched = "unmatched"

// Bucket bounds, in seconds. Requests range from microseconds (a token
// check) to a password hash (tens of milliseconds) or a slow database.
var (
	durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	hashWaitBuckets = []float64{0, .001, .01, .05, .1, .25, .5, 1, 2, 5}
)

// New registers every family and returns the Metrics. It panics when cfg
// has no Service with a Hasher and Tokens: that is a programming error.
func New(cfg Config) *Metrics {
	svc := cfg.Service
	if svc == nil || svc.Hasher == nil || svc.Tokens == nil {
		panic("metrics: Config needs a Service with a Hasher and Tokens")
	}
	m := &Metrics{reg: prometheus.NewRegistry(), now: cfg.Now}
	if m.now == nil {
		m.now = time.Now
	}
	m.routes.Store(&map[string]*routeSeries{})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jwtgate_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status class.",
	}, []string{"route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jwtgate_http_request_duration_seconds",
		Help:    "Time from a request's headers to the end of its response, by route pattern and status class.",
		Buckets: durationBuckets,
	}, []string{"route", "status"})
	logins := outcomeCounters(m.logins[:], "jwtgate_logins_total", "outcome", loginOutcomes[:],
		"Logins (POST /login) by outcome: success, bad_credentials, disabled (right password, disabled account), rate_limited, busy (no hashing slot), invalid (fields missing or too long), error.")
	refreshes := outcomeCounters(m.refreshes[:], "jwtgate_refreshes_total", "outcome", refreshOutcomes[:],
		"Refresh token rotations (POST /refresh) by outcome: success, reused (a used token again: its session is revoked), invalid (unknown, expired or revoked), error.")
	storeErrors := outcomeCounters(m.storeErrors[:], "jwtgate_store_errors_total", "kind", storeErrorKinds[:],
		"Errors answered with 409, 500 or 503, by kind: unavailable (the database), conflict, canceled (the request's context), internal.")
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "jwtgate_password_hash_wait_seconds",
		Help:    "Time each password hash or check waited for a hashing slot (those that gave up too).",
		Buckets: hashWaitBuckets,
	})
	svc.Hasher.ObserveWait = func(d time.Duration) { m.hashWait.Observe(d.Seconds()) }
	hasher, tokens := svc.Hasher, svc.Tokens
	m.reg.MustRegister(
		m.requests, m.duration, logins, refreshes, storeErrors, m.hashWait,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "jwtgate_password_hashes_in_flight",
			Help: "Password hashes or checks running.",
		}, func() float64 { return float64(hasher.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "jwtgate_revoked_ids",
			Help: "Revoked token and session ids held in memory until the tokens they refuse expire.",
		}, func() float64 { return float64(tokens.Revocations().Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "jwtgate_verify_keys",
			Help: "Keys access tokens are verified with: the signing key and those retiring.",
		}, func() float64 { return float64(len(tokens.VerifyKeys())) }),
		&keyAge{m: m, tokens: tokens},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "jwtgate_audit_write_failures_total",
			Help: "Audit events that could not be stored (they are still in the log).",
		}, func() float64 { return float64(svc.AuditFailures()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "jwtgate_build_info",
			Help:        "Always 1; the labels say which build runs.",
			ConstLabels: prometheus.Labels{"version": cfg.Build.Version, "revision": cfg.Build.Revision, "goversion": cfg.Build.GoVersion},
		}, func() float64 { return 1 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if cfg.Pool != nil {
		m.reg.MustRegister(&poolCollector{pool: cfg.Pool})
	}
	return m
}

// Handler serves GET /metrics, and 404 on any other path.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	return mux
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// KeysLoaded records when the signing key of ks was made, for the key's
// age; give it every key set the server loads.
func (m *Metrics) KeysLoaded(ks *auth.KeySet) {
	if ks == nil || ks.Signing == nil || ks.SigningCreated.IsZero() {
		return
	}
	m.signing.Store(&signingKey{kid: ks.Signing.KeyID(), created: ks.SigningCreated})
}

// Request counts a request and its duration.
func (m *Metrics) Request(pattern string, status int, d time.Duration) {
	c := status / 100
	if c < 0 || c >= len(statusClasses) {
		c = len(statusClasses) - 1 // 6xx and beyond: not sent by this server
	}
	rs := (*m.routes.Load())[pattern]
	if rs == nil {
		rs = m.route(pattern)
	}
	cs := rs.classes[c].Load()
	if cs == nil {
		cs = m.class(rs, pattern, c)
	}
	cs.count.Inc()
	cs.duration.Observe(d.Seconds())
}

// route returns the series of pattern, adding them to a copy of the map.
func (m *Metrics) route(pattern string) *routeSeries {
	m.routeMu.Lock()
	defer m.routeMu.Unlock()
	old := *m.routes.Load()
	if rs := old[pattern]; rs != nil {
		return rs
	}
	next := make(map[string]*routeSeries, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	rs := &routeSeries{}
	next[pattern] = rs
	m.routes.Store(&next)
	return rs
}

func (m *Metrics) class(rs *routeSeries, pattern string, c int) *classSeries {
	label := pattern
	if label == "" {
		label = unmatched
	}
	cs := &classSeries{
		count:    m.requests.WithLabelValues(label, statusClasses[c]),
		duration: m.duration.WithLabelValues(label, statusClasses[c]),
	}
	if rs.classes[c].CompareAndSwap(nil, cs) {
		return cs
	}
	return rs.classes[c].Load() // the same series: WithLabelValues returns existing ones
}

// Login counts a login by the outcome err tells.
func (m *Metrics) Login(err error) {
	m.logins[loginOutcome(err)].Inc()
}

func loginOutcome(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, auth.ErrAccountDisabled): // before ErrUnauthorized, which it wraps
		return 2
	case errors.Is(err, auth.ErrUnauthorized):
		return 1
	case errors.Is(err, auth.ErrRateLimited):
		return 3
	case errors.Is(err, auth.ErrBusy):
		return 4
	case errors.Is(err, auth.ErrInvalid):
		return 5
	}
	return 6
}

// Refresh counts a refresh by the outcome err tells.
func (m *Metrics) Refresh(err error) {
	m.refreshes[refreshOutcome(err)].Inc()
}

func refreshOutcome(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, auth.ErrRefreshReused): // before ErrRefreshInvalid, which it wraps
		return 1
	case errors.Is(err, auth.ErrRefreshInvalid):
		return 2
	}
	return 3
}

// Failed counts the errors that are the server's or its database's, not
// the client's, as httpapi answers them.
func (m *Metrics) Failed(err error) {
	if k := storeErrorKind(err); k >= 0 {
		m.storeErrors[k].Inc()
	}
}

// storeErrorKind is the index in storeErrorKinds of err, or -1 for an
// answer about the client's request (refused, not found, invalid...).
func storeErrorKind(err error) int {
	for _, e := range clientErrors {
		if errors.Is(err, e) {
			return -1
		}
	}
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		return 0
	case errors.Is(err, auth.ErrConflict):
		return 1
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 2
	}
	return 3
}

// clientErrors are the sentinels httpapi answers with a 4xx about the
// request itself (ErrBusy's 503 is counted by the logins).
var clientErrors = []error{auth.ErrRateLimited, auth.ErrBusy, auth.ErrRefreshInvalid, auth.ErrUnauthorized,
	auth.ErrInvalid, auth.ErrNotFound, auth.ErrForbidden}

// keyAge reports the age of the signing key, when the key set that was
// loaded last says when it was made and Tokens still sign with it.
type keyAge struct {
	m      *Metrics
	tokens *auth.Tokens
}

var keyAgeDesc = prometheus.NewDesc("jwtgate_signing_key_age_seconds",
	"Time since the signing key was made (keys in the database; absent for a key from a file or the environment).", nil, nil)

func (k *keyAge) Describe(ch chan<- *prometheus.Desc) { ch <- keyAgeDesc }

func (k *keyAge) Collect(ch chan<- prometheus.Metric) {
	s := k.m.signing.Load()
	if s == nil || s.kid != k.tokens.SigningKey().KeyID() {
		return
	}
	ch <- prometheus.MustNewConstMetric(keyAgeDesc, prometheus.GaugeValue, k.m.now().Sub(s.created).Seconds())
}

// poolCollector reads the connection pool's state at each scrape.
type poolCollector struct{ pool PoolStater }

var (
	poolConns = prometheus.NewDesc("jwtgate_db_pool_connections",
		"PostgreSQL connections by state: acquired (in use), idle, constructing.", []string{"state"}, nil)
	poolMax = prometheus.NewDesc("jwtgate_db_pool_max_connections",
		"The pool's size (--db-max-conns).", nil, nil)
	poolAcquires = prometheus.NewDesc("jwtgate_db_pool_acquires_total",
		"Connections taken from the pool.", nil, nil)
	poolEmptyAcquires = prometheus.NewDesc("jwtgate_db_pool_empty_acquires_total",
		"Acquires that found no idle connection and waited for one.", nil, nil)
	poolCanceledAcquires = prometheus.NewDesc("jwtgate_db_pool_canceled_acquires_total",
		"Acquires given up because the request's context ended.", nil, nil)
	poolAcquireWait = prometheus.NewDesc("jwtgate_db_pool_acquire_wait_seconds_total",
		"Total time spent acquiring connections.", nil, nil)
)

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcquires, poolEmptyAcquires, poolCanceledAcquires, poolAcquireWait} {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.PoolStats()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolEmptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolCanceledAcquires, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolAcquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

// outcomeCounters makes a counter family with one label whose values are
// all known, and fills dst with its counters in values' order, so that
// counting is an index, not a label lookup.
func outcomeCounters(dst []prometheus.Counter, name, label string, values []string, help string) *prometheus.CounterVec {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	for i, v := range values {
		dst[i] = vec.WithLabelValues(v)
	}
	return vec
}
