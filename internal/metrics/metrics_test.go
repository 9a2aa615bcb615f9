package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/buildinfo"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/jwt"
)

func newService(t testing.TB) *auth.Service {
	t.Helper()
	k, err := jwt.NewHMACKey(jwt.HS256, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{SigningKey: k.WithKeyID("k1"), TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Service{Tokens: tk, Hasher: auth.NewHasher(auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}, 1, time.Second)}
}

// values maps the label values ("|"-joined) of family name's series to
// their values (a histogram's sample count).
func values(t *testing.T, m *metrics.Metrics, name string) map[string]float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		out := map[string]float64{}
		for _, s := range f.Metric {
			var ls []string
			for _, l := range s.Label {
				ls = append(ls, l.GetValue())
			}
			out[strings.Join(ls, "|")] = value(s)
		}
		return out
	}
	return nil
}

func value(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	}
	return -1
}

func TestOutcomes(t *testing.T) {
	m := metrics.New(metrics.Config{Service: newService(t), Build: buildinfo.Get()})
	busy := &auth.RetryError{Err: auth.ErrBusy, After: time.Second}
	for _, err := range []error{
		nil, auth.ErrUnauthorized, auth.ErrAccountDisabled, fmt.Errorf("login: %w", auth.ErrAccountDisabled),
		&auth.RetryError{Err: auth.ErrRateLimited, After: time.Second}, busy,
		fmt.Errorf("%w: username and password are required", auth.ErrInvalid),
		fmt.Errorf("get user: %w", auth.ErrUnavailable), context.Canceled,
	} {
		m.Login(err)
	}
	if got, want := values(t, m, "jwtgate_logins_total"), map[string]float64{
		"success": 1, "bad_credentials": 1, "disabled": 2, "rate_limited": 1, "busy": 1, "invalid": 1, "error": 2,
	}; !maps.Equal(got, want) {
		t.Errorf("logins: got %v, want %v", got, want)
	}
	for _, err := range []error{nil, nil, auth.ErrRefreshInvalid, auth.ErrRefreshReused, fmt.Errorf("x: %w", auth.ErrUnavailable)} {
		m.Refresh(err)
	}
	if got, want := values(t, m, "jwtgate_refreshes_total"), map[string]float64{
		"success": 2, "reused": 1, "invalid": 1, "error": 1,
	}; !maps.Equal(got, want) {
		t.Errorf("refreshes: got %v, want %v", got, want)
	}
	for _, err := range []error{
		fmt.Errorf("ping: %w", auth.ErrUnavailable), auth.ErrUnavailable, fmt.Errorf("user %q %w", "x", auth.ErrConflict),
		context.DeadlineExceeded, errors.New("something unexpected"), auth.ErrStale,
		// answers about the request, not faults: not counted
		auth.ErrNotFound, auth.ErrForbidden, auth.ErrLastAdmin, auth.ErrInvalid, auth.ErrRefreshReused, busy, auth.ErrUnauthorized,
	} {
		m.Failed(err)
	}
	if got, want := values(t, m, "jwtgate_store_errors_total"), map[string]float64{
		"unavailable": 2, "conflict": 1, "canceled": 1, "internal": 2,
	}; !maps.Equal(got, want) {
		t.Errorf("store errors: got %v, want %v", got, want)
	}
}

func TestRequestsByRouteAndClass(t *testing.T) {
	m := metrics.New(metrics.Config{Service: newService(t)})
	for _, r := range []struct {
		pattern string
		status  int
	}{
		{"GET /me", 200}, {"GET /me", 200}, {"GET /me", 401}, {"POST /login", 503},
		{"", 404}, {"", 405}, {"GET /posts/{id}", 0}, {"GET /healthz", 304},
	} {
		m.Request(r.pattern, r.status, time.Millisecond)
	}
	want := map[string]float64{
		"GET /me|2xx": 2, "GET /me|4xx": 1, "POST /login|5xx": 1, "unmatched|4xx": 2,
		"GET /posts/{id}|aborted": 1, "GET /healthz|3xx": 1,
	}
	for _, name := range []string{"jwtgate_http_requests_total", "jwtgate_http_request_duration_seconds"} {
		if got := values(t, m, name); !maps.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestKeyAge(t *testing.T) {
	svc := newService(t)
	now := time.Unix(1_700_000_000, 0)
	m := metrics.New(metrics.Config{Service: svc, Now: func() time.Time { return now }})
	if got := values(t, m, "jwtgate_signing_key_age_seconds"); got != nil {
		t.Fatalf("key age of a key of unknown age: %v", got)
	}
	if got := values(t, m, "jwtgate_verify_keys"); got[""] != 1 {
		t.Fatalf("verify keys: %v, want 1", got)
	}
	m.KeysLoaded(&auth.KeySet{Signing: svc.Tokens.SigningKey(), SigningCreated: now.Add(-90 * time.Second)})
	if got := values(t, m, "jwtgate_signing_key_age_seconds"); got[""] != 90 {
		t.Fatalf("key age: %v, want 90", got)
	}
	other, err := jwt.NewHMACKey(jwt.HS256, []byte("fedcba9876543210fedcba9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	// A loaded set the Tokens did not take: its key's age is not the signing key's.
	m.KeysLoaded(&auth.KeySet{Signing: other.WithKeyID("k2"), SigningCreated: now})
	if got := values(t, m, "jwtgate_signing_key_age_seconds"); got != nil {
		t.Fatalf("key age of a key the Tokens do not sign with: %v", got)
	}
}

func TestPoolStats(t *testing.T) {
	db, err := postgres.Open(context.Background(), pgtest.URL(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Config{Service: newService(t), Pool: db})
	if got := values(t, m, "jwtgate_db_pool_max_connections"); got[""] != 3 {
		t.Errorf("max connections: %v, want 3", got)
	}
	if got := values(t, m, "jwtgate_db_pool_acquires_total"); got[""] < 1 {
		t.Errorf("acquires: %v, want at least the ping's", got)
	}
	got := values(t, m, "jwtgate_db_pool_connections")
	if got["acquired"] != 0 || got["idle"] < 1 || len(got) != 3 {
		t.Errorf("connections: %v, want none acquired and the ping's idle", got)
	}
}

// BenchmarkRequest is what metrics add to each request.
func BenchmarkRequest(b *testing.B) {
	m := metrics.New(metrics.Config{Service: newService(b)})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("GET /me", 200, 3*time.Microsecond)
		}
	})
}
