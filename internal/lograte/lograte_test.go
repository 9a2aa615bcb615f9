package lograte

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

func newLogger(every time.Duration) (*slog.Logger, *Handler, *testutil.LockedBuffer) {
	b := &testutil.LockedBuffer{}
	h := New(slog.NewJSONHandler(b, nil), Options{Every: every})
	return slog.New(h), h, b
}

func TestStormIsOneLine(t *testing.T) {
	log, h, b := newLogger(time.Hour)
	down := errors.New("sqlite: create session: storage unavailable (database or disk is full (13))")
	other := errors.New("sqlite: revoke: storage unavailable (database or disk is full (13))")
	const n = 10000
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := log.With("worker", g) // derived loggers share the groups
			for i := range n / 4 {
				l.Warn("storage unavailable", "request_id", i, "err", down.Error())
				l.Info("request", "status", 503)
			}
		}()
	}
	wg.Wait()
	log.Warn("storage unavailable", "err", other.Error())
	log.Error("internal error", "err", down.Error())

	lines := testutil.JSONLines(t, b.String())
	var warns, infos, errs int
	for _, l := range lines {
		switch l["level"] {
		case "WARN":
			warns++
		case "INFO":
			infos++
		case "ERROR":
			errs++
		}
	}
	// One line per distinct failure; the access log (INFO) is untouched.
	if warns != 2 || errs != 1 || infos != n {
		t.Fatalf("%d WARN (want 2: one per err), %d ERROR (want 1), %d INFO (want %d)", warns, errs, infos, n)
	}
	h.Flush()
	lines = testutil.JSONLines(t, b.String())
	last := lines[len(lines)-1]
	if last["msg"] != "storage unavailable" || last["err"] != down.Error() || last["suppressed"] != float64(n-1) {
		t.Fatalf("after Flush: %v, want the held-back count %d", last, n-1)
	}
	if len(lines) != 2+1+n+1 {
		t.Fatalf("%d lines after Flush, want %d", len(lines), 2+1+n+1)
	}
}

// TestIntervals: a failure that goes on is written once per interval with
// the count held back, none is lost, and a failure that stopped is
// forgotten: its next occurrence is written at once.
func TestIntervals(t *testing.T) {
	log, h, b := newLogger(20 * time.Millisecond)
	const n = 500
	for range n {
		log.Warn("storage unavailable", "err", "disk full")
	}
	total := func() (lines, records int) {
		for _, l := range testutil.JSONLines(t, b.String()) {
			lines++
			records++
			if s, ok := l["suppressed"].(float64); ok {
				records += int(s) - 1 // the line itself is the last of them
			}
		}
		return
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, rec := total(); rec == n {
			break
		}
		if time.Now().After(deadline) {
			lines, rec := total()
			t.Fatalf("%d lines stand for %d records, want %d", lines, rec, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lines, _ := total(); lines > n/10 {
		t.Fatalf("%d lines for %d records", lines, n)
	}
	// Quiet for an interval: forgotten, so the next one is written at once.
	for {
		h.st.mu.Lock()
		empty := len(h.st.groups) == 0
		h.st.mu.Unlock()
		if empty {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a quiet group was never forgotten")
		}
		time.Sleep(5 * time.Millisecond)
	}
	before, _ := total()
	log.Warn("storage unavailable", "err", "disk full")
	if after, _ := total(); after != before+1 {
		t.Fatalf("the first record after a quiet interval was held back")
	}
}

func TestMaxGroupsPassesTheRest(t *testing.T) {
	b := &testutil.LockedBuffer{}
	log := slog.New(New(slog.NewJSONHandler(b, nil), Options{Every: time.Hour, MaxGroups: 2}))
	for i := range 5 {
		log.Warn("failure", "err", strings.Repeat("x", i))
	}
	if n := len(testutil.JSONLines(t, b.String())); n != 5 {
		t.Fatalf("%d lines, want 5 (distinct failures are never dropped)", n)
	}
}
