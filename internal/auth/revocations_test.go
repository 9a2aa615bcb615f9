package auth

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRevocationsMatchReference drives Revocations and the copy-on-write
// map with the same random calls on a test clock and compares every
// answer: Add's count, Len, and Has for the ids just written and, now and
// then, for every id (ids expire at their Until, a later Until extends, an
// earlier one does not shorten, the empty id is never held). The cases
// make the tables grow, shed deleted slots and shrink again.
func TestRevocationsMatchReference(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ids      int           // distinct ids
		batch    int           // at most this many revocations per Add
		maxUntil time.Duration // Untils fall in now-2s .. now+maxUntil, on whole ms
		maxStep  time.Duration // the clock advances 0 .. maxStep per Add
		jumpOdds int           // 1 in jumpOdds Adds the clock jumps past every Until
		steps    int
	}{
		{"few ids, many extensions", 40, 4, 5 * time.Second, 300 * time.Millisecond, 0, 3000},
		{"equal instants", 200, 6, 20 * time.Millisecond, 5 * time.Millisecond, 0, 3000},
		{"growth, expiry and shrinking", 5000, 300, 30 * time.Second, 400 * time.Millisecond, 150, 800},
		{"everything expires at once", 3000, 500, 2 * time.Second, 0, 20, 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 14))
			ids := make([]string, tc.ids)
			for i := range ids {
				ids[i] = fmt.Sprintf("id-%d", i)
			}
			now := time.Unix(1_700_000_000, 0)
			got, want := &Revocations{}, &copyingRevocations{}
			var revs []Revocation
			for step := range tc.steps {
				switch {
				case tc.jumpOdds > 0 && rng.IntN(tc.jumpOdds) == 0:
					now = now.Add(tc.maxUntil + time.Second)
				case tc.maxStep > 0:
					now = now.Add(time.Duration(rng.Int64N(int64(tc.maxStep/time.Millisecond)+1)) * time.Millisecond)
				}
				revs = revs[:0]
				for range rng.IntN(tc.batch + 1) {
					rv := Revocation{Until: now.Add(time.Duration(rng.Int64N(int64((tc.maxUntil+2*time.Second)/time.Millisecond)+1))*time.Millisecond - 2*time.Second)}
					if rng.IntN(20) > 0 {
						rv.ID = ids[rng.IntN(len(ids))]
					}
					revs = append(revs, rv)
				}
				if g, w := got.Add(now, revs...), want.Add(now, revs...); g != w {
					t.Fatalf("step %d: Add = %d, want %d", step, g, w)
				}
				if g, w := got.Len(), want.Len(); g != w {
					t.Fatalf("step %d: Len = %d, want %d", step, g, w)
				}
				for _, rv := range revs {
					if g, w := got.Has(rv.ID), want.Has(rv.ID); g != w {
						t.Fatalf("step %d: Has(%q) = %v, want %v", step, rv.ID, g, w)
					}
				}
				if step%50 == 0 || step == tc.steps-1 {
					for _, id := range ids {
						if g, w := got.Has(id), want.Has(id); g != w {
							t.Fatalf("step %d: Has(%q) = %v, want %v", step, id, g, w)
						}
					}
					checkRevocationTables(t, got)
				}
			}
		})
	}
}

// checkRevocationTables checks the invariants readers rely on: each table
// at most half used, its counts right, and every entry findable.
func checkRevocationTables(t *testing.T, r *Revocations) {
	t.Helper()
	total := 0
	for i := range r.shards {
		tab := r.shards[i].Load()
		if tab == nil {
			continue
		}
		used, live := 0, 0
		for j := range tab.slots {
			s := &tab.slots[j]
			switch k := s.key.Load(); k {
			case slotEmpty:
			case slotDeleted:
				used++
			default:
				used++
				live++
				if k>>(64-revShardBits) != uint64(i) {
					t.Fatalf("shard %d slot %d: key %#x belongs to another shard", i, j, k)
				}
				if tab.find(k, s.check.Load()) != j {
					t.Fatalf("shard %d slot %d: key %#x not found", i, j, k)
				}
			}
		}
		if used != tab.used || live != tab.live || used*2 > len(tab.slots) {
			t.Fatalf("shard %d: %d slots, used %d (counted %d), live %d (counted %d)", i, len(tab.slots), tab.used, used, tab.live, live)
		}
		total += live
	}
	if total != r.Len() {
		t.Fatalf("tables hold %d ids, Len says %d", total, r.Len())
	}
}

