package httpapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
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
