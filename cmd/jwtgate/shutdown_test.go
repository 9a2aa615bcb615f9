package main

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// startSlowPost sends the headers of a JSON POST to path with
// Expect: 100-continue and the first byte of body, and returns once the
// server answered 100 Continue: the handler is running and reading.
func startSlowPost(t *testing.T, base, path, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
		"Expect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line ending the 100 response
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(body[:1])); err != nil {
		t.Fatal(err)
	}
	return conn, br
}

// TestBinaryShutdownEndsStragglers sends SIGTERM while one client trickles
// its body a byte at a time (the read timeout, 30 s, would keep it going
// long past the shutdown timeout) and another is mid-request: the second
// finishes with a real answer, the straggler's connection is closed at the
// shutdown timeout, and the process exits 0, well before the read timeout.
func TestBinaryShutdownEndsStragglers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const timeout = 4 * time.Second
	p := startProcess(t, t.TempDir(), "--shutdown-timeout", timeout.String())
	body := `{"username":"nobody","password":"not-the-password"}`

	slow, _ := startSlowPost(t, p.base, "/login", body)
	stopTrickle := make(chan struct{})
	trickleDone := make(chan struct{})
	go func() { // one byte every 100 ms, never the whole body
		defer close(trickleDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 1; i < len(body)-1; i++ {
			select {
			case <-stopTrickle:
				return
			case <-tick.C:
			}
			if _, err := slow.Write([]byte{' '}); err != nil {
				return // the server closed the connection
			}
		}
	}()
	t.Cleanup(func() { close(stopTrickle); <-trickleDone })

	// The request that must finish costs no password hash, which on a
	// loaded machine could itself outlast the shutdown timeout.
	refreshBody := `{"refresh_token":"not-a-refresh-token"}`
	finisher, fr := startSlowPost(t, p.base, "/refresh", refreshBody)

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Minute, "the shutdown to start", func() bool { return strings.Contains(p.logs.String(), "shutting down") })
	// A request in flight when the signal came finishes with an answer.
	if _, err := finisher.Write([]byte(refreshBody[1:])); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(fr, nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("in-flight refresh: %d, want 401", res.StatusCode)
	}

	select {
	case err := <-p.done:
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("exit after %v: %v\n%s", elapsed, err, p.logs)
		}
		// Generous for a loaded machine, but far below the 30 s read
		// timeout the straggler would otherwise have been given.
		if elapsed > timeout+10*time.Second {
			t.Errorf("exit took %v with --shutdown-timeout %v", elapsed, timeout)
		}
	case <-time.After(time.Minute):
		t.Fatalf("no exit after SIGTERM:\n%s", p.logs)
	}
	logs := p.logs.String()
	for _, want := range []string{"closed the connections of unfinished requests", "stopped cleanly"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
