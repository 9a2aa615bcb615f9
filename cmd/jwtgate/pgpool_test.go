package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/postgres/pgtest"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

// withParam returns the connection URL u with one more query parameter.
func withParam(t *testing.T, u, key, value string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set(key, value)
	p.RawQuery = q.Encode()
	return p.String()
}

// TestDBMaxConns checks that --db-max-conns and $JWTGATE_DB_MAX_CONNS size
// the server's PostgreSQL pool. The test locks the posts table, sends more
// concurrent POST /posts than the pool may hold, and counts in
// pg_stat_activity the server's connections (by application_name) that
// wait on the lock: each holds a pool connection, so exactly the pool's
// size wait, however many requests there are.
func TestDBMaxConns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ctx := context.Background()
	db := pgtest.URL(t)
	if out, err := runBinary(t, "pool-password-1\n", "user", "add", "pam", "--role", "editor", "--db", db); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	locker, err := pgx.Connect(ctx, withParam(t, db, "application_name", "jwtgate-test-locker"))
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	monitor, err := pgx.Connect(ctx, withParam(t, db, "application_name", "jwtgate-test-monitor"))
	if err != nil {
		t.Fatal(err)
	}
	defer monitor.Close(ctx)

	for _, tc := range []struct {
		name string
		env  string // $JWTGATE_DB_MAX_CONNS
		args []string
		want int
	}{
		{"flag", "", []string{"--db-max-conns", "3"}, 3},
		{"environment", "4", nil, 4},
		{"flag over environment", "7", []string{"--db-max-conns", "2"}, 2},
		{"default", "", nil, postgres.DefaultMaxConns},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("JWTGATE_DB_MAX_CONNS", tc.env) // the child inherits it
			var b [6]byte
			rand.Read(b[:])
			app := "jwtgate-pool-" + hex.EncodeToString(b[:])
			// No background polls: a connection of the pool running one
			// would not be waiting on the lock when the test counts.
			p := startProcess(t, "", append([]string{"--db", withParam(t, db, "application_name", app),
				"--revocation-poll", "1h", "--key-reload", "1h"}, tc.args...)...)
			tok := login(t, p.base, "pam", "pool-password-1")

			tx, err := locker.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `LOCK TABLE posts IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			n := tc.want + 4
			codes := make(chan int, n)
			// Each request is in its handler once the server asks for the
			// body ("100 Continue"); its next step takes a pool connection
			// for the insert, which waits on the lock.
			client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
			var inHandler sync.WaitGroup
			inHandler.Add(n)
			sent := time.Now()
			for range n {
				go func() {
					var once sync.Once
					trace := &httptrace.ClientTrace{Got100Continue: func() { once.Do(inHandler.Done) }}
					req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace),
						"POST", p.base+"/posts", strings.NewReader(`{"title":"pooled"}`))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Expect", "100-continue")
					resp, err := client.Do(req)
					once.Do(inHandler.Done)
					if err != nil {
						t.Logf("POST /posts: %v", err)
						codes <- -1
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					codes <- resp.StatusCode
				}()
			}
			count := func() (total, waiting int) {
				t.Helper()
				err := monitor.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock')
					FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&total, &waiting)
				if err != nil {
					t.Fatal(err)
				}
				return total, waiting
			}
			inHandler.Wait()
			// Every request is about to take a connection; the pool's
			// worth hold one, waiting on the lock.
			took := testutil.Eventually(t, 20*time.Second, "the pool's connections waiting on the lock", func() bool {
				_, waiting := count()
				return waiting >= tc.want
			}) + time.Since(sent)
			// A larger pool opens its other connections meanwhile, as
			// fast as these: watch as long again, scaled to the machine's
			// speed rather than a fixed time.
			for end := time.Now().Add(took); ; {
				total, waiting := count()
				if waiting != tc.want || total != tc.want {
					t.Errorf("%d requests against a locked table: %d connections, %d waiting; want a pool of %d", n, total, waiting, tc.want)
					break
				}
				if time.Now().After(end) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			tx.Rollback(ctx)
			for range n {
				if code := <-codes; code != 201 {
					t.Errorf("POST /posts after the lock: %d", code)
				}
			}
			p.cmd.Process.Kill() // frees its connections for the next case
			<-p.done
		})
	}
}
