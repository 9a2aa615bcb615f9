package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// Revocations is the in-memory set of revoked access-token ids (jti) and
// session ids (sid), each until the last token that could carry it has
// expired. Reads are lock-free (a copy-on-write map), because every
// authenticated request asks; writes are rare (logouts) and copy the map.
type Revocations struct {
	mu  sync.Mutex // serializes writers
	set atomic.Pointer[map[string]time.Time]
}

// Has reports whether id is revoked. The empty id never is.
func (r *Revocations) Has(id string) bool {
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

// Add records revocations and drops entries that ended before now. It
// returns how many ids were new.
func (r *Revocations) Add(now time.Time, revs ...Revocation) int {
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

// Len returns the number of revoked ids held.
func (r *Revocations) Len() int {
	m := r.set.Load()
	if m == nil {
		return 0
	}
	return len(*m)
}
