package main

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestMeasureSetupOutsideWindow gives each worker a setup slower than the
// whole measurement (a login before refreshing): the rate must be that of
// op alone, so every setup ran before the clock started.
func TestMeasureSetupOutsideWindow(t *testing.T) {
	const conc, opTime, window = 4, 10 * time.Millisecond, 200 * time.Millisecond
	var setups atomic.Int32
	rate, failed, err := measure(conc, window, func() (any, error) {
		setups.Add(1)
		time.Sleep(2 * window)
		return new(atomic.Int64), nil
	}, func(st any) bool {
		st.(*atomic.Int64).Add(1) // the worker's own state
		time.Sleep(opTime)
		return true
	})
	if err != nil || failed != 0 {
		t.Fatalf("measure: %v, %d failed", err, failed)
	}
	if setups.Load() != conc {
		t.Fatalf("%d setups for %d workers", setups.Load(), conc)
	}
	// op alone: conc / opTime per second. Half of it leaves room for a
	// busy machine; a setup inside the window leaves about nothing, and a
	// clock started before the setups a third.
	if ideal := float64(conc) / opTime.Seconds(); rate < ideal/2 {
		t.Fatalf("rate %.0f/s, op alone allows %.0f/s: the setup was timed", rate, ideal)
	}
}

// TestMeasureSetupError stops before measuring when a setup fails (a
// refused login would otherwise count as failed refreshes).
func TestMeasureSetupError(t *testing.T) {
	var n atomic.Int32
	var ops atomic.Int64
	_, _, err := measure(3, 50*time.Millisecond, func() (any, error) {
		if n.Add(1) == 2 {
			return nil, errors.New("login refused")
		}
		return nil, nil
	}, func(any) bool { ops.Add(1); return true })
	if err == nil || ops.Load() != 0 {
		t.Fatalf("measure with a failed setup: err %v, %d ops run", err, ops.Load())
	}
}
