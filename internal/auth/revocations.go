package auth

import (
	"cmp"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Revocations is the in-memory set of revoked access-token ids (jti) and
// session ids (sid), each until the last token that could carry it has
// expired. Every authenticated request asks (Has), so reads take no lock
// and write nothing shared. Writes (a logout, a poll of the store) cost in
// proportion to the ids they add or that expire, not to the ids held: the
// set is a fixed number of open-addressing hash tables updated in place,
// with expiry kept in buckets by Until.
//
// An id is held as a 128-bit hash (two maphash values under per-process
// random seeds), so that the tables hold no pointers and a garbage
// collection never walks them, however many ids they hold. Two ids share a
// hash with probability 2^-128; a collision could only refuse a token,
// never accept one.
//
// The zero value is an empty set.
type Revocations struct {
	shards [revShards]atomic.Pointer[revTable]
	n      atomic.Int64 // ids held, for Len

	mu     sync.Mutex // serializes writers; guards expiry and every revTable.until
	expiry revExpiry
}

// revShards bounds the work of growing one table (which copies its slots)
// to about 1/revShards of the set.
const (
	revShardBits = 8
	revShards    = 1 << revShardBits
	revMinSlots  = 8
)

// A revTable is a linear-probing hash table that one writer (holding
// Revocations.mu) updates in place while readers probe it without a lock.
// A slot goes from empty to used, from used to deleted and from deleted to
// used again, never back to empty, and at most half the slots are other
// than empty, so a probe always ends. A table that must grow, shrink or
// shed its deleted slots is copied into a new one, which replaces it
// atomically; the old one is never written again.
type revTable struct {
	slots []revSlot // len is a power of two
	until []int64   // Unix ns, by slot; only the writer reads or writes it
	used  int       // slots not empty (held or deleted)
	live  int       // slots holding an id
}

// A revSlot holds an id's hash: key is 0 when the slot is empty, 1 when
// deleted, else the hash's first half, whose top bits pick the shard and
// low bits the slot; check is the second half. The writer stores check
// before key. Four slots fill a cache line: a lookup reads one, mostly.
type revSlot struct {
	key   atomic.Uint64
	check atomic.Uint64
}

const (
	slotEmpty   = 0
	slotDeleted = 1
)

var revKeySeed, revCheckSeed = maphash.MakeSeed(), maphash.MakeSeed()

// revKey is the first half of id's hash, never slotEmpty or slotDeleted.
func revKey(id string) uint64 {
	k := maphash.String(revKeySeed, id)
	if k <= slotDeleted {
		k += 2
	}
	return k
}

func revCheck(id string) uint64 { return maphash.String(revCheckSeed, id) }

func (r *Revocations) shard(key uint64) *atomic.Pointer[revTable] {
	return &r.shards[key>>(64-revShardBits)]
}

// Has reports whether id is revoked. The empty id never is.
func (r *Revocations) Has(id string) bool {
	if id == "" {
		return false
	}
	k := revKey(id)
	t := r.shard(k).Load()
	if t == nil {
		return false
	}
	mask := uint64(len(t.slots) - 1)
	var c uint64
	haveCheck := false
	for i := k & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key.Load() {
		case slotEmpty:
			return false
		case k:
			if !haveCheck { // only a held id, or one in 2^64, gets here
				c, haveCheck = revCheck(id), true
			}
			// Reading key again rules out a check stored for another id
			// after this one was deleted from the slot.
			if s.check.Load() == c && s.key.Load() == k {
				return true
			}
		}
	}
}

// Add records revocations and drops entries that ended at or before now.
// It returns how many ids were new. An id already held keeps the later of
// its two Untils.
func (r *Revocations) Add(now time.Time, revs ...Revocation) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	nowNs := unixNano(now)
	r.expire(nowNs)
	added := 0
	for i := range revs {
		rv := &revs[i]
		until := unixNano(rv.Until)
		if rv.ID == "" || until <= nowNs {
			continue
		}
		k, c := revKey(rv.ID), revCheck(rv.ID)
		shard := r.shard(k)
		t := shard.Load()
		if i := t.find(k, c); i >= 0 {
			if until > t.until[i] {
				t.until[i] = until
				r.expiry.push(revDue{until: until, key: k})
			}
			continue
		}
		if t == nil || (t.used+1)*2 > len(t.slots) {
			t = t.resized(t.count() + 1)
			shard.Store(t)
		}
		t.insert(k, c, until)
		r.expiry.push(revDue{until: until, key: k})
		r.n.Add(1)
		added++
	}
	return added
}

// expire removes the entries whose Until is at or before now.
func (r *Revocations) expire(now int64) {
	r.expiry.due(now, func(d revDue) {
		shard := r.shard(d.key)
		t := shard.Load()
		if !t.remove(d.key, d.until) {
			return // extended since
		}
		r.n.Add(-1)
		if len(t.slots) > revMinSlots && t.live*16 < len(t.slots) {
			shard.Store(t.resized(t.live))
		}
	})
}

