package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
	"github.com/jwtgate/jwtgate/jwt"
)

// buildBinary builds cmd/jwtgate once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "jwtgate-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "jwtgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New("go build: " + err.Error() + ": " + string(out))
	}
	return bin, nil
})

// binary returns the built binary. Tests that run it skip under -short,
// here as well as at their start, so that one missing the check at its
// start still keeps the quick loop quick.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped by -short")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// process is a `jwtgate serve` child process.
type process struct {
	cmd  *exec.Cmd
	base string
	logs *testutil.LockedBuffer
	done chan error
}

var listenRE = regexp.MustCompile(`addr=http://(127\.0\.0\.1:\d+)`)

// startProcess runs the built binary's serve command and waits until it
// listens. An empty data leaves the storage arguments to args.
func startProcess(t *testing.T, data string, args ...string) *process {
	t.Helper()
	bin := binary(t)
	base := []string{"serve", "--addr", "127.0.0.1:0"}
	if data != "" {
		base = append(base, "--data", data)
	}
	cmd := exec.Command(bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "JWTGATE_SECRET=", "JWTGATE_SECRET_FILE=", "JWTGATE_KEY_FILE=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &testutil.LockedBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start: %s", p.logs)
	}
	return p
}

func runBinary(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	bin := binary(t)
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBinaryGracefulShutdown sends SIGTERM to the real binary while
// logins (each a ~50 ms argon2id hash) are in flight: every one finishes
// with 200, the process exits 0, and the database is intact.
func TestBinaryGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	data := t.TempDir()
	if out, err := runBinary(t, "sigterm-password-1\n", "user", "add", "sam", "--role", "editor", "--data", data); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	// Logins queue for a hashing slot as long as they need: on a busy
	// machine four hashes outlast the default --hash-wait, whose 503 is
	// not what this test is about.
	p := startProcess(t, data, "--hash-wait", "1m")
	const n = 4
	codes := make(chan int, n)
	// In flight means inside the handler: with Expect: 100-continue the
	// server answers "100 Continue" only when the login handler starts
	// reading the body, so SIGTERM goes out once every login is there. (A
	// connection the server has not accepted yet is refused on shutdown;
	// a guessed sleep was too short under load.)
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	var inHandler sync.WaitGroup
	inHandler.Add(n)
	for range n {
		go func() {
			var once sync.Once
			trace := &httptrace.ClientTrace{Got100Continue: func() { once.Do(inHandler.Done) }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
				"POST", p.base+"/login", strings.NewReader(`{"username":"sam","password":"sigterm-password-1"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Expect", "100-continue")
			r, err := client.Do(req)
			once.Do(inHandler.Done)
			if err != nil {
				t.Logf("login: %v", err)
				codes <- -1
				return
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			codes <- r.StatusCode
		}()
	}
	inHandler.Wait()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range n {
		if c := <-codes; c != 200 {
			t.Errorf("in-flight login ended with %d during shutdown", c)
		}
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(p.logs.String(), "stopped cleanly") {
		t.Errorf("log: %s", p.logs)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.UserByName(context.Background(), "sam"); err != nil {
		t.Fatalf("after shutdown: %v", err)
	}
	// Sessions of the finished logins were stored whole.
	if n, err := countRows(data, "sessions"); err != nil || n != 4 {
		t.Fatalf("sessions after shutdown: %d %v", n, err)
	}
}

func countRows(data, table string) (int, error) {
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "jwtgate.db"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.CountRows(context.Background(), table)
}

// TestBinaryRotationAndRevocation drives a running server from the
// command line, as an operator would: `key rotate` then SIGHUP switches
// the signing key (old tokens keep working in the grace period, the JWKS
// publishes the new public key), and `user passwd` ends the user's
// sessions on the running server within a second.
func TestBinaryRotationAndRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	data := t.TempDir()
	if out, err := runBinary(t, "rotate-password-1\n", "user", "add", "ops", "--role", "admin", "--data", data); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	p := startProcess(t, data, "--key-reload", "1h") // only SIGHUP reloads here
	oldTok := login(t, p.base, "ops", "rotate-password-1")
	if code, _, _ := call(t, "GET", p.base+"/.well-known/jwks.json", "", "", ""); code != 404 {
		t.Fatalf("JWKS with HS256: %d", code)
	}
	out, err := runBinary(t, "", "key", "rotate", "--alg", "EdDSA", "--grace", "1h", "--data", data)
	if err != nil {
		t.Fatalf("key rotate: %v %s", err, out)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, _ := call(t, "GET", p.base+"/.well-known/jwks.json", "", "", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("JWKS still %d after rotate + SIGHUP: %s", code, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	newTok := login(t, p.base, "ops", "rotate-password-1")
	if u, err := jwt.DecodeUnverified(newTok); err != nil || u.Algorithm != "EdDSA" {
		t.Fatalf("new token alg %v %v", u, err)
	}
	for _, tok := range []string{oldTok, newTok} {
		if code, _, _ := call(t, "GET", p.base+"/me", tok, "", ""); code != 200 {
			t.Fatalf("/me during grace: %d", code)
		}
	}
	out, err = runBinary(t, "", "key", "list", "--data", data)
	if err != nil || !strings.Contains(out, "active") || !strings.Contains(out, "verify-only") || strings.Contains(out, `"d"`) {
		t.Fatalf("key list: %v\n%s", err, out)
	}

	// A password change from the command line ends sessions everywhere.
	if out, err := runBinary(t, "rotate-password-2\n", "user", "passwd", "ops", "--data", data); err != nil {
		t.Fatalf("user passwd: %v %s", err, out)
	}
	start := time.Now()
	for {
		code, _, _ := call(t, "GET", p.base+"/me", newTok, "", "")
		if code == 401 {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("token still accepted %v after the password change", time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBinaryGracePeriodEnds rotates with a short grace period: tokens of
// the old key keep working until it ends, then stop, without a restart.
// The times are the key's retirement as stored, not the test's clock
// around starting the rotate process, which a busy machine makes slow.
func TestBinaryGracePeriodEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	data := t.TempDir()
	if out, err := runBinary(t, "grace-password-1\n", "user", "add", "gil", "--data", data); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	p := startProcess(t, data, "--key-reload", "100ms")
	oldTok := login(t, p.base, "gil", "grace-password-1")
	old, _ := jwt.DecodeUnverified(oldTok)
	if out, err := runBinary(t, "", "key", "rotate", "--grace", "3s", "--data", data); err != nil {
		t.Fatalf("key rotate: %v %s", err, out)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.SigningKeys(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var retireAt time.Time
	for _, k := range stored {
		if k.ID == old.KeyID {
			retireAt = k.RetireAt
		}
	}
	if retireAt.IsZero() {
		t.Fatalf("the old key %s has no retirement after the rotation: %+v", old.KeyID, stored)
	}
	// Wait for the reload: new logins are signed by the new key.
	var newTok string
	testutil.Eventually(t, 20*time.Second, "new logins signed by the rotated key", func() bool {
		newTok = login(t, p.base, "gil", "grace-password-1")
		a, _ := jwt.DecodeUnverified(newTok)
		return a.KeyID != old.KeyID
	})
	// Until the retirement every answer accepts the old token; after it
	// the token is refused as invalid, within the reload interval.
	accepted := 0
	for {
		sent := time.Now()
		code, _, m := call(t, "GET", p.base+"/me", oldTok, "", "")
		answered := time.Now()
		if code == 200 {
			accepted++
			if sent.After(retireAt.Add(10 * time.Second)) {
				t.Fatalf("old token still accepted %v after its key retired", sent.Sub(retireAt))
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if answered.Before(retireAt) {
			t.Fatalf("old token refused %v before its key retires: %d %v", retireAt.Sub(answered), code, m)
		}
		if code != 401 || m["code"] != "token_invalid" {
			t.Fatalf("old token after its key retired: %d %v, want 401 token_invalid", code, m)
		}
		break
	}
	if accepted == 0 {
		t.Logf("the reload came after the grace period ended (%v): the old token was not tried within it", retireAt)
	}
	if code, _, _ := call(t, "GET", p.base+"/me", newTok, "", ""); code != 200 {
		t.Fatalf("new token: %d", code)
	}
}
