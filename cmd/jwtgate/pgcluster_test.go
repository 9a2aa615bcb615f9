package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// pgCluster is a PostgreSQL cluster of one test's own: initdb into a
// temporary folder, listening only on 127.0.0.1 on a free port, without
// a Unix socket, so a test can stop and start the server under a running
// jwtgate. The shared test server (JWTGATE_TEST_POSTGRES_URL) is never
// touched.
type pgCluster struct {
	t    *testing.T
	bin  string // folder of initdb, pg_ctl
	dir  string // holds data/ and postgres.log
	as   *user.User
	port int
	url  string // superuser jwtgate, database postgres, trust on 127.0.0.1
}

// pgBinDir finds the newest /usr/lib/postgresql/<version>/bin (Debian's
// layout, which .ci/run installs), else initdb and pg_ctl on the PATH.
func pgBinDir() string {
	var vs []string
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	for _, m := range matches {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "initdb")); err == nil {
			vs = append(vs, filepath.Base(filepath.Dir(filepath.Dir(m))))
		}
	}
	if len(vs) > 0 {
		sort.Slice(vs, func(i, j int) bool {
			a, _ := strconv.ParseFloat(vs[i], 64)
			b, _ := strconv.ParseFloat(vs[j], 64)
			return a < b
		})
		return filepath.Join("/usr/lib/postgresql", vs[len(vs)-1], "bin")
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

// startPGCluster creates and starts a private cluster, stopped and removed
// when the test ends. Without the PostgreSQL binaries the test is skipped,
// except under CI=true, where .ci/run installs them: there it fails.
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		testutil.Unavailable(t, why, ".ci/run installs postgresql")
	}
	c := &pgCluster{t: t, bin: pgBinDir()}
	if c.bin == "" {
		missing("no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on the PATH")
	}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: run the cluster as postgres, in a
		// folder it owns (t.TempDir's parent is private to root).
		u, err := user.Lookup("postgres")
		if err != nil {
			missing("running as root and there is no postgres user to run initdb as")
		}
		c.as = u
		dir, err := os.MkdirTemp("", "jwtgate-pgcluster-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.dir = dir
	} else {
		c.dir = t.TempDir()
	}
	data := filepath.Join(c.dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "jwtgate", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Cleanup(func() { c.run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop") })
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Loopback only, no socket in the shared /var/run/postgresql, and no
	// durability work: the data lives as long as the test.
	_, err = fmt.Fprint(conf, "\n# jwtgate test cluster\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 16MB\nmax_connections = 40\n")
	if err == nil {
		err = conf.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	// A free port can be taken again before the server binds it: retry
	// with another.
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if err := os.WriteFile(filepath.Join(data, "postgresql.auto.conf"), fmt.Appendf(nil, "port = %d\n", c.port), 0o600); err != nil {
			t.Fatal(err)
		}
		c.chown(filepath.Join(data, "postgresql.auto.conf"))
		err = c.start()
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatal(err)
		}
	}
	c.url = fmt.Sprintf("postgres://jwtgate@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	return c
}

// run runs one of the PostgreSQL binaries, as the postgres user when the
// test runs as root.
func (c *pgCluster) run(name string, args ...string) (string, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	switch {
	case c.as == nil:
		cmd = exec.Command(path, args...)
	case haveRunuser():
		cmd = exec.Command("runuser", append([]string{"-u", c.as.Username, "--", path}, args...)...)
	default:
		q := []string{shellQuote(path)}
		for _, a := range args {
			q = append(q, shellQuote(a))
		}
		cmd = exec.Command("su", c.as.Username, "-s", "/bin/sh", "-c", strings.Join(q, " "))
	}
	cmd.Dir = c.dir // the postgres user may not enter the test's folder
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func haveRunuser() bool {
	_, err := exec.LookPath("runuser")
	return err == nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (c *pgCluster) chown(path string) {
	if c.as == nil {
		return
	}
	uid, _ := strconv.Atoi(c.as.Uid)
	gid, _ := strconv.Atoi(c.as.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		c.t.Fatal(err)
	}
}

func (c *pgCluster) start() error {
	out, err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start (port %d): %v\n%s\n%s", c.port, err, out, c.log())
	}
	return nil
}

// Start starts the stopped cluster again, on the same port.
func (c *pgCluster) Start() {
	c.t.Helper()
	if err := c.start(); err != nil {
		c.t.Fatal(err)
	}
}

// Stop stops the server with pg_ctl's mode ("fast": sessions are ended
// with "terminating connection due to administrator command").
func (c *pgCluster) Stop(mode string) {
	c.t.Helper()
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v\n%s\n%s", err, out, c.log())
	}
}

func (c *pgCluster) log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
	return string(b)
}
