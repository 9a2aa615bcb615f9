package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// discardWriter is a ResponseWriter that keeps only the status, so that
// benchmarks measure the handler rather than a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// benchServer is the API over an in-memory store, logging as JSON to
// io.Discard, with a reader's access token got as a client gets it: by
// POST /login through the handler, so it carries a sid and a jti and
// every request runs the revocation lookup for both.
type benchServer struct {
	h      http.Handler
	svc    *auth.Service
	tokens *auth.Tokens
	clock  *testutil.Clock
	token  string
}

// benchRevoked is how many revoked ids the revocation cases hold: a busy
// server's logouts of the last quarter of an hour.
const benchRevoked = 10_000

// newBenchServer makes a benchServer whose revocation set holds revoked
// random ids (none of them its token's).
func newBenchServer(tb testing.TB, revoked int) *benchServer {
	tb.Helper()
	return newBenchServerMetrics(tb, revoked, false)
}

// newBenchServerMetrics is newBenchServer, with the Prometheus metrics of
// `jwtgate serve --metrics-addr` when withMetrics is set.
func newBenchServerMetrics(tb testing.TB, revoked int, withMetrics bool) *benchServer {
	tb.Helper()
	store := newFaultStore(tb)
	c := testutil.NewClock(time.Now())
	tokens := newTokens(tb, testKey(tb, "k"), c)
	svc := &auth.Service{Store: store, Hasher: auth.NewHasher(fastArgon, 2, time.Second), Tokens: tokens, Now: c.Now}
	if _, err := svc.CreateUser(context.Background(), "rita", pw("rita"), auth.RoleReader); err != nil {
		tb.Fatal(err)
	}
	cfg := Config{Service: svc, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	if withMetrics {
		cfg.Metrics = metrics.New(metrics.Config{Service: svc})
	}
	bs := &benchServer{svc: svc, tokens: tokens, clock: c, h: New(cfg)}
	revokeRandomIDs(tb, tokens, c.Now(), revoked)
	bs.token = bs.login(tb)
	p, err := tokens.Verify(bs.token)
	if err != nil || p.Claims.SessionID == "" || p.Claims.ID == "" {
		tb.Fatalf("login token: %v (sid %q, jti %q)", err, p.Claims.SessionID, p.Claims.ID)
	}
	if n := tokens.Revocations().Len(); n != revoked {
		tb.Fatalf("%d revoked ids, want %d", n, revoked)
	}
	return bs
}

// login logs rita in through the handler and returns the access token.
func (bs *benchServer) login(tb testing.TB) string {
	tb.Helper()
	rec := bs.do("POST", "/login", "", `{"username":"rita","password":`+jsonQuote(pw("rita"))+`}`)
	if rec.Code != 200 {
		tb.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var g grantResponse
	decodeStrict(tb, rec.Body.Bytes(), &g)
	return g.AccessToken
}

// do serves one request (a JSON body if body is not empty).
func (bs *benchServer) do(method, path, token, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	bs.h.ServeHTTP(rec, r)
	return rec
}

// revokeRandomIDs adds n revoked ids shaped like jti and sid values (16
// random bytes, base64url), in force for the next 16 minutes, as the
// revocation poll would load them.
func revokeRandomIDs(tb testing.TB, tokens *auth.Tokens, now time.Time, n int) {
	tb.Helper()
	if n == 0 {
		return
	}
	revs := make([]auth.Revocation, n)
	var b [16]byte
	for i := range revs {
		rand.Read(b[:])
		revs[i] = auth.Revocation{ID: base64.RawURLEncoding.EncodeToString(b[:]), Until: now.Add(16 * time.Minute), CreatedAt: now}
	}
	if added := tokens.Revocations().Add(now, revs...); added != n {
		tb.Fatalf("added %d revoked ids, want %d", added, n)
	}
}

// benchHandler returns the API and a reader's token from POST /login,
// with no revocations.
func benchHandler(tb testing.TB) (http.Handler, string) {
	bs := newBenchServer(tb, 0)
	return bs.h, bs.token
}

func serveOnce(h http.Handler, w *discardWriter, r *http.Request) {
	clear(w.h)
	w.code = 0
	h.ServeHTTP(w, r)
}

// TestMeStaysLight guards the authenticated fast path: GET /me may cost
// only a few allocations more than GET /healthz (the verified claims, the
// principal and the response body). The token is a real login's, with a
// sid and a jti, so the revocation lookup runs for both; with
// benchRevoked revoked ids it must allocate no more than with none.
func TestMeStaysLight(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items at random)")
	}
	allocs := map[int]float64{}
	for _, revoked := range []int{0, benchRevoked} {
		bs := newBenchServer(t, revoked)
		w := &discardWriter{h: http.Header{}}
		health := httptest.NewRequest("GET", "/healthz", nil)
		me := httptest.NewRequest("GET", "/me", nil)
		me.Header.Set("Authorization", "Bearer "+bs.token)
		serveOnce(bs.h, w, me)
		if w.code != 200 {
			t.Fatalf("GET /me: %d", w.code)
		}
		base := testing.AllocsPerRun(200, func() { serveOnce(bs.h, w, health) })
		got := testing.AllocsPerRun(200, func() { serveOnce(bs.h, w, me) })
		t.Logf("allocations: /healthz %.0f, /me %.0f (%d revoked ids)", base, got, bs.tokens.Revocations().Len())
		extra := 3.0 // principal, claims, and slack
		if got > base+extra {
			t.Errorf("GET /me allocates %.0f times, /healthz %.0f, with %d revoked ids: the auth path got heavier", got, base, revoked)
		}
		allocs[revoked] = got
	}
	if allocs[benchRevoked] != allocs[0] {
		t.Errorf("GET /me allocates %.0f times with %d revoked ids, %.0f with none: the revocation check allocates", allocs[benchRevoked], benchRevoked, allocs[0])
	}
}

