package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// copyingRevocations is the revocation set as one copy-on-write map, which
// every Add rebuilds from all the ids held. It is the reference for
// Revocations' semantics in the tests and its baseline in the benchmarks.
type copyingRevocations struct {
	mu  sync.Mutex
	set atomic.Pointer[map[string]time.Time]
}

func (r *copyingRevocations) Has(id string) bool {
	if id == "" {
		return false
	}
	m := r.set.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[id]
	return ok
}

func (r *copyingRevocations) Add(now time.Time, revs ...Revocation) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.set.Load()
	n := len(revs)
	if old != nil {
		n += len(*old)
	}
	m := make(map[string]time.Time, n)
	if old != nil {
		for id, until := range *old {
			if until.After(now) {
				m[id] = until
			}
		}
	}
	added := 0
	for _, rv := range revs {
		if rv.ID == "" || !rv.Until.After(now) {
			continue
		}
		if cur, ok := m[rv.ID]; !ok || rv.Until.After(cur) {
			if !ok {
				added++
			}
			m[rv.ID] = rv.Until
		}
	}
	r.set.Store(&m)
	return added
}

func (r *copyingRevocations) Len() int {
	m := r.set.Load()
	if m == nil {
		return 0
	}
	return len(*m)
}

// revocationSet is what the tests and benchmarks drive.
type revocationSet interface {
	Has(id string) bool
	Add(now time.Time, revs ...Revocation) int
	Len() int
}

var (
	_ revocationSet = (*Revocations)(nil)
	_ revocationSet = (*copyingRevocations)(nil)
)
