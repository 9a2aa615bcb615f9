package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/auth"
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

// benchHandler returns the API over an in-memory store, logging as JSON
// to io.Discard, and a reader's token.
func benchHandler(tb testing.TB) (http.Handler, string) {
	store := newFaultStore(tb)
	c := newClock()
	c.ns.Store(time.Now().UnixNano())
	svc := &auth.Service{Store: store, Hasher: auth.NewHasher(fastArgon, 2, time.Second)}
	tokens := newTokens(tb, testKey(tb, "k"), c)
	u, err := svc.CreateUser(context.Background(), "rita", pw("rita"), auth.RoleReader)
	if err != nil {
		tb.Fatal(err)
	}
	token, _, err := tokens.Issue(u, "")
	if err != nil {
		tb.Fatal(err)
	}
	h := New(Config{Service: svc, Tokens: tokens, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	return h, token
}

func serveOnce(h http.Handler, w *discardWriter, r *http.Request) {
	clear(w.h)
	w.code = 0
	h.ServeHTTP(w, r)
}

// TestMeStaysLight guards the authenticated fast path: GET /me may cost
// only a few allocations more than GET /healthz (the verified claims, the
// principal and the response body).
func TestMeStaysLight(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items at random)")
	}
	h, token := benchHandler(t)
	w := &discardWriter{h: http.Header{}}
	health := httptest.NewRequest("GET", "/healthz", nil)
	me := httptest.NewRequest("GET", "/me", nil)
	me.Header.Set("Authorization", "Bearer "+token)
	serveOnce(h, w, me)
	if w.code != 200 {
		t.Fatalf("GET /me: %d", w.code)
	}
	base := testing.AllocsPerRun(200, func() { serveOnce(h, w, health) })
	got := testing.AllocsPerRun(200, func() { serveOnce(h, w, me) })
	t.Logf("allocations: /healthz %.0f, /me %.0f", base, got)
	extra := 3.0 // principal, claims, and slack
	if got > base+extra {
		t.Errorf("GET /me allocates %.0f times, /healthz %.0f: the auth path got heavier", got, base)
	}
}

func BenchmarkHandler(b *testing.B) {
	h, token := benchHandler(b)
	for _, bc := range []struct{ name, path, auth string }{
		{"healthz", "/healthz", ""},
		{"me", "/me", "Bearer " + token},
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
					serveOnce(h, w, r)
					if w.code != 200 {
						b.Fatalf("%s: %d", bc.path, w.code)
					}
				}
			})
		})
	}
}

// BenchmarkHTTP measures over loopback with keep-alive connections, as a
// load test would.
func BenchmarkHTTP(b *testing.B) {
	h, token := benchHandler(b)
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for _, bc := range []struct{ name, path, auth string }{
		{"healthz", "/healthz", ""},
		{"me", "/me", "Bearer " + token},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				r, _ := http.NewRequest("GET", srv.URL+bc.path, nil)
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
