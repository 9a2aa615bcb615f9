package testutil

import (
	"sync/atomic"
	"time"
)

// Clock is a settable time source, safe for use by the test and the code
// under test at once. Moving it forward stands for waiting that long. It
// keeps nanoseconds in an atomic, not a time under a lock, so that parallel
// benchmarks reading it do not contend; its times carry no monotonic
// reading.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the time the clock was last set to.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Set makes the clock read t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
