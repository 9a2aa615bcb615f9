package httpapi

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestAmbiguousLengthClosesConnection: a request with both
// Content-Length and Transfer-Encoding (the shape of request smuggling)
// must be the last one on its connection (RFC 9112 section 6.1), so that
// bytes hidden in its body are never served as a request.
func TestAmbiguousLengthClosesConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	next := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	login := `{"username":"rita","password":"` + pw("rita") + `"}`
	chunked := strconv.FormatInt(int64(len(login)), 16) + "\r\n" + login + "\r\n0\r\n\r\n"
	for _, tc := range []struct {
		name, head, body string
		status           int
		closes           bool
	}{
		{"CL.TE, empty chunked body", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400, true},
		{"CL.TE, smuggled request in the body", "Content-Length: " + strconv.Itoa(5+len(next)) + "\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400, true},
		{"TE.CL, valid chunked body", "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", chunked, 200, true},
		{"chunked alone", "Transfer-Encoding: chunked\r\n", chunked, 200, true},
		{"Content-Length alone", "Content-Length: " + strconv.Itoa(len(login)) + "\r\n", login, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second)) // a hang fails, not blocks
			raw := "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + tc.head + "\r\n" + tc.body + next
			if _, err := io.WriteString(c, raw); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("first response %s, want %d", res.Status, tc.status)
			}
			if got := res.Close; got != tc.closes { // Connection: close, which ReadResponse takes out of Header
				t.Errorf("Connection: close = %v, want %v", got, tc.closes)
			}
			res, err = http.ReadResponse(br, nil)
			if tc.closes {
				if err == nil {
					t.Fatalf("second request on the connection was served: %s", res.Status)
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("want the connection closed, got %v", err)
				}
				return
			}
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("keep-alive broken: %v %v", res, err)
			}
		})
	}
}
