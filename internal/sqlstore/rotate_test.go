package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// batchDB answers RotateSQL for tokens named "tok-N": each is found, in
// session "sess-N", and rotated, except "used-N" (used) and "nope-N" (not
// found). The first statement blocks until release is closed, so that
// the calls made meanwhile queue up. fail, if set, is every statement's
// error.
type batchDB struct {
	DB
	mu      sync.Mutex
	sizes   []int // the number of rotations of each statement
	release chan struct{}
	started chan struct{} // closed when the first statement starts
	fail    error
	panics  bool // the first statement panics once released
}

func (b *batchDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	olds := args[0].([][]byte)
	b.mu.Lock()
	b.sizes = append(b.sizes, len(olds))
	first := len(b.sizes) == 1
	b.mu.Unlock()
	if first {
		close(b.started)
		<-b.release
		if b.panics {
			panic("a bug in the driver")
		}
	}
	if b.fail != nil {
		return nil, b.fail
	}
	var rows fakeRows
	for i, old := range olds {
		name := string(old)
		if strings.HasPrefix(name, "nope-") {
			continue
		}
		used := strings.HasPrefix(name, "used-")
		row := []any{int64(i + 1), !used, !used, old, "sess-" + name[len(name)-1:], time.Now().Add(time.Hour), nil,
			time.Now(), time.Now().Add(2 * time.Hour), nil, sql.NullString{}, "", nil, "",
			int64(7), "rita", "reader", "hash", false, time.Now(), time.Now(), int64(1), false}
		if used {
			row[6] = time.Now() // used_at
		}
		rows.rows = append(rows.rows, row)
	}
	return &rows, nil
}

