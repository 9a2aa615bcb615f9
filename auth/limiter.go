package auth

import (
	"sync"
	"time"
)

// Limiter is a set of token buckets keyed by a string (a client IP, a
// username). Each key may spend Burst attempts at once, refilled at one per
// Every. It lives in memory: with several instances each has its own.
type Limiter struct {
	Every time.Duration
	Burst int
	Now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds memory under a flood of distinct keys; full buckets are
// dropped first since forgetting them changes nothing.
const maxBuckets = 100_000

// NewLimiter returns a limiter; every <= 0 or burst <= 0 disables it.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{Every: every, Burst: burst, Now: time.Now, buckets: map[string]*bucket{}}
}

// Allow spends one attempt for key, or says how long until one is free.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.Every <= 0 || l.Burst <= 0 {
		return true, 0
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.Burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(l.Burst), b.tokens+float64(now.Sub(b.last))/float64(l.Every))
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.Every))
	return false, max(wait, time.Second)
}

func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.Every) >= float64(l.Burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets { // all busy: forget arbitrary ones
		n := 0
		for k := range l.buckets {
			delete(l.buckets, k)
			if n++; n >= maxBuckets/10 {
				break
			}
		}
	}
}
