// Command loadtest measures jwtgate's login path: latency (median, p99) at
// several concurrencies and the server's peak RSS while 200 logins run at
// once. It talks to a running server over loopback only.
//
//	go run ./loadtest -url http://127.0.0.1:8080 -user bench -pid $(pidof jwtgate)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server base URL (loopback)")
	user := flag.String("user", "bench", "username")
	pw := flag.String("password-env", "BENCH_PASSWORD", "environment variable holding the password")
	pid := flag.Int("pid", 0, "server process id, to read its peak RSS")
	n := flag.Int("n", 60, "logins per concurrency level")
	flag.Parse()
	if !strings.HasPrefix(*url, "http://127.") && !strings.HasPrefix(*url, "http://localhost") {
		fmt.Fprintln(os.Stderr, "loadtest only targets loopback")
		os.Exit(2)
	}
	body := []byte(fmt.Sprintf(`{"username":%q,"password":%q}`, *user, os.Getenv(*pw)))
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	login := func() (time.Duration, int) {
		start := time.Now()
		resp, err := client.Post(*url+"/login", "application/json", bytes.NewReader(body))
		if err != nil {
			return time.Since(start), 0
		}
		resp.Body.Close()
		return time.Since(start), resp.StatusCode
	}
	fmt.Println("| concurrency | logins | median | p99 | statuses |")
	fmt.Println("| ---: | ---: | ---: | ---: | --- |")
	for _, c := range []int{1, 2, 64, 200} {
		total := *n
		if c > total {
			total = c
		}
		lat := make([]time.Duration, 0, total)
		status := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		jobs := make(chan struct{}, total)
		for i := 0; i < total; i++ {
			jobs <- struct{}{}
		}
		close(jobs)
		for w := 0; w < c; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					d, s := login()
					mu.Lock()
					lat = append(lat, d)
					status[s]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Printf("| %d | %d | %v | %v | %v |\n", c, total, lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), status)
	}
	if *pid > 0 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					fmt.Println("\nserver peak RSS (VmHWM):", strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")))
				}
			}
		}
	}
}