type fakeRows struct {
	rows [][]any
	i    int
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *fakeRows) Err() error { return nil }
func (r *fakeRows) Close()     {}
func (r *fakeRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	if len(dest) != len(row) {
		return fmt.Errorf("scan of %d columns into %d", len(row), len(dest))
	}
	for i, d := range dest {
		var err error
		switch d := d.(type) {
		case *int64:
			*d = row[i].(int64)
		case *bool:
			*d = row[i].(bool)
		case *[]byte:
			*d = row[i].([]byte)
		case *string:
			*d = row[i].(string)
		case *sql.NullString:
			*d = row[i].(sql.NullString)
		case timeCol:
			err = d.Scan(row[i])
		default:
			err = fmt.Errorf("column %d: cannot scan into %T", i, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func batchStore(db *batchDB) *Store {
	return &Store{db: db, d: Dialect{
		Name:      "test",
		RotateSQL: "ROTATE",
		Time:      func(t time.Time) any { return t },
		Wrap: func(op string, err error) error {
			return fmt.Errorf("test: %s: %w (%w)", op, auth.ErrConflict, err) // the worst a dialect could say
		},
	}}
}

// Rotations that arrive while a batch runs go together in the next
// statement, each caller getting its own outcome, and a token given
// twice is rotated once.
func TestRotationsBatch(t *testing.T) {
	db := &batchDB{release: make(chan struct{}), started: make(chan struct{})}
	s := batchStore(db)
	type outcome struct {
		sess *auth.Session
		next *auth.RefreshToken
		err  error
	}
	call := func(name string, out *outcome, wg *sync.WaitGroup) {
		defer wg.Done()
		next := &auth.RefreshToken{Hash: []byte("new-" + name), ExpiresAt: time.Now().Add(time.Hour)}
		_, sess, err := s.RotateRefreshToken(context.Background(), []byte(name), "", time.Now(), next)
		*out = outcome{sess, next, err}
	}
	var wg sync.WaitGroup
	var lead outcome
	wg.Add(1)
	go call("tok-0", &lead, &wg)
	<-db.started
	names := []string{"tok-1", "tok-2", "used-3", "nope-4", "tok-5", "tok-5"}
	outs := make([]outcome, len(names))
	for i, name := range names {
		wg.Add(1)
		go call(name, &outs[i], &wg)
	}
	// Wait until every call is queued behind the running batch.
	for {
		s.rots.mu.Lock()
		n := len(s.rots.queue)
		s.rots.mu.Unlock()
		if n == len(names) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(db.release)
	wg.Wait()

	if fmt.Sprint(db.sizes) != "[1 5]" {
		t.Fatalf("statements rotated %v tokens, want [1 5] (the duplicate sent once)", db.sizes)
	}
	if lead.err != nil || lead.sess.ID != "sess-0" || lead.next.SessionID != "sess-0" {
		t.Errorf("first call: %+v", lead)
	}
	var rotated5, conflict5 int
	for i, name := range names {
		o := outs[i]
		switch {
		case name == "tok-5": // one of the two rotated it, the other is a second use
			switch {
			case o.err == nil && o.sess.ID == "sess-5" && o.next.SessionID == "sess-5":
				rotated5++
			case errors.Is(o.err, auth.ErrConflict) && o.sess != nil && o.sess.ID == "sess-5":
				conflict5++
			default:
				t.Errorf("%s: %+v (%v)", name, o, o.err)
			}
		case name == "used-3":
			if !errors.Is(o.err, auth.ErrConflict) || o.sess == nil || o.sess.ID != "sess-3" {
				t.Errorf("%s: %+v, want its session and ErrConflict", name, o)
			}
		case name == "nope-4":
			if !errors.Is(o.err, auth.ErrNotFound) || o.sess != nil {
				t.Errorf("%s: %+v, want ErrNotFound", name, o)
			}
		default:
			want := "sess-" + name[len(name)-1:]
			if o.err != nil || o.sess.ID != want || o.next.SessionID != want {
				t.Errorf("%s: %+v, want rotated in %s", name, o, want)
			}
		}
	}
	if rotated5 != 1 || conflict5 != 1 {
		t.Errorf("tok-5 given twice: %d rotated, %d conflicts; want 1 and 1", rotated5, conflict5)
	}
	s.rots.mu.Lock()
	defer s.rots.mu.Unlock()
	if s.rots.running || len(s.rots.queue) != 0 {
		t.Errorf("after the batches: running %v, %d queued", s.rots.running, len(s.rots.queue))
	}
}

// A failed statement fails each of its calls with an error that is none
// of the answers about a token: a conflict would revoke every session of
// the batch.
func TestRotationBatchFailure(t *testing.T) {
	db := &batchDB{release: make(chan struct{}), started: make(chan struct{}), fail: errors.New("syntax error")}
	close(db.release)
	s := batchStore(db)
	_, _, err := s.RotateRefreshToken(context.Background(), []byte("tok-1"), "", time.Now(), &auth.RefreshToken{Hash: []byte("n")})
	if err == nil || errors.Is(err, auth.ErrConflict) || errors.Is(err, auth.ErrStale) || errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("failed batch: %v, want an error without a sentinel", err)
	}
}

// A batch that panics still lets its calls return and the queue move on:
// the next batch runs, and so do later calls.
func TestRotationBatchPanicFreesTheQueue(t *testing.T) {
	db := &batchDB{release: make(chan struct{}), started: make(chan struct{}), panics: true}
	s := batchStore(db)
	rotate := func(name string) error {
		_, _, err := s.RotateRefreshToken(context.Background(), []byte(name), "", time.Now(), &auth.RefreshToken{Hash: []byte("new-" + name)})
		return err
	}
	leader := make(chan any)
	go func() {
		defer func() { leader <- recover() }()
		rotate("tok-0")
	}()
	<-db.started
	queued := make(chan error)
	go func() { queued <- rotate("tok-1") }()
	for {
		s.rots.mu.Lock()
		n := len(s.rots.queue)
		s.rots.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(db.release)
	if p := <-leader; p == nil {
		t.Fatal("the first batch did not panic")
	}
	if err := <-queued; err != nil {
		t.Fatalf("the call queued behind the panic: %v", err)
	}
	if err := rotate("tok-2"); err != nil {
		t.Fatalf("a later call: %v", err)
	}
	if fmt.Sprint(db.sizes) != "[1 1 1]" {
		t.Errorf("statements %v, want [1 1 1]", db.sizes)
	}
}
