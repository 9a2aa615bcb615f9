package testutil

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is a settable time source, safe for use by the test and the code
// under test at once. Moving it forward stands for waiting that long: the
// timers it has handed out (Timer) fire as Set or Advance reaches them,
// never on their own. It keeps nanoseconds in an atomic, not a time under
// a lock, so that parallel benchmarks reading it do not contend; its times
// carry no monotonic reading.
type Clock struct {
	ns atomic.Int64

	mu     sync.Mutex
	timers map[*clockTimer]struct{} // pending
}

type clockTimer struct {
	at int64 // Unix nanoseconds
	c  chan time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the time the clock was last set to.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Set makes the clock read t and fires the timers due by then.
func (c *Clock) Set(t time.Time) {
	c.ns.Store(t.UnixNano())
	c.fire()
}

// Advance moves the clock forward by d and fires the timers due by then.
func (c *Clock) Advance(d time.Duration) {
	c.ns.Add(int64(d))
	c.fire()
}

// Timer returns a channel that receives the clock's time once the clock
// has moved d past its time now (at once if d <= 0), and a func that stops
// the timer, reporting whether it was still pending. It is time.NewTimer
// for code that waits on this clock.
func (c *Clock) Timer(d time.Duration) (<-chan time.Time, func() bool) {
	t := &clockTimer{c: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.ns.Load()
	if d <= 0 {
		t.c <- time.Unix(0, now)
		return t.c, func() bool { return false }
	}
	t.at = now + int64(d)
	if c.timers == nil {
		c.timers = map[*clockTimer]struct{}{}
	}
	c.timers[t] = struct{}{}
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, pending := c.timers[t]
		delete(c.timers, t)
		return pending
	}
}

// Timers returns how many timers are pending. Code that waits on the
// clock in a loop has a timer pending when it is idle, so a test can wait
// for that before moving the clock.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (c *Clock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.ns.Load()
	for t := range c.timers {
		if t.at <= now {
			t.c <- time.Unix(0, now)
			delete(c.timers, t)
		}
	}
}
