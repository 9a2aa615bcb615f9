// Package deploy holds the files that run jwtgate elsewhere than from a
// shell (the systemd unit and its environment file, the container image's
// data volume) and the tests that run them; the Containerfile is at the
// repository's root.
package deploy

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// The user the image runs as: distroless' "nonroot".
const imageUID = 65532

// containersConf is ../shared/containers.conf, the setting without which
// podman cannot start containers on the machines the tests run on.
const containersConf = "[containers]\ndefault_ulimits = []\n"

// podman runs podman with the runtime and cgroup manager that work on
// those machines (the default crun runtime is refused there).
type podman struct {
	t    *testing.T
	conf string // CONTAINERS_CONF
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			testutil.Unavailable(t, tool+" not installed: "+err.Error(), "apt-get install -y podman runc in .ci/run")
		}
	}
	conf := os.Getenv("CONTAINERS_CONF")
	if conf == "" {
		conf = filepath.Join(t.TempDir(), "containers.conf")
		if err := os.WriteFile(conf, []byte(containersConf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &podman{t: t, conf: conf}
	if out, err := p.cmd("", "info").CombinedOutput(); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("podman cannot run here: %v\n%s", err, out), "make podman work in .ci/run")
	}
	return p
}

func (p *podman) cmd(stdin string, args ...string) *exec.Cmd {
	cmd := exec.Command("podman", append([]string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

// run runs podman and returns its standard output, failing the test when
// it fails.
func (p *podman) run(stdin string, args ...string) string {
	p.t.Helper()
	out, err := p.try(stdin, args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

func (p *podman) try(stdin string, args ...string) (string, error) {
	cmd := p.cmd(stdin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// buildImage builds the Containerfile from a binary built here, as its
// comment shows for machines without a registry, and removes the image
// (every stage's, found by a label of this build) when the test ends.
func buildImage(t *testing.T, p *podman, tag string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// A context of just the files the image takes: the checkout may hold
	// much else.
	ctx := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctx, "jwtgate"), "./cmd/jwtgate")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, f := range []string{"Containerfile", "deploy/data-volume.tar"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(ctx, f))
	}

	label := "jwtgate.test=" + tag
	t.Cleanup(func() {
		ids, err := p.try("", "images", "--all", "--quiet", "--filter", "label="+label)
		if err == nil && strings.TrimSpace(ids) != "" {
			_, err = p.try("", append([]string{"rmi", "--force"}, strings.Fields(ids)...)...)
		}
		if err != nil {
			t.Errorf("removing the test's images: %v", err)
		}
	})
	iid := filepath.Join(ctx, "iid")
	// --pull=never: a build that reached for a registry fails.
	p.run("", "build", "--pull=never", "--format", "docker", "--target", "prebuilt",
		"--label", label, "--iidfile", iid, "--file", filepath.Join(ctx, "Containerfile"), ctx)
	id, err := os.ReadFile(iid)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(id))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestContainer builds the image, runs the server from it with a named
// volume as /data, adds a user in the running container, logs in through
// it, and checks the files it wrote to the volume.
func TestContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a container image: skipped by -short")
	}
	p := newPodman(t)
	tag := randomName()
	start := time.Now()
	image := buildImage(t, p, tag)
	t.Logf("image built in %v", time.Since(start).Round(time.Millisecond))

	checkImageConfig(t, p, image)

	volume := "jwtgate-test-" + tag
	p.run("", "volume", "create", volume)
	t.Cleanup(func() {
		if _, err := p.try("", "volume", "rm", "--force", volume); err != nil {
			t.Errorf("removing the test's volume: %v", err)
		}
	})

	// The host's network, as on the machines the tests run on nothing
	// else works: the server listens on a free loopback port of the host
	// instead of the image's 0.0.0.0:8080.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	name := "jwtgate-test-" + tag
	start = time.Now()
	p.run("", "run", "--detach", "--name", name, "--net", "host",
		"--volume", volume+":/data", "--env", "JWTGATE_ADDR="+addr, image)
	stopped := false
	t.Cleanup(func() {
		if t.Failed() {
			// The server logs to stderr, which podman logs keeps apart.
			logs, _ := p.cmd("", "logs", name).CombinedOutput()
			t.Logf("container logs:\n%s", logs)
		}
		if !stopped {
			p.try("", "rm", "--force", "--time", "0", name)
		}
	})
	base := "http://" + addr
	testutil.Eventually(t, 60*time.Second, "the container's server ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Logf("container ready in %v", time.Since(start).Round(time.Millisecond))

	// The image's PATH and $JWTGATE_DATA make the command line work as in
	// the README.
	out := p.run("alice-password-1\n", "exec", "--interactive", name, "jwtgate", "user", "add", "alice", "--role", "admin")
	if !strings.Contains(out, "created user alice") {
		t.Fatalf("user add: %q", out)
	}
	token := login(t, base, "alice", "alice-password-1")
	me := getJSON(t, base+"/me", token)
	if me["name"] != "alice" || me["role"] != "admin" {
		t.Fatalf("/me: %v", me)
	}

	checkHealthcheck(t, p, name)

	mount := strings.TrimSpace(p.run("", "volume", "inspect", "--format", "{{.Mountpoint}}", volume))
	for _, f := range []struct {
		path string
		mode fs.FileMode
	}{
		{"", fs.ModeDir | 0o700},
		{"jwtgate.db", 0o600},
		{"hs256.jwk", 0o600},
	} {
		mode, uid, gid := statInVolume(t, p, filepath.Join(mount, f.path))
		if mode != f.mode || uid != imageUID || gid != imageUID {
			t.Errorf("/data/%s: mode %v owner %d:%d, want %v %d:%d", f.path, mode, uid, gid, f.mode, imageUID, imageUID)
		}
	}

	// SIGTERM reaches the server as PID 1, which ends cleanly.
	p.run("", "stop", "--time", "30", name)
	stopped = true
	if code := strings.TrimSpace(p.run("", "inspect", "--format", "{{.State.ExitCode}}", name)); code != "0" {
		t.Errorf("exit status after podman stop: %s", code)
	}
	p.run("", "rm", name)
}

// checkImageConfig checks what the image says about itself: who it runs
// as, where it listens, its volume and its health check.
func checkImageConfig(t *testing.T, p *podman, image string) {
	t.Helper()
	var inspect []struct {
		Config struct {
			User         string
			Env          []string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
			Entrypoint   []string
			Cmd          []string
		}
		HealthCheck *struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(p.run("", "image", "inspect", image)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("image inspect: %v %v", err, inspect)
	}
	c := inspect[0].Config
	if c.User != "65532:65532" {
		t.Errorf("user %q", c.User)
	}
	for _, env := range []string{"JWTGATE_ADDR=0.0.0.0:8080", "JWTGATE_DATA=/data"} {
		if !slices.Contains(c.Env, env) {
			t.Errorf("env %q lacks %s", c.Env, env)
		}
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes %v", c.Volumes)
	}
	if got := strings.Join(append(c.Entrypoint, c.Cmd...), " "); got != "/usr/local/bin/jwtgate serve" {
		t.Errorf("entrypoint and cmd %q", got)
	}
	if hc := inspect[0].HealthCheck; hc == nil || strings.Join(hc.Test, " ") != "CMD /usr/local/bin/jwtgate healthcheck" {
		t.Errorf("health check %+v", hc)
	}
}

// checkHealthcheck runs the image's health check against the ready
// server, where the binary has the healthcheck command.
func checkHealthcheck(t *testing.T, p *podman, name string) {
	t.Helper()
	if _, err := p.try("", "exec", name, "jwtgate", "help", "healthcheck"); err != nil {
		t.Log("the binary has no healthcheck command: the image's health check is not run")
		return
	}
	if _, err := p.try("", "healthcheck", "run", name); err != nil {
		t.Errorf("health check of a ready server: %v", err)
	}
}

// statInVolume returns the mode and owner of a file in a volume, as the
// container sees them.
func statInVolume(t *testing.T, p *podman, path string) (fs.FileMode, int, int) {
	t.Helper()
	if os.Geteuid() == 0 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		return fi.Mode(), int(st.Uid), int(st.Gid)
	}
	// Rootless: the volume's owners are mapped; podman unshare sees them
	// as the container does.
	out := strings.Fields(p.run("", "unshare", "stat", "--format", "%f %u %g", path))
	if len(out) != 3 {
		t.Fatalf("stat %s: %q", path, out)
	}
	raw, err1 := strconv.ParseUint(out[0], 16, 32)
	uid, err2 := strconv.Atoi(out[1])
	gid, err3 := strconv.Atoi(out[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatalf("stat %s: %q: %v", path, out, err)
	}
	mode := fs.FileMode(raw & 0o777)
	if raw&syscall.S_IFMT == syscall.S_IFDIR {
		mode |= fs.ModeDir
	}
	return mode, uid, gid
}

// TestDataVolumeTar checks the archive the image's /data comes from: one
// directory, private to the image's user.
func TestDataVolumeTar(t *testing.T) {
	f, err := os.Open("data-volume.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := tar.NewReader(f)
	var names []string
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name != "data/" || h.Typeflag != tar.TypeDir || h.Mode != 0o700 || h.Uid != imageUID || h.Gid != imageUID {
			t.Errorf("entry %q: type %c mode %o owner %d:%d, want the directory data/ 0700 %d:%d",
				h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, imageUID, imageUID)
		}
	}
	if len(names) != 1 {
		t.Errorf("entries %q, want just data/", names)
	}
}

func login(t *testing.T, base, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(base+"/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %v %v", resp.StatusCode, m, err)
	}
	token, _ := m["access_token"].(string)
	if token == "" {
		t.Fatalf("login: no access token in %v", m)
	}
	return token
}

func getJSON(t *testing.T, url, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %v", url, resp.StatusCode, m, err)
	}
	return m
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// randomName makes the test's image, volume and container names its own
// when several runs share the machine's podman.
func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