// Readers never wait for a writer and must never miss an id whose Add has
// returned, nor see one never added, while the writer adds, expires, grows
// and shrinks the tables under them. Run it with -race.
func TestRevocationsReadersDuringWrites(t *testing.T) {
	const rounds, perRound, readers = 200, 64, 3
	var r Revocations
	now := time.Unix(1_700_000_000, 0)
	var committed atomic.Int64 // stable-0 .. stable-(committed-1) are added
	var reads atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for {
				select {
				case <-done:
					return
				default:
				}
				k := committed.Load()
				if k > 0 {
					id := fmt.Sprintf("stable-%d", rng.Int64N(k))
					if !r.Has(id) {
						t.Errorf("%s was added but is not held", id)
						return
					}
				}
				if id := fmt.Sprintf("never-%d", rng.IntN(1000)); r.Has(id) {
					t.Errorf("%s is held but was never added", id)
					return
				}
				r.Has(fmt.Sprintf("churn-%d", rng.IntN(rounds*perRound)))
				if n := r.Len(); int64(n) < k {
					t.Errorf("Len = %d with %d ids added for good", n, k)
					return
				}
				reads.Add(1)
			}
		}()
	}
	revs := make([]Revocation, perRound)
	for round := range rounds {
		for i := range revs {
			revs[i] = Revocation{ID: fmt.Sprintf("stable-%d", round*perRound+i), Until: now.Add(time.Hour)}
		}
		r.Add(now, revs...)
		committed.Store(int64((round + 1) * perRound))
		// Ids that expire a few rounds later, so that tables also lose
		// ids and shed deleted slots while readers probe them.
		for i := range revs {
			revs[i] = Revocation{ID: fmt.Sprintf("churn-%d", round*perRound+i), Until: now.Add(time.Duration(1+i%5) * time.Second)}
		}
		r.Add(now, revs...)
		now = now.Add(time.Second)
		// Let the readers in before the next round, however busy the machine.
		for want := reads.Load() + readers; reads.Load() < want && !t.Failed(); {
			runtime.Gosched()
		}
	}
	close(done)
	wg.Wait()
	checkRevocationTables(t, &r)
}

// Polling and logging out cost in proportion to the ids they bring, not
// to the ids held: with many ids held, a poll that finds nothing new or
// only ids already held allocates nothing, and one more id costs a few
// hundred bytes, not a copy of the set.
func TestRevocationsWorkFollowsChanges(t *testing.T) {
	const held = 100_000
	now := time.Unix(1_700_000_000, 0)
	var r Revocations
	revs := make([]Revocation, held)
	for i := range revs {
		revs[i] = Revocation{ID: fmt.Sprintf("held-%d", i), Until: now.Add(time.Hour + time.Duration(i)*time.Millisecond)}
	}
	if n := r.Add(now, revs...); n != held {
		t.Fatalf("Add = %d, want %d", n, held)
	}
	window := revs[held-1000:] // a poll re-reads the revocations of its last seconds
	for _, tc := range []struct {
		name string
		add  func()
	}{
		{"poll, nothing new", func() { now = now.Add(500 * time.Millisecond); r.Add(now) }},
		{"poll, only ids held", func() { now = now.Add(500 * time.Millisecond); r.Add(now, window...) }},
	} {
		if a := testing.AllocsPerRun(20, tc.add); a != 0 {
			t.Errorf("%s: %.0f allocations with %d ids held, want none", tc.name, a, r.Len())
		}
	}
	const logouts = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range logouts {
		now = now.Add(time.Millisecond)
		if n := r.Add(now, Revocation{ID: fmt.Sprintf("new-%d", i), Until: now.Add(time.Hour)}); n != 1 {
			t.Fatalf("Add of a new id = %d", n)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / logouts; per > 4096 {
		t.Errorf("one more id allocates %d bytes with %d ids held", per, held)
	}
}

// Two ids whose hashes share the first half (one pair in 2^64) are told
// apart by the second, and each ends at its own Until.
func TestRevocationTableSharedKey(t *testing.T) {
	const k = 0xabcdef << 40
	tab := (*revTable)(nil).resized(4)
	tab.insert(k, 1, 100)
	tab.insert(k, 2, 200)
	tab.insert(k+uint64(len(tab.slots)), 3, 100) // same home slot, another key
	for _, c := range []uint64{1, 2} {
		if i := tab.find(k, c); i < 0 || tab.slots[i].check.Load() != c {
			t.Fatalf("find(k, %d) = %d", c, i)
		}
	}
	if tab.find(k, 4) >= 0 {
		t.Fatal("found a check never stored")
	}
	if tab.remove(k, 150) {
		t.Fatal("removed an entry that ends at another time")
	}
	if !tab.remove(k, 100) || tab.find(k, 1) >= 0 || tab.find(k, 2) < 0 || tab.find(k+uint64(len(tab.slots)), 3) < 0 {
		t.Fatal("removing the entry ending at 100 removed the wrong one")
	}
	if !tab.remove(k, 200) || tab.find(k, 2) >= 0 || tab.live != 1 {
		t.Fatalf("after removing both: live %d", tab.live)
	}
}
