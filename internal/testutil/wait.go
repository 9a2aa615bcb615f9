package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds and returns how long that took; it
// fails the test if cond does not hold within limit. what names the
// condition in the failure.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	// Short limits poll often, so that a measured wait stays close to the
	// truth; long ones (conditions that cost a request) less so.
	every := min(max(limit/200, time.Millisecond), 20*time.Millisecond)
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(every)
	}
	return time.Since(start)
}
