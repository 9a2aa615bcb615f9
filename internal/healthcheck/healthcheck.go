// Package healthcheck asks a running jwtgate whether it is ready, for a
// container's HEALTHCHECK in an image without a shell or curl.
package healthcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
)

// Path is the server's readiness endpoint: 200 while the database answers.
const Path = "/readyz"

// DefaultURL is the readiness URL of a server listening on addr (its
// --addr, host:port), reached on loopback when it listens on every
// address; "" gives the server's default address.
func DefaultURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if addr == "" || err != nil {
		return "http://127.0.0.1:8080" + Path
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + Path
}

// Check gets url and returns nil when it answers 200 OK, else an error
// that says why in one line: the status with the problem's detail (RFC
// 9457) and Retry-After, or what kept the request from an answer.
func Check(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: no answer in time: %w", url, context.DeadlineExceeded)
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg := fmt.Sprintf("%s: %s", url, resp.Status)
	if why := problemText(resp.Header.Get("Content-Type"), body); why != "" {
		msg += ": " + why
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		msg += " (retry after " + ra + "s)"
	}
	return &NotReadyError{Status: resp.StatusCode, msg: msg}
}

// NotReadyError is an answer other than 200.
type NotReadyError struct {
	Status int
	msg    string
}

func (e *NotReadyError) Error() string { return e.msg }

// problemText is a JSON problem's detail, else its title; "" for other
// bodies, which are not shown (they may be anything a proxy sends).
func problemText(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/problem+json" && mt != "application/json" {
		return ""
	}
	var p struct{ Title, Detail string }
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	s := p.Detail
	if s == "" {
		s = p.Title
	}
	return strings.Join(strings.Fields(s), " ")
}