// The revocation cases of the benchmarks measure a working check: among
// benchRevoked other ids, a token revoked by its session (a logout) or by
// its own id (as loaded from another instance) is refused on /me.
func TestMeRefusesRevokedAmongMany(t *testing.T) {
	bs := newBenchServer(t, benchRevoked)
	other := bs.login(t)
	for _, tok := range []string{bs.token, other} {
		if rec := bs.do("GET", "/me", tok, ""); rec.Code != 200 {
			t.Fatalf("GET /me: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := bs.do("POST", "/logout", other, ""); rec.Code != 204 {
		t.Fatalf("POST /logout: %d %s", rec.Code, rec.Body)
	}
	if n := bs.tokens.Revocations().Len(); n != benchRevoked+2 {
		t.Fatalf("%d revoked ids after a logout, want %d (the jti and the sid)", n, benchRevoked+2)
	}
	wantRevoked := func(tok string) {
		t.Helper()
		rec := bs.do("GET", "/me", tok, "")
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), `"code":"token_revoked"`) {
			t.Fatalf("GET /me with a revoked token: %d %s", rec.Code, rec.Body)
		}
	}
	wantRevoked(other)
	if rec := bs.do("GET", "/me", bs.token, ""); rec.Code != 200 {
		t.Fatalf("GET /me of the session still open: %d %s", rec.Code, rec.Body)
	}
	p, err := bs.tokens.Verify(bs.token)
	if err != nil {
		t.Fatal(err)
	}
	now := bs.clock.Now()
	bs.tokens.Revocations().Add(now, auth.Revocation{ID: p.Claims.ID, Until: now.Add(16 * time.Minute), CreatedAt: now})
	wantRevoked(bs.token)
}

func BenchmarkHandler(b *testing.B) {
	plain, many, measured := newBenchServer(b, 0), newBenchServer(b, benchRevoked), newBenchServerMetrics(b, 0, true)
	for _, bc := range []struct {
		name, path, auth string
		h                http.Handler
	}{
		{"healthz", "/healthz", "", plain.h},
		{"me", "/me", "Bearer " + plain.token, plain.h},
		{"me-revocations", "/me", "Bearer " + many.token, many.h}, // benchRevoked other ids revoked
		{"me-metrics", "/me", "Bearer " + measured.token, measured.h},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				r := httptest.NewRequest("GET", bc.path, nil)
				if bc.auth != "" {
					r.Header.Set("Authorization", bc.auth)
				}
				for pb.Next() {
					serveOnce(bc.h, w, r)
					if w.code != 200 {
						b.Fatalf("%s: %d", bc.path, w.code)
					}
				}
			})
		})
	}
}

