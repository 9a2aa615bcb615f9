// Command throughput measures jwtgate's request rate for login, refresh,
// GET /posts and POST /posts against one or more running instances
// (requests go round-robin across -urls, as behind a load balancer), one
// column per operation named in -ops. Loopback only.
//
//	go run ./throughput -urls http://127.0.0.1:18191,http://127.0.0.1:18192 -user bench -label "sqlite, 2 instances"
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	urls := flag.String("urls", "http://127.0.0.1:8080", "comma-separated base URLs of the instances (loopback)")
	user := flag.String("user", "bench", "username")
	pwEnv := flag.String("password-env", "BENCH_PASSWORD", "environment variable holding the password")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 5*time.Second, "duration of each measurement")
	label := flag.String("label", "", "row label")
	header := flag.Bool("header", false, "print the table header first")
	ops := flag.String("ops", "login,refresh,get-posts", "comma-separated columns: login, refresh, get-posts, post-posts")
	flag.Parse()
	bases := strings.Split(*urls, ",")
	for _, b := range bases {
		if !strings.HasPrefix(b, "http://127.") {
			fmt.Fprintln(os.Stderr, "throughput only targets loopback")
			os.Exit(2)
		}
	}
	loginBody := fmt.Sprintf(`{"username":%q,"password":%q}`, *user, os.Getenv(*pwEnv))
	var rr atomic.Uint64
	base := func() string { return bases[rr.Add(1)%uint64(len(bases))] }
	// Each worker has its own connections, found by its state; a nil key
	// (setup, the calls outside the measurement) gets a client of its own.
	var clients sync.Map // worker state → *client
	clientOf := func(key any) *client {
		if key == nil {
			return &client{}
		}
		if c, ok := clients.Load(key); ok {
			return c.(*client)
		}
		c, _ := clients.LoadOrStore(key, &client{})
		return c.(*client)
	}
	post := func(key any, url, token, body string) (int, map[string]any) {
		code, b := clientOf(key).do("POST", url, token, body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return code, m
	}
	get := func(key any, url, token string) int {
		code, _ := clientOf(key).do("GET", url, token, "")
		return code
	}
	run := func(setup func() (any, error), op func(state any) bool) (float64, int64) {
		rate, failed, err := measure(*conc, *dur, setup, op)
		if err != nil {
			fmt.Fprintln(os.Stderr, "throughput:", err)
			os.Exit(1)
		}
		return rate, failed
	}
	_, m := post(nil, bases[0]+"/login", "", loginBody)
	token, _ := m["access_token"].(string)
	if token == "" {
		fmt.Fprintln(os.Stderr, "cannot log in:", m)
		os.Exit(1)
	}
	post(nil, bases[0]+"/posts", token, `{"title":"bench","body":"a post to list"}`)

	noSetup := func() (any, error) { return new(int), nil } // a key for the worker's client
	type session struct{ refresh string }
	columns := map[string]struct {
		title string
		setup func() (any, error)
		op    func(state any) bool
	}{
		"login": {"login/s", noSetup, func(st any) bool {
			code, _ := post(st, base()+"/login", "", loginBody)
			return code == 200
		}},
		// Each worker logs in (an argon2id hash) before the clock starts:
		// the column measures refreshes only.
		"refresh": {"refresh/s", func() (any, error) {
			for try := 0; ; try++ {
				code, m := post(nil, base()+"/login", "", loginBody)
				if s, _ := m["refresh_token"].(string); code == 200 && s != "" {
					return &session{s}, nil
				}
				if code != http.StatusServiceUnavailable || try == 4 { // 503: hashing slots busy
					return nil, fmt.Errorf("login before the refresh measurement: %d %v", code, m)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}, func(st any) bool {
			s := st.(*session)
			code, b := clientOf(s).do("POST", base()+"/refresh", "", `{"refresh_token":"`+s.refresh+`"}`)
			var m struct {
				RefreshToken string `json:"refresh_token"`
			}
			if code != 200 || json.Unmarshal(b, &m) != nil || m.RefreshToken == "" {
				return false
			}
			s.refresh = m.RefreshToken
			return true
		}},
		"get-posts": {"GET /posts/s", noSetup, func(st any) bool {
			return get(st, base()+"/posts?limit=20", token) == 200
		}},
		"post-posts": {"POST /posts/s", noSetup, func(st any) bool {
			code, _ := clientOf(st).do("POST", base()+"/posts", token, `{"title":"bench","body":"a post written by the benchmark"}`)
			return code == 201
		}},
	}
	names := strings.Split(*ops, ",")
	titles := []string{"setup"}
	for _, n := range names {
		c, ok := columns[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "throughput: unknown -ops column %q\n", n)
			os.Exit(2)
		}
		titles = append(titles, c.title)
	}
	row := []string{*label}
	var failed int64
	for _, n := range names {
		rate, bad := run(columns[n].setup, columns[n].op)
		row = append(row, fmt.Sprintf("%.0f", rate))
		failed += bad
	}
	if *header {
		fmt.Println("| " + strings.Join(append(titles, "failed"), " | ") + " |")
		fmt.Println("| --- |" + strings.Repeat(" ---: |", len(names)+1))
	}
	fmt.Println("| " + strings.Join(append(row, fmt.Sprint(failed)), " | ") + " |")
}

// measure calls op from conc workers for d and returns the successes per
// second and the number of failures. Each worker first gets its state
// from setup (for the refresh column, a login); every setup has finished
// before the clock starts, so their cost is not in the rate. A setup
// error ends the measurement before it starts.
func measure(conc int, d time.Duration, setup func() (any, error), op func(state any) bool) (float64, int64, error) {
	states := make([]any, conc)
	errs := make([]error, conc)
	var wg sync.WaitGroup
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			states[i], errs[i] = setup()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	var ok, bad atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if op(states[i]) {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds(), bad.Load(), nil
}
