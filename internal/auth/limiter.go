package auth

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// RateLimiter is a login limit (see Service.Login): token buckets keyed
// by a string. Limiter keeps them in memory; a store may keep them in the
// database, shared by every instance on it.
type RateLimiter interface {
	// Spend takes one attempt for key, or says how long until one is
	// free. An error (the limiter's storage failed) grants nothing: the
	// caller refuses the attempt.
	Spend(ctx context.Context, key string) (ok bool, wait time.Duration, err error)
	// Refund gives back an attempt that Spend granted for key and that
	// turned out not to count.
	Refund(ctx context.Context, key string) error
}

var _ RateLimiter = (*Limiter)(nil)

// Limiter is a set of token buckets keyed by a string (a client IP, a
// username). Each key may spend Burst attempts at once, refilled at one per
// Every. It lives in memory: with several instances each has its own.
//
// The zero value is ready to use and disabled; a Limiter built as a literal
// works like one from NewLimiter. Set the fields before the first Allow.
type Limiter struct {
	Every time.Duration
	Burst int
	Now   func() time.Time // time.Now if nil

	mu      sync.Mutex
	buckets map[string]*bucket
	max     int // maxBuckets unless a test sets it
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds memory under a flood of distinct keys (about 200 bytes
// each with a 64-byte username in the key).
const maxBuckets = 100_000

// NewLimiter returns a limiter; every <= 0 or burst <= 0 disables it.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{Every: every, Burst: burst}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Limiter) off() bool { return l == nil || l.Every <= 0 || l.Burst <= 0 }

// Allow spends one attempt for key, or says how long until one is free.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l.off() {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.limit() {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.Burst), last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.Every))
	return false, max(wait, time.Second)
}

// Spend is Allow, as a RateLimiter; it never fails.
func (l *Limiter) Spend(_ context.Context, key string) (bool, time.Duration, error) {
	ok, wait := l.Allow(key)
	return ok, wait, nil
}

// Refund is Return, as a RateLimiter; it never fails.
func (l *Limiter) Refund(_ context.Context, key string) error {
	l.Return(key)
	return nil
}

// Return gives back an attempt that Allow granted for key and that turned
// out not to count (a successful login).
func (l *Limiter) Return(key string) {
	if l.off() {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		l.refill(b, now)
		b.tokens = min(float64(l.Burst), b.tokens+1)
	}
}

func (l *Limiter) limit() int {
	if l.max > 0 {
		return l.max
	}
	return maxBuckets
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if now.After(b.last) {
		b.tokens = min(float64(l.Burst), b.tokens+float64(now.Sub(b.last))/float64(l.Every))
		b.last = now
	}
}

// prune makes room for a new key. Full buckets go first, since forgetting
// them changes nothing. If that is not enough (a flood of distinct keys),
// the fullest tenth goes: the keys that failed least or longest ago, so a
// flood cannot make the limiter forget the key it is busy refusing.
func (l *Limiter) prune(now time.Time) {
	levels := make([]float64, 0, len(l.buckets))
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= float64(l.Burst) {
			delete(l.buckets, k)
		} else {
			levels = append(levels, b.tokens)
		}
	}
	if len(l.buckets) < l.limit() {
		return
	}
	slices.Sort(levels)
	cut := levels[len(levels)-len(levels)/10]
	for k, b := range l.buckets {
		if b.tokens >= cut {
			delete(l.buckets, k)
		}
	}
}

// recentSet remembers keys for ttl, at most maxRecent of them; the oldest
// are forgotten first.
type recentSet struct {
	mu   sync.Mutex
	seen map[string]time.Time
	max  int // maxRecent unless a test sets it
}

const maxRecent = 100_000

func (s *recentSet) add(key string, now time.Time, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	limit := maxRecent
	if s.max > 0 {
		limit = s.max
	}
	if _, ok := s.seen[key]; !ok && len(s.seen) >= limit {
		times := make([]time.Time, 0, len(s.seen))
		for k, t := range s.seen {
			if now.Sub(t) >= ttl {
				delete(s.seen, k)
			} else {
				times = append(times, t)
			}
		}
		if len(s.seen) >= limit {
			slices.SortFunc(times, time.Time.Compare)
			cut := times[len(times)/10]
			for k, t := range s.seen {
				if !t.After(cut) {
					delete(s.seen, k)
				}
			}
		}
	}
	s.seen[key] = now
}

func (s *recentSet) has(key string, now time.Time, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.seen[key]
	return ok && now.Sub(t) < ttl
}

// clientKeys returns the rate-limit identities of a client address: addr
// for limits per client, the address itself for IPv4 and its /64 for IPv6
// (one IPv6 host usually controls a whole /64 and could otherwise rotate
// past the limit); network, its /24 (IPv4) or /64 (IPv6), for limits per
// username and client. Text that is not an IP address is its own key.
func clientKeys(ip string) (addr, network string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip, ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		p, _ := a.Prefix(24)
		return a.String(), p.String()
	}
	p, _ := a.Prefix(64)
	return p.String(), p.String()
}