// Len returns the number of revoked ids held.
func (r *Revocations) Len() int {
	return int(r.n.Load())
}

func (t *revTable) count() int {
	if t == nil {
		return 0
	}
	return t.live
}

// find returns the index of the slot holding the hash (k, c), or -1.
func (t *revTable) find(k, c uint64) int {
	if t == nil {
		return -1
	}
	mask := uint64(len(t.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key.Load() {
		case slotEmpty:
			return -1
		case k:
			if s.check.Load() == c {
				return int(i)
			}
		}
	}
}

// resized copies the ids of t (which may be nil) into a new table sized
// for n ids at most a third full, so that at least half as many inserts
// come before the next copy.
func (t *revTable) resized(n int) *revTable {
	size := revMinSlots
	for size < 3*n {
		size *= 2
	}
	nt := &revTable{slots: make([]revSlot, size), until: make([]int64, size)}
	if t != nil {
		for i := range t.slots {
			s := &t.slots[i]
			if k := s.key.Load(); k > slotDeleted {
				nt.insert(k, s.check.Load(), t.until[i])
			}
		}
	}
	return nt
}

// insert puts the hash (k, c), which t does not hold, in the first free
// slot of its probe sequence.
func (t *revTable) insert(k, c uint64, until int64) {
	mask := uint64(len(t.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key.Load() {
		case slotEmpty:
			t.used++
			fallthrough
		case slotDeleted:
			t.until[i] = until
			s.check.Store(c)
			s.key.Store(k) // publishes the slot to readers
			t.live++
			return
		}
	}
}

// remove deletes the entry with key k that ends at until, and reports
// whether there was one. Two ids that share a key and an Until end
// together, so it does not matter which goes first.
func (t *revTable) remove(k uint64, until int64) bool {
	mask := uint64(len(t.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key.Load() {
		case slotEmpty:
			return false
		case k:
			if t.until[i] == until {
				s.key.Store(slotDeleted)
				t.live--
				return true
			}
		}
	}
}

// unixNano is t in Unix ns, saturated outside the years 1678 to 2262
// (where only the order matters: nothing held expires that late).
func unixNano(t time.Time) int64 {
	const maxSec = math.MaxInt64 / int64(time.Second)
	switch s := t.Unix(); {
	case s >= maxSec:
		return math.MaxInt64
	case s <= -maxSec:
		return math.MinInt64
	}
	return t.UnixNano()
}

// revDue is when the entry with key ends. An entry whose Until is
// extended gets a second revDue, and the first finds no entry to remove.
type revDue struct {
	until int64
	key   uint64
}

// revExpiry holds the revDues in buckets of revBucketNs by until. Ids are
// revoked mostly with an Until later than all held, so a push appends to a
// bucket that is already there, and a bucket is sorted only when it is
// due in part (it holds the present instant); before that only the order
// of the bucket keys matters, kept in a small heap (one key per
// revBucketNs of Untils held).
type revExpiry struct {
	buckets map[int64]*revBucket
	keys    []int64 // min-heap of the keys of buckets
}

const revBucketNs = int64(time.Second)

type revBucket struct {
	dues   []revDue
	sorted bool // dues are in order of until
}

func (x *revExpiry) push(d revDue) {
	k := floorDiv(d.until, revBucketNs)
	b := x.buckets[k]
	if b == nil {
		if x.buckets == nil {
			x.buckets = make(map[int64]*revBucket)
		}
		b = &revBucket{sorted: true}
		x.buckets[k] = b
		x.pushKey(k)
	}
	if n := len(b.dues); n > 0 && d.until < b.dues[n-1].until {
		b.sorted = false
	}
	b.dues = append(b.dues, d)
}

// due calls drop for every revDue whose until is at or before now, and
// forgets it.
func (x *revExpiry) due(now int64, drop func(revDue)) {
	nowKey := floorDiv(now, revBucketNs)
	for len(x.keys) > 0 && x.keys[0] <= nowKey {
		k := x.keys[0]
		b := x.buckets[k]
		if k == nowKey { // due in part: take the front of the sorted bucket
			if !b.sorted {
				slices.SortFunc(b.dues, func(a, b revDue) int { return cmp.Compare(a.until, b.until) })
				b.sorted = true
			}
			i := 0
			for ; i < len(b.dues) && b.dues[i].until <= now; i++ {
				drop(b.dues[i])
			}
			b.dues = b.dues[i:]
			if len(b.dues) > 0 {
				return
			}
		} else {
			for _, d := range b.dues {
				drop(d)
			}
		}
		delete(x.buckets, k)
		x.popKey()
	}
}

func (x *revExpiry) pushKey(k int64) {
	x.keys = append(x.keys, k)
	s := x.keys
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (x *revExpiry) popKey() {
	s := x.keys
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1] < s[c] {
			c++
		}
		if s[i] <= s[c] {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	x.keys = s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
