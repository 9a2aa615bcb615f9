package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// rotation is one RotateRefreshToken call, queued for a batch.
type rotation struct {
	oldHash  []byte
	clientID string
	now      time.Time
	next     *auth.RefreshToken
	rt       *auth.RefreshToken
	sess     *auth.Session
	err      error
	done     chan struct{} // closed once rt, sess and err are set
	lead     chan struct{} // closed when this call is to run the next batch
}

// rotations batches the rotations of concurrent calls, so that one
// statement and one commit serve every call that arrived while the
// previous batch ran (group commit): under load, PostgreSQL's work and
// its wait for the WAL flush are shared, and a lone call is a batch of
// one, with no wait added. A call that finds no batch running runs one;
// when it is over and calls are queued, the first of them runs the next.
type rotations struct {
	mu      sync.Mutex
	queue   []*rotation
	running bool // a batch is running or about to; the queue waits for it
}

const maxRotationBatch = 64

// rotateBatched runs r in a batch (with the dialect's RotateSQL) and
// returns once its outcome is set.
func (s *Store) rotateBatched(ctx context.Context, r *rotation) {
	q := &s.rots
	r.done, r.lead = make(chan struct{}), make(chan struct{})
	q.mu.Lock()
	q.queue = append(q.queue, r)
	if q.running {
		q.mu.Unlock()
		select {
		case <-r.done:
			return
		case <-r.lead:
		}
		q.mu.Lock()
	}
	// This call runs the next batch. It is first in the queue: it found
	// the queue empty (none runs while calls are queued), or was handed
	// the running as its first.
	q.running = true
	n := min(len(q.queue), maxRotationBatch)
	batch := append([]*rotation(nil), q.queue[:n]...)
	q.queue = append(q.queue[:0], q.queue[n:]...)
	q.mu.Unlock()

	// Whatever happens to the batch, even a panic, its calls return and
	// the queue moves on.
	for _, b := range batch {
		b.err = s.errorf("rotate refresh token", "the batch did not finish")
	}
	defer func() {
		for _, b := range batch {
			close(b.done)
		}
		q.mu.Lock()
		if len(q.queue) > 0 {
			close(q.queue[0].lead)
		} else {
			q.running = false
		}
		q.mu.Unlock()
	}()
	// The batch is everyone's: it does not end with this caller's
	// context, only with the store's deadline.
	bctx, cancel := s.bound(context.WithoutCancel(ctx))
	defer cancel()
	s.runRotations(bctx, batch)
}

// runRotations rotates batch in one statement and sets each outcome as
// RotateRefreshToken returns it. A token given twice is rotated once: the
// later calls get the first one's token and session, and ErrConflict
// when it rotated (two uses of one token), its error otherwise.
func (s *Store) runRotations(ctx context.Context, batch []*rotation) {
	const op = "rotate refresh token"
	first := make(map[string]*rotation, len(batch))
	var unique []*rotation
	for _, r := range batch {
		if _, dup := first[string(r.oldHash)]; !dup {
			first[string(r.oldHash)] = r
			unique = append(unique, r)
		}
	}
	olds, clients, news := make([][]byte, len(unique)), make([]string, len(unique)), make([][]byte, len(unique))
	nows, expiries := make([]time.Time, len(unique)), make([]time.Time, len(unique))
	for i, r := range unique {
		olds[i], clients[i], nows[i], news[i], expiries[i] = r.oldHash, r.clientID, r.now, r.next.Hash, r.next.ExpiresAt
	}
	var out []rotated
	var err error
	for try := 1; ; try++ {
		var rows Rows
		rows, err = s.query(ctx, s.db, s.d.RotateSQL, olds, clients, nows, news, expiries)
		if err == nil {
			out, err = s.scanRotations(rows, unique)
		}
		// A deadlock with a statement that locks several sessions in
		// another order (a user's revocation) rolled the batch back.
		if err == nil || try == 3 || s.d.Retry == nil || !s.d.Retry(err) {
			break
		}
	}
	for i, r := range unique {
		if err != nil {
			r.err = s.batchError(op, err)
			continue
		}
		o := out[i]
		r.rt, r.sess, r.err = o.rt, o.sess, o.err
		switch {
		case o.sess == nil:
			r.err = s.errorf(op, "%w", auth.ErrNotFound)
		case o.rotated:
			r.next.SessionID, r.next.ExpiresAt = o.sess.ID, minTime(r.next.ExpiresAt, o.sess.ExpiresAt)
		}
	}
	for _, r := range batch {
		if f := first[string(r.oldHash)]; f != r {
			r.rt, r.sess, r.err = f.rt, f.sess, f.err
			if f.err == nil {
				r.err = s.errorf(op, "%w: used concurrently", auth.ErrConflict)
			}
		}
	}
}

// batchError is the error of every call of a batch whose statement
// failed. Only an unavailable database keeps its sentinel: a conflict or
// a refusal would be taken by each caller as the answer about its own
// token (a conflict revokes the session).
func (s *Store) batchError(op string, err error) error {
	if w := s.wrap(op, err); errors.Is(w, auth.ErrUnavailable) || errors.Is(w, context.Canceled) {
		return w
	}
	return fmt.Errorf("%s: %s: the batch failed: %v", s.d.Name, op, err)
}

// rotated is the outcome of one rotation of a batch: the token and
// session as read (nil: no such token), whether it rotated, and why not.
type rotated struct {
	rt      *auth.RefreshToken
	sess    *auth.Session
	rotated bool
	err     error
}

// scanRotations reads RotateSQL's rows, one per token found, into the
// outcomes of unique, by their 1-based position.
func (s *Store) scanRotations(rows Rows, unique []*rotation) ([]rotated, error) {
	const op = "rotate refresh token"
	defer rows.Close()
	out := make([]rotated, len(unique))
	for rows.Next() {
		var n int64
		var locked, rot bool
		rt, sess, err := s.scanRefresh(rows, &n, &locked, &rot)
		if err != nil {
			return nil, err
		}
		if n < 1 || n > int64(len(unique)) {
			return nil, fmt.Errorf("row for rotation %d of %d", n, len(unique))
		}
		o := &out[n-1]
		o.rt, o.sess, o.rotated = rt, sess, rot
		if rot {
			continue
		}
		r := unique[n-1]
		o.err = s.refuseRotation(rt, sess, r.clientID, r.now)
		if o.err == nil && locked {
			// The session was live and locked, the token unused when
			// read: a concurrent rotation marked it first.
			o.err = s.errorf(op, "%w: used concurrently", auth.ErrConflict)
		} else if o.err == nil {
			o.err = s.errorf(op, "%w: the session ended", auth.ErrStale)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
