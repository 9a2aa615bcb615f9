package main

import (
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/jwtgate/jwtgate/internal/buildinfo"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
)

// metricsURL is the /metrics URL the server logged at start.
func metricsURL(t *testing.T, logs string) string {
	t.Helper()
	m := regexp.MustCompile(`msg="metrics listening" addr=(http://\S+/metrics)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", logs)
	}
	return m[1]
}

// scrape gets and parses a /metrics page.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return fams
}

// series maps each series of family name to its value (a histogram's
// sample count), keyed by its label values joined with "|".
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no family %s", name)
	}
	out := map[string]float64{}
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetValue())
		}
		var v float64
		switch {
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Histogram != nil:
			v = float64(m.Histogram.GetSampleCount())
		default:
			t.Fatalf("%s: unexpected type %v", name, f.GetType())
		}
		out[strings.Join(ls, "|")] = v
	}
	return out
}

func wantSeries(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]float64) {
	t.Helper()
	if got := series(t, fams, name); !maps.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

// TestServeMetrics runs a scripted workload and checks every count the
// metrics listener reports for it, and that /metrics is served there only.
func TestServeMetrics(t *testing.T) {
	base, data, logs := startServer(t, "--metrics-addr", "127.0.0.1:0", "--login-ip-burst", "3", "--login-ip-every", "1h")
	addUser(t, data, "rita", "reader", "rita-password-1")
	murl := metricsURL(t, logs.String())

	code, _, g := call(t, "POST", base+"/login", "", "application/json", `{"username":"rita","password":"rita-password-1"}`)
	if code != 200 {
		t.Fatalf("login: %d %v", code, g)
	}
	for _, body := range []string{`{"username":"rita","password":"wrong-password"}`, `{"username":"nobody","password":"wrong-password"}`} {
		if code, _, m := call(t, "POST", base+"/login", "", "application/json", body); code != 401 {
			t.Fatalf("login %s: %d %v", body, code, m)
		}
	}
	if code, _, m := call(t, "POST", base+"/login", "", "application/json", `{"username":"rita","password":"rita-password-1"}`); code != 429 {
		t.Fatalf("fourth login from one address: %d %v, want 429", code, m)
	}
	if code, _, m := call(t, "GET", base+"/me", g["access_token"].(string), "", ""); code != 200 {
		t.Fatalf("GET /me: %d %v", code, m)
	}
	for range 2 {
		if code, _, _ := call(t, "GET", base+"/healthz", "", "", ""); code != 200 {
			t.Fatalf("GET /healthz: %d", code)
		}
	}
	refresh := `{"refresh_token":"` + g["refresh_token"].(string) + `"}`
	if code, _, m := call(t, "POST", base+"/refresh", "", "application/json", refresh); code != 200 {
		t.Fatalf("refresh: %d %v", code, m)
	}
	if code, _, m := call(t, "POST", base+"/refresh", "", "application/json", refresh); code != 401 {
		t.Fatalf("refresh token reused: %d %v, want 401", code, m)
	}
	// The public address knows no /metrics; the metrics address nothing else.
	if code, _, _ := call(t, "GET", base+"/metrics", "", "", ""); code != 404 {
		t.Fatalf("GET /metrics on the public address: %d, want 404", code)
	}
	if code, _, _ := call(t, "GET", base+"/nowhere", "", "", ""); code != 404 {
		t.Fatalf("GET /nowhere: %d, want 404", code)
	}
	mbase := strings.TrimSuffix(murl, "/metrics")
	for _, path := range []string{"/", "/healthz", "/me", "/metrics/x"} {
		if code, _, _ := call(t, "GET", mbase+path, "", "", ""); code != 404 {
			t.Errorf("GET %s on the metrics address: %d, want 404", path, code)
		}
	}
	if code, _, _ := call(t, "POST", murl, "", "", ""); code != 405 {
		t.Errorf("POST /metrics: %d, want 405", code)
	}

	fams := scrape(t, murl)
	wantSeries(t, fams, "jwtgate_http_requests_total", map[string]float64{
		"POST /login|2xx":   1,
		"POST /login|4xx":   3,
		"GET /me|2xx":       1,
		"GET /healthz|2xx":  2,
		"POST /refresh|2xx": 1,
		"POST /refresh|4xx": 1,
		"unmatched|4xx":     2,
	})
	wantSeries(t, fams, "jwtgate_http_request_duration_seconds", series(t, fams, "jwtgate_http_requests_total"))
	wantSeries(t, fams, "jwtgate_logins_total", map[string]float64{
		"success": 1, "bad_credentials": 2, "rate_limited": 1, "busy": 0, "disabled": 0, "invalid": 0, "error": 0,
	})
	wantSeries(t, fams, "jwtgate_refreshes_total", map[string]float64{"success": 1, "reused": 1, "invalid": 0, "error": 0})
	wantSeries(t, fams, "jwtgate_store_errors_total", map[string]float64{"unavailable": 0, "conflict": 0, "canceled": 0, "internal": 0})
	wantSeries(t, fams, "jwtgate_password_hash_wait_seconds", map[string]float64{"": 3}) // the rate-limited login hashes nothing
	wantSeries(t, fams, "jwtgate_password_hashes_in_flight", map[string]float64{"": 0})
	wantSeries(t, fams, "jwtgate_revoked_ids", map[string]float64{"": 1}) // the reused token's session
	wantSeries(t, fams, "jwtgate_verify_keys", map[string]float64{"": 1})
	wantSeries(t, fams, "jwtgate_audit_write_failures_total", map[string]float64{"": 0})
	if age := series(t, fams, "jwtgate_signing_key_age_seconds")[""]; age < 0 || age > 600 {
		t.Errorf("signing key age %v s, want the few seconds since the test started", age)
	}
	bi := buildinfo.Get()
	wantSeries(t, fams, "jwtgate_build_info", map[string]float64{bi.GoVersion + "|" + bi.Revision + "|" + bi.Version: 1})
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}
	if fams["jwtgate_db_pool_connections"] != nil {
		t.Error("pool metrics on SQLite")
	}
}

// On PostgreSQL the pool's state is exported too.
func TestServeMetricsPostgresPool(t *testing.T) {
	db := pgtest.URL(t)
	base, _, logs := startServer(t, "--db", db, "--db-max-conns", "3", "--metrics-addr", "127.0.0.1:0")
	if code, _, _ := call(t, "GET", base+"/readyz", "", "", ""); code != 200 {
		t.Fatalf("GET /readyz: %d", code)
	}
	fams := scrape(t, metricsURL(t, logs.String()))
	wantSeries(t, fams, "jwtgate_db_pool_max_connections", map[string]float64{"": 3})
	conns := series(t, fams, "jwtgate_db_pool_connections")
	if len(conns) != 3 || conns["idle"]+conns["acquired"] < 1 {
		t.Errorf("pool connections %v: want acquired, idle and constructing, at least one open", conns)
	}
	if n := series(t, fams, "jwtgate_db_pool_acquires_total")[""]; n < 1 {
		t.Errorf("pool acquires %v, want at least /readyz's", n)
	}
}
