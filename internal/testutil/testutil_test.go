package testutil

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine, as the testing
// package runs a test, so that Goexit ends only f.
func run(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		ci, wantFatal, wantSkip string
	}{
		{"", "", "no tool"},
		{"false", "", "no tool"},
		{"true", "no tool: under CI=true this test must run (install it)", ""},
	} {
		t.Setenv("CI", tc.ci)
		r := run(func(tb testing.TB) { Unavailable(tb, "no tool", "install it") })
		if r.fatal != tc.wantFatal || r.skip != tc.wantSkip {
			t.Errorf("CI=%q: fatal %q skip %q, want fatal %q skip %q", tc.ci, r.fatal, r.skip, tc.wantFatal, tc.wantSkip)
		}
	}
}

func TestClock(t *testing.T) {
	start := time.Unix(1_700_000_000, 5)
	c := NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after Advance: %v, want %v", c.Now(), want)
	}
	later := time.Unix(1_800_000_000, 0)
	c.Set(later)
	if !c.Now().Equal(later) {
		t.Fatalf("after Set: %v, want %v", c.Now(), later)
	}
}

func TestClockTimers(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	c := NewClock(start)
	fired := func(ch <-chan time.Time) (time.Time, bool) {
		select {
		case at := <-ch:
			return at, true
		default:
			return time.Time{}, false
		}
	}
	now, _ := c.Timer(0)
	if at, ok := fired(now); !ok || !at.Equal(start) {
		t.Errorf("Timer(0): %v %v, want to fire at once at %v", at, ok, start)
	}
	second, _ := c.Timer(time.Second)
	minute, _ := c.Timer(time.Minute)
	stopped, stop := c.Timer(time.Second)
	if !stop() || stop() {
		t.Error("stop: want true for a pending timer, then false")
	}
	if n := c.Timers(); n != 2 {
		t.Fatalf("%d timers pending, want 2", n)
	}
	c.Advance(999 * time.Millisecond)
	if _, ok := fired(second); ok {
		t.Error("a 1s timer fired after 999ms")
	}
	c.Advance(time.Millisecond)
	if at, ok := fired(second); !ok || !at.Equal(start.Add(time.Second)) {
		t.Errorf("1s timer after 1s: %v %v", at, ok)
	}
	if _, ok := fired(stopped); ok {
		t.Error("a stopped timer fired")
	}
	c.Set(start.Add(time.Hour))
	if at, ok := fired(minute); !ok || !at.Equal(start.Add(time.Hour)) {
		t.Errorf("1m timer after Set an hour on: %v %v", at, ok)
	}
	if n := c.Timers(); n != 0 {
		t.Errorf("%d timers pending after all fired, want 0", n)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	run(func(tb testing.TB) { Eventually(tb, time.Minute, "three calls", func() bool { n++; return n == 3 }) })
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
	r := run(func(tb testing.TB) { Eventually(tb, 10*time.Millisecond, "never", func() bool { return false }) })
	if !strings.HasPrefix(r.fatal, "never: not within") {
		t.Errorf("failure %q, want it to name the condition", r.fatal)
	}
}

func TestLockedBufferAndJSONLines(t *testing.T) {
	var b LockedBuffer
	done := make(chan struct{})
	for i := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			fmt.Fprintf(&b, "{\"n\":%d}\n", i)
		}()
	}
	for range 4 {
		<-done
	}
	lines := JSONLines(t, b.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines in %q, want 4", len(lines), b.String())
	}
	r := run(func(tb testing.TB) { JSONLines(tb, "{}\nnot json\n") })
	if !strings.Contains(r.fatal, `"not json"`) {
		t.Errorf("failure %q, want it to quote the bad line", r.fatal)
	}
}
