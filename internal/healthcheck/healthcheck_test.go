package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDefaultURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080/readyz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/readyz",
		":9000":          "http://127.0.0.1:9000/readyz",
		"[::]:8080":      "http://[::1]:8080/readyz",
		"10.0.0.5:8081":  "http://10.0.0.5:8081/readyz",
		"localhost:8080": "http://localhost:8080/readyz",
		"[::1]:8080":     "http://[::1]:8080/readyz",
		"no port":        "http://127.0.0.1:8080/readyz",
	} {
		if got := DefaultURL(addr); got != want {
			t.Errorf("DefaultURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer ready.Close()
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"type":"https://jwtgate.dev/problems/unavailable","title":"Service unavailable","status":503,"detail":"the database is unavailable","code":"unavailable"}`))
	}))
	defer unavailable.Close()
	titleOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"title":"Internal error","status":500}`))
	}))
	defer titleOnly.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<h1>Bad gateway</h1>"))
	}))
	defer html.Close()
	// A server that accepts and never answers: the handler blocks until
	// the test is over.
	done := make(chan struct{})
	blocked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-done
	}))
	defer blocked.Close()
	defer close(done)
	// A port nothing listens on: one that was just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + Path
	ln.Close()

	for _, tc := range []struct {
		name, url string
		timeout   time.Duration
		want      []string // "" : ready
		status    int
		deadline  bool
	}{
		{name: "ready", url: ready.URL + Path},
		{name: "wrong path", url: ready.URL + "/nope", want: []string{"404 Not Found"}, status: 404},
		{name: "unavailable", url: unavailable.URL + Path, status: 503,
			want: []string{unavailable.URL + Path + ": 503 Service Unavailable: the database is unavailable (retry after 5s)"}},
		{name: "problem title", url: titleOnly.URL, status: 500, want: []string{": 500 Internal Server Error: Internal error"}},
		{name: "not a problem", url: html.URL, status: 502, want: []string{": 502 Bad Gateway"}},
		{name: "refused", url: refused, want: []string{"connection refused"}},
		{name: "timeout", url: blocked.URL + Path, timeout: 50 * time.Millisecond, deadline: true,
			want: []string{blocked.URL + Path + ": no answer in time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			err := Check(ctx, &http.Client{}, tc.url)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("not ready: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ready, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			var nr *NotReadyError
			if got := errors.As(err, &nr); got != (tc.status != 0) || got && nr.Status != tc.status {
				t.Errorf("NotReadyError %v %+v, want status %d", got, nr, tc.status)
			}
			if errors.Is(err, context.DeadlineExceeded) != tc.deadline {
				t.Errorf("errors.Is(%v, DeadlineExceeded) != %v", err, tc.deadline)
			}
		})
	}
}
