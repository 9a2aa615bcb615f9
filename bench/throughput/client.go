package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// client is one worker's HTTP/1.1 client: a kept-alive connection per
// instance, each request written in one piece and each response read
// with the least parsing that frames it (status, Content-Length or
// chunked). The load generator shares the machine's cores with the
// server it measures; net/http's client spends several times as much per
// request, which the server's figures would pay for. Not safe for
// concurrent use.
type client struct {
	conns map[string]*hconn // by host:port
	buf   bytes.Buffer
}

type hconn struct {
	c net.Conn
	r *bufio.Reader
}

// do sends one request to url (http://host:port/path) and returns the
// status code and body; 0 on a network or framing error, after which the
// connection is dropped and the next request dials anew.
func (c *client) do(method, url, token, body string) (int, []byte) {
	rest, ok := strings.CutPrefix(url, "http://")
	if !ok {
		return 0, nil
	}
	host, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	if c.conns == nil {
		c.conns = map[string]*hconn{}
	}
	hc := c.conns[host]
	if hc == nil {
		nc, err := net.DialTimeout("tcp", host, 10*time.Second)
		if err != nil {
			return 0, nil
		}
		hc = &hconn{c: nc, r: bufio.NewReaderSize(nc, 16<<10)}
		c.conns[host] = hc
	}
	b := &c.buf
	b.Reset()
	fmt.Fprintf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if token != "" {
		b.WriteString("Authorization: Bearer " + token + "\r\n")
	}
	if method == "POST" {
		b.WriteString("Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	hc.c.SetDeadline(time.Now().Add(30 * time.Second))
	code, resp, keep, err := hc.roundTrip(b.Bytes())
	if err != nil || !keep {
		hc.c.Close()
		delete(c.conns, host)
	}
	if err != nil {
		return 0, nil
	}
	return code, resp
}

var errFraming = errors.New("response not understood")

// roundTrip writes req and reads its response; keep is false when the
// server closes the connection after it.
func (hc *hconn) roundTrip(req []byte) (code int, body []byte, keep bool, err error) {
	if _, err := hc.c.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := hc.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, false, errFraming
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, errFraming
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := hc.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, false, errFraming
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, false, errFraming
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case code == 204 || code == 304 || code < 200:
		// no body
	case chunked:
		for {
			line, err := hc.r.ReadSlice('\n')
			if err != nil {
				return 0, nil, false, err
			}
			n, err := strconv.ParseInt(string(bytes.TrimRight(line, "\r\n")), 16, 32)
			if err != nil || n < 0 {
				return 0, nil, false, errFraming
			}
			if n == 0 {
				if _, err := hc.r.ReadSlice('\n'); err != nil { // no trailers
					return 0, nil, false, err
				}
				break
			}
			start := len(body)
			body = append(body, make([]byte, n)...)
			if _, err := io.ReadFull(hc.r, body[start:]); err != nil {
				return 0, nil, false, err
			}
			if _, err := hc.r.Discard(2); err != nil {
				return 0, nil, false, err
			}
		}
	case length >= 0:
		body = make([]byte, length)
		if _, err := io.ReadFull(hc.r, body); err != nil {
			return 0, nil, false, err
		}
	default:
		return 0, nil, false, errFraming // a body up to the close: jwtgate sends none
	}
	return code, body, !closing, nil
}
