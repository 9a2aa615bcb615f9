package httpapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRawHTTP drives the server over loopback with a minimal
// HTTP/1.1 client (pre-built request bytes, Content-Length framing), so
// that the figures are mostly the server's own cost, as with wrk.
func BenchmarkRawHTTP(b *testing.B) {
	h, token := benchHandler(b)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, bc := range []struct{ name, req string }{
		{"healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"me", "GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(32) // 64 connections on 2 cores, as wrk -c64
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				br := bufio.NewReaderSize(c, 4096)
				req := []byte(bc.req)
				for pb.Next() {
					if _, err := c.Write(req); err != nil {
						b.Fatal(err)
					}
					n := -1
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							b.Fatal(err)
						}
						if len(line) <= 2 {
							break
						}
						if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
							n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
						}
					}
					if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkPipelined serves b.N pipelined requests from memory through a
// real http.Server: net/http's request parsing and response writing plus
// the handler, without the kernel's loopback. Single connection, no
// syscalls, so it also runs under valgrind, whose instruction counts do
// not drift with the machine's load as timings do on a shared VM. The
// cost of one request is the difference between two counts over the
// difference in requests (one P, or an idle P's spinning gets counted):
//
//	go test -c ./internal/httpapi
//	GOGC=off valgrind --tool=cachegrind --cache-sim=no ./httpapi.test -test.run '^$' \
//	    -test.cpu 1 -test.bench 'Pipelined/me$' -test.benchtime 2000x   # then 22000x
//
// The tokens are real logins' (with sid and jti); me-revocations is /me on
// a server holding benchRevoked revoked ids, the cost of the revocation
// check beside me's empty set; me-metrics is /me with the Prometheus
// metrics of --metrics-addr.
func BenchmarkPipelined(b *testing.B) {
	plain, many, measured := newBenchServer(b, 0), newBenchServer(b, benchRevoked), newBenchServerMetrics(b, 0, true)
	token := plain.token
	for _, bc := range []struct {
		name, req string
		h         http.Handler
	}{
		{"healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", plain.h},
		{"me", "GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n", plain.h},
		// /healthz ignores the header: what net/http alone spends on
		// reading a bearer token, the part of /me's cost no handler can save.
		{"healthz-bearer", "GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n", plain.h},
		{"me-revocations", "GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + many.token + "\r\n\r\n", many.h},
		{"me-metrics", "GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + measured.token + "\r\n\r\n", measured.h},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := &memConn{req: []byte(bc.req), left: b.N, closed: make(chan struct{})}
			srv := &http.Server{Handler: bc.h, ReadHeaderTimeout: 10 * time.Second}
			b.ResetTimer()
			go srv.Serve(&oneConnListener{c: c})
			<-c.closed
			b.StopTimer()
			if c.responses < b.N {
				b.Fatalf("%d responses to %d requests", c.responses, b.N)
			}
		})
	}
}

// memConn reads as req repeated left times, then EOF; it discards what is
// written, counting the writes (one per response: nothing is pipelined
// back, since each request is read only once the previous one is done).
type memConn struct {
	req       []byte
	left, off int
	responses int
	closed    chan struct{}
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && c.left > 0 {
		m := copy(p[n:], c.req[c.off:])
		n, c.off = n+m, c.off+m
		if c.off == len(c.req) {
			c.off, c.left = 0, c.left-1
		}
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error)        { c.responses++; return len(p), nil }
func (c *memConn) Close() error                       { close(c.closed); return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// oneConnListener accepts c once; the next Accept ends Serve, which
// leaves the connection being served.
type oneConnListener struct {
	c    net.Conn
	done bool
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if l.done {
		return nil, net.ErrClosed
	}
	l.done = true
	return l.c, nil
}
func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{} }
