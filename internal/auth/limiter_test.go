package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestClientKeys(t *testing.T) {
	for _, tc := range []struct{ in, addr, network string }{
		{"192.0.2.7", "192.0.2.7", "192.0.2.0/24"},
		{"192.0.2.255", "192.0.2.255", "192.0.2.0/24"},
		{"::ffff:192.0.2.7", "192.0.2.7", "192.0.2.0/24"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64", "fe80::/64"},
		{"not an ip", "not an ip", "not an ip"},
		{"", "", ""},
	} {
		if addr, network := clientKeys(tc.in); addr != tc.addr || network != tc.network {
			t.Errorf("clientKeys(%q) = %q, %q; want %q, %q", tc.in, addr, network, tc.addr, tc.network)
		}
	}
}

func TestLimiterReturn(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(10*time.Second, 2)
	l.Now = func() time.Time { return now }
	for range 5 { // returned attempts never count
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("refused although every attempt was returned")
		}
		l.Return("k")
	}
	l.Return("k") // never above the burst
	l.Return("unknown")
	for i := range 2 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("attempt %d refused within burst", i)
		}
	}
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("Return raised the bucket above its burst")
	}
	var off *Limiter
	off.Return("k")
}

// A flood of distinct keys makes the limiter forget idle keys, not the
// one it is refusing.
func TestLimiterFloodKeepsBusyKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(time.Hour, 3)
	l.Now = func() time.Time { return now }
	l.max = 1000
	for range 3 {
		l.Allow("target")
	}
	for i := range l.max * 3 {
		l.Allow(fmt.Sprint("flood", i))
		if i%100 == 0 {
			now = now.Add(time.Millisecond)
		}
	}
	if n := len(l.buckets); n > l.max {
		t.Errorf("%d buckets held, want at most %d", n, l.max)
	}
	if ok, _ := l.Allow("target"); ok {
		t.Error("the flood made the limiter forget a spent key")
	}
}

func TestRecentSetBounded(t *testing.T) {
	s := recentSet{max: 1000}
	start := time.Unix(1000, 0)
	const ttl = time.Hour
	s.add("first", start, ttl)
	for i := range s.max + 10 {
		s.add(fmt.Sprint("k", i), start.Add(time.Duration(i+1)*time.Millisecond), ttl)
	}
	now := start.Add(time.Duration(s.max+11) * time.Millisecond)
	if n := len(s.seen); n > s.max {
		t.Errorf("%d keys held, want at most %d", n, s.max)
	}
	if s.has("first", now, ttl) {
		t.Error("the oldest key survived the overflow")
	}
	if last := fmt.Sprint("k", s.max+9); !s.has(last, now, ttl) || s.has(last, now.Add(ttl), ttl) {
		t.Error("the newest key is not held exactly for ttl")
	}
}

// A Limiter built without NewLimiter works: the zero value lets everything
// through, and a literal limits like a constructed one.
func TestLimiterZeroValue(t *testing.T) {
	var zero Limiter
	for range 3 {
		if ok, _ := zero.Allow("k"); !ok {
			t.Fatal("zero Limiter refused an attempt")
		}
	}
	zero.Return("k")

	for _, tc := range []struct {
		name string
		l    *Limiter
	}{
		{"literal", &Limiter{Every: time.Hour, Burst: 2}},
		{"literal with clock", &Limiter{Every: time.Hour, Burst: 2, Now: func() time.Time { return time.Unix(1000, 0) }}},
		{"constructor", NewLimiter(time.Hour, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.Return("k") // before any Allow
			for i := range 2 {
				if ok, _ := tc.l.Allow("k"); !ok {
					t.Fatalf("attempt %d refused within burst", i)
				}
			}
			if ok, wait := tc.l.Allow("k"); ok || wait <= 0 {
				t.Fatalf("third attempt: ok=%v wait=%v, want refused with a wait", ok, wait)
			}
		})
	}
}
