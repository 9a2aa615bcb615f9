package auth

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// The revocation benchmarks run each case on Revocations ("table") and on
// the copy-on-write map ("copying"), with 0 and 1M ids held, so that one
// run gives both sides. The held ids end evenly over the next 16 minutes
// (a busy server's access-token age), one every 0.96 ms. With -count a
// case runs again on the same set, its clock going on.
//
//	go test -run '^$' -bench 'Revocations' -count 6 ./internal/auth/
const (
	benchHeldMany = 1_000_000
	benchSpan     = 16 * time.Minute
)

var benchSets = []struct {
	name string
	make func() revocationSet
}{
	{"table", func() revocationSet { return &Revocations{} }},
	{"copying", func() revocationSet { return &copyingRevocations{} }},
}

// benchID is the i-th id of a family, shaped like a jti or sid (16 bytes,
// base64url).
func benchID(family byte, i int) string {
	var b [16]byte
	b[0] = family
	binary.LittleEndian.PutUint64(b[8:], uint64(i)*0x9E3779B97F4A7C15) // spread the bytes
	binary.LittleEndian.PutUint32(b[1:], uint32(i))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// benchIDs is 1<<20 ids of a family, made once per run.
var benchIDs = map[byte][]string{}

func benchIDsOf(family byte) []string {
	if ids, ok := benchIDs[family]; ok {
		return ids
	}
	ids := make([]string, 1<<20)
	for i := range ids {
		ids[i] = benchID(family, i)
	}
	benchIDs[family] = ids
	return ids
}

// fillRevocations adds held ids to r in one call, as a server's first
// poll loads them, the i-th ending at t0 + (i+1) spacing, and returns
// spacing.
func fillRevocations(r revocationSet, t0 time.Time, held int) time.Duration {
	spacing := benchSpan / benchHeldMany
	revs := make([]Revocation, held)
	for i := range revs {
		revs[i] = Revocation{ID: benchID('h', i), Until: t0.Add(time.Duration(i+1) * spacing)}
	}
	r.Add(t0, revs...)
	return spacing
}

func BenchmarkRevocations(b *testing.B) {
	t0 := time.Unix(1_700_000_000, 0)
	newIDs, otherIDs := benchIDsOf('n'), benchIDsOf('o')
	for _, held := range []int{0, benchHeldMany} {
		for _, set := range benchSets {
			r := set.make()
			spacing := fillRevocations(r, t0, held)
			if r.Len() != held {
				b.Fatalf("%s holds %d, want %d", set.name, r.Len(), held)
			}
			heldID := benchID('h', held-1) // the last to expire
			name := func(op string) string { return fmt.Sprintf("%s/held=%d/%s", op, held, set.name) }

			// A poll that finds nothing new: what an idle server does every
			// --revocation-poll.
			b.Run(name("poll-idle"), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					r.Add(t0)
				}
			})
			// Has as GET /me calls it: the same token's id over and over,
			// held or not; and ids not held, a different one each time
			// (each lookup meets a cold part of a large set).
			if held > 0 {
				b.Run(name("has-hit"), func(b *testing.B) {
					for range b.N {
						if !r.Has(heldID) {
							b.Fatal("held id not found")
						}
					}
				})
			}
			b.Run(name("has-miss"), func(b *testing.B) {
				id := otherIDs[0]
				for range b.N {
					if r.Has(id) {
						b.Fatal("found an id never added")
					}
				}
			})
			b.Run(name("has-miss-spread"), func(b *testing.B) {
				for i := range b.N {
					if r.Has(otherIDs[i&(len(otherIDs)-1)]) {
						b.Fatal("found an id never added")
					}
				}
			})
			// A poll that re-reads 100 ids it holds already (the overlap
			// window of a poll, here ids revoked just now) and nothing else.
			window := make([]Revocation, 100)
			for i := range window {
				window[i] = Revocation{ID: benchID('w', i), Until: t0.Add(spacing / 2)} // gone at the first logout below
			}
			b.Run(name("poll-reread100"), func(b *testing.B) {
				b.ReportAllocs()
				r.Add(t0, window...)
				b.ResetTimer()
				for range b.N {
					if r.Add(t0, window...) != 0 {
						b.Fatal("an id re-read was new")
					}
				}
			})
			// A logout in the steady state: one id in (Until 16 minutes
			// on), and the one whose Until has come out, so the set keeps
			// its size. With none held the id added ends at the next.
			// The clock and the ids go on across the calls with growing b.N.
			now, next := t0, 0
			one := make([]Revocation, 1)
			b.Run(name("logout"), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					now = now.Add(spacing)
					one[0] = Revocation{ID: newIDs[next&(len(newIDs)-1)], Until: now.Add(time.Duration(max(held, 1)) * spacing)}
					next++
					if r.Add(now, one...) != 1 {
						b.Fatal("the logout's id was not new")
					}
				}
			})
			r = nil
			runtime.GC()
		}
	}
}

// BenchmarkRevocationsMemory reports the heap held per id with 1M ids
// (after a collection), the bytes allocated while loading them, and how
// much longer a collection takes with them held.
func BenchmarkRevocationsMemory(b *testing.B) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, set := range benchSets {
		b.Run(set.name, func(b *testing.B) {
			for range b.N {
				var before, after runtime.MemStats
				gcBefore := gcTime()
				runtime.ReadMemStats(&before)
				r := set.make()
				fillRevocations(r, t0, benchHeldMany)
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchHeldMany, "heap-B/id")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/benchHeldMany, "alloc-B/id")
				// What every GC cycle costs more with the set held.
				b.ReportMetric(float64((gcTime()-gcBefore).Microseconds())/1e3, "gc-ms")
				runtime.KeepAlive(r)
			}
		})
	}
}

// gcTime is the median time of a few forced collections.
func gcTime() time.Duration {
	var ds [5]time.Duration
	for i := range ds {
		start := time.Now()
		runtime.GC()
		ds[i] = time.Since(start)
	}
	slices.Sort(ds[:])
	return ds[len(ds)/2]
}