// BenchmarkMetricsRatio serves GET /me in blocks of metricsBlock requests,
// alternately without and with metrics (the order swapped every round),
// and reports the median of the rounds' time ratios (with/without) and
// the ratio of the two sides' 10th-percentile block times: blocks short
// enough to run between the scheduler's preemptions, so that on a shared
// machine the load hits both sides alike or shows as an outlier.
func BenchmarkMetricsRatio(b *testing.B) {
	plain, measured := newBenchServer(b, 0), newBenchServerMetrics(b, 0, os.Getenv("JWTGATE_BENCH_AA") == "")
	block := func(bs *benchServer, r *http.Request, w *discardWriter) time.Duration {
		start := time.Now()
		for range metricsBlock {
			serveOnce(bs.h, w, r)
		}
		if w.code != 200 {
			b.Fatalf("GET /me: %d", w.code)
		}
		return time.Since(start)
	}
	request := func(bs *benchServer) *http.Request {
		r := httptest.NewRequest("GET", "/me", nil)
		r.Header.Set("Authorization", "Bearer "+bs.token)
		return r
	}
	rp, rm := request(plain), request(measured)
	w := &discardWriter{h: http.Header{}}
	ratios := make([]float64, 0, b.N)
	tps, tms := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	for i := range b.N {
		var tp, tm time.Duration
		if i%2 == 0 {
			tp = block(plain, rp, w)
			tm = block(measured, rm, w)
		} else {
			tm = block(measured, rm, w)
			tp = block(plain, rp, w)
		}
		tps, tms = append(tps, tp), append(tms, tm)
		ratios = append(ratios, float64(tm)/float64(tp))
	}
	slices.Sort(ratios)
	slices.Sort(tps)
	slices.Sort(tms)
	p10 := b.N / 10
	b.ReportMetric(ratios[b.N/2], "ratio")
	b.ReportMetric(float64(tms[p10])/float64(tps[p10]), "ratio-p10")
	b.ReportMetric(float64(tps[p10])/metricsBlock, "ns/me-p10")
}

// metricsBlock is short (a fraction of a millisecond) next to the
// scheduler's time slice.
const metricsBlock = 100

// benchRevokedMany is a deployment with long access-token ages, many
// users and logout?all=1.
const benchRevokedMany = 1_000_000

// BenchmarkRevokedAtScale is GET /me and a login followed by POST /logout
// with no other id revoked and with benchRevokedMany, while the
// revocation poll runs every 500 ms as under `jwtgate serve` (it finds
// nothing new in the store).
func BenchmarkRevokedAtScale(b *testing.B) {
	for _, revoked := range []int{0, benchRevokedMany} {
		bs := newBenchServer(b, revoked)
		ctx, stop := context.WithCancel(context.Background())
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if err := bs.svc.SyncRevocations(ctx); err != nil && ctx.Err() == nil {
						b.Errorf("poll: %v", err)
					}
				}
			}
		}()
		b.Run(fmt.Sprintf("me/revoked=%d", revoked), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				r := httptest.NewRequest("GET", "/me", nil)
				r.Header.Set("Authorization", "Bearer "+bs.token)
				for pb.Next() {
					serveOnce(bs.h, w, r)
					if w.code != 200 {
						b.Fatalf("GET /me: %d", w.code)
					}
				}
			})
		})
		b.Run(fmt.Sprintf("login-logout/revoked=%d", revoked), func(b *testing.B) {
			for range b.N {
				if rec := bs.do("POST", "/logout", bs.login(b), ""); rec.Code != 204 {
					b.Fatalf("POST /logout: %d %s", rec.Code, rec.Body)
				}
			}
		})
		stop()
		<-polled
	}
}

// BenchmarkHTTP measures over loopback with keep-alive connections, as a
// load test would.
func BenchmarkHTTP(b *testing.B) {
	plain, measured := newBenchServer(b, 0), newBenchServerMetrics(b, 0, true)
	srv, msrv := httptest.NewServer(plain.h), httptest.NewServer(measured.h)
	defer srv.Close()
	defer msrv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for _, bc := range []struct{ name, base, path, auth string }{
		{"healthz", srv.URL, "/healthz", ""},
		{"me", srv.URL, "/me", "Bearer " + plain.token},
		{"me-metrics", msrv.URL, "/me", "Bearer " + measured.token},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				r, _ := http.NewRequest("GET", bc.base+bc.path, nil)
				if bc.auth != "" {
					r.Header.Set("Authorization", bc.auth)
				}
				for pb.Next() {
					res, err := client.Do(r)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatalf("%s: %d", bc.path, res.StatusCode)
					}
				}
			})
		})
	}
}
