package auth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testutil"
)

var fastArgon = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// newLoginService returns a service on a fresh SQLite store with the
// server's default login limits, all on clock c.
func newLoginService(t *testing.T, c *testutil.Clock) *auth.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lim := func(every time.Duration, burst int) *auth.Limiter {
		l := auth.NewLimiter(every, burst)
		l.Now = c.Now
		return l
	}
	return &auth.Service{
		Store:        db,
		Hasher:       auth.NewHasher(fastArgon, 2, time.Minute),
		IPLimit:      lim(6*time.Second, 20),
		UserNetLimit: lim(12*time.Second, 10),
		UserLimit:    lim(2*time.Second, 100),
		Now:          c.Now,
	}
}

// One client guessing a user's password as fast as its own limit allows
// must not lock the user out: the right password from another client
// gets in every time.
func TestLoginFailuresFromOneClientDoNotLockOutOthers(t *testing.T) {
	ctx := context.Background()
	c := testutil.NewClock(time.Unix(1_700_000_000, 0))
	svc := newLoginService(t, c)
	if _, err := svc.CreateUser(ctx, "victim", "right password", auth.RoleReader); err != nil {
		t.Fatal(err)
	}
	const attacker, victim = "198.51.100.7", "203.0.113.5"
	refused := 0
	for sec := 0; sec < 600; sec++ {
		if sec%6 == 0 { // the attacker's own per-client rate
			_, err := svc.Login(ctx, attacker, "victim", "guess")
			if !errors.Is(err, auth.ErrUnauthorized) && !errors.Is(err, auth.ErrRateLimited) {
				t.Fatalf("attacker at %ds: %v", sec, err)
			}
		}
		if sec%10 == 5 {
			if _, err := svc.Login(ctx, victim, "victim", "right password"); err != nil {
				refused++
				t.Logf("victim at %ds: %v", sec, err)
			}
		}
		c.Advance(time.Second)
	}
	if refused > 0 {
		t.Errorf("the victim's right password was refused %d times of 60", refused)
	}
}

// Guessing spread over many networks hits the username's ceiling: new
// networks are then refused, but the user still gets in from a network
// they logged in from before, and the guesses accepted stay bounded.
func TestLoginCeilingAcrossNetworks(t *testing.T) {
	ctx := context.Background()
	c := testutil.NewClock(time.Unix(1_700_000_000, 0))
	svc := newLoginService(t, c)
	if _, err := svc.CreateUser(ctx, "victim", "right password", auth.RoleReader); err != nil {
		t.Fatal(err)
	}
	const home = "203.0.113.5"
	if _, err := svc.Login(ctx, home, "victim", "right password"); err != nil {
		t.Fatal(err)
	}
	guesses, refusedNew := 0, 0
	for sec := 0; sec < 600; sec++ {
		for n := range 200 { // 200 /24 networks, each as fast as its own limits allow
			if sec%6 != n%6 {
				continue
			}
			ip := fmt.Sprintf("10.%d.%d.1", n/256, n%256)
			_, err := svc.Login(ctx, ip, "VICTIM", "guess")
			switch {
			case errors.Is(err, auth.ErrUnauthorized):
				guesses++
			case !errors.Is(err, auth.ErrRateLimited):
				t.Fatalf("attacker %s at %ds: %v", ip, sec, err)
			}
		}
		if sec%10 == 5 {
			if _, err := svc.Login(ctx, home, "victim", "right password"); err != nil {
				t.Fatalf("victim from a known network at %ds: %v", sec, err)
			}
			if _, err := svc.Login(ctx, "192.0.2.9", "victim", "right password"); errors.Is(err, auth.ErrRateLimited) {
				refusedNew++
			} else if err != nil {
				t.Fatalf("victim from a new network at %ds: %v", sec, err)
			}
		}
		c.Advance(time.Second)
	}
	// The ceiling: 100 at once, then one per 2 s.
	if max := 100 + 600/2; guesses > max {
		t.Errorf("%d guesses accepted in 10 minutes, want at most %d", guesses, max)
	}
	if refusedNew == 0 {
		t.Error("a new network was never refused while the ceiling was spent")
	}
	t.Logf("%d guesses accepted; a new network refused %d times of 60", guesses, refusedNew)
}

// Concurrent wrong guesses from one client cannot overdraw its budget:
// the budget is spent before the password check, not after.
func TestLoginConcurrentGuessesStayWithinBudget(t *testing.T) {
	ctx := context.Background()
	c := testutil.NewClock(time.Unix(1_700_000_000, 0))
	svc := newLoginService(t, c)
	if _, err := svc.CreateUser(ctx, "victim", "right password", auth.RoleReader); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var guessed atomic.Int32
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Distinct addresses in one /24: the per-address limit does not
			// stop them, the per-network one must.
			_, err := svc.Login(ctx, fmt.Sprintf("198.51.100.%d", i+1), "victim", "guess")
			if errors.Is(err, auth.ErrUnauthorized) {
				guessed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := guessed.Load(); n != 10 {
		t.Errorf("%d concurrent guesses checked, want the burst of 10", n)
	}
	// A success gives its budget back: the network's own user still gets in.
	for i := range 3 {
		_, err := svc.Login(ctx, "198.51.100.77", "victim", "right password")
		if !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("login %d with the network's budget spent: %v, want ErrRateLimited", i, err)
		}
	}
	c.Advance(12 * time.Second)
	for i := range 5 {
		if _, err := svc.Login(ctx, "198.51.100.77", "victim", "right password"); err != nil {
			t.Fatalf("login %d after one refill: %v (a success must not spend the budget)", i, err)
		}
	}
}

// countingLimit is a RateLimiter that grants every attempt, or fails with
// err, and counts the calls.
type countingLimit struct {
	err             error
	spent, refunded atomic.Int32
}

func (l *countingLimit) Spend(context.Context, string) (bool, time.Duration, error) {
	l.spent.Add(1)
	return l.err == nil, 0, l.err
}

func (l *countingLimit) Refund(context.Context, string) error {
	l.refunded.Add(1)
	return l.err
}

// lookupCounter counts UserByName calls, the start of a password check.
type lookupCounter struct {
	auth.Store
	n atomic.Int32
}

func (s *lookupCounter) UserByName(ctx context.Context, name string) (*auth.User, error) {
	s.n.Add(1)
	return s.Store.UserByName(ctx, name)
}

// A limiter that cannot answer (its database is down) refuses the login
// with its error, before the password is checked, and an attempt already
// taken from another limit is given back.
func TestLoginLimitFailureRefuses(t *testing.T) {
	ctx := context.Background()
	down := fmt.Errorf("limits table: %w", auth.ErrUnavailable)
	tests := []struct {
		name         string
		failing      int   // 0: IPLimit, 1: UserNetLimit, 2: UserLimit
		wantRefunded int32 // of UserNetLimit
	}{
		{"per address", 0, 0},
		{"per username and network", 1, 0},
		{"per username", 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.NewClock(time.Unix(1_700_000_000, 0))
			svc := newLoginService(t, c)
			if _, err := svc.CreateUser(ctx, "ann", "right password", auth.RoleReader); err != nil {
				t.Fatal(err)
			}
			lims := []*countingLimit{{}, {}, {}}
			lims[tc.failing].err = down
			svc.IPLimit, svc.UserNetLimit, svc.UserLimit = lims[0], lims[1], lims[2]
			lookups := &lookupCounter{Store: svc.Store}
			svc.Store = lookups
			u, err := svc.Login(ctx, "203.0.113.5", "ann", "right password")
			if u != nil || !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrRateLimited) {
				t.Fatalf("Login = %v, %v; want ErrUnavailable", u, err)
			}
			if n := lookups.n.Load(); n != 0 {
				t.Errorf("the password was checked: %d user lookups", n)
			}
			for i := tc.failing + 1; i < len(lims); i++ {
				if n := lims[i].spent.Load(); n != 0 {
					t.Errorf("limit %d after the failing one spent %d times", i, n)
				}
			}
			if n := lims[1].refunded.Load(); n != tc.wantRefunded {
				t.Errorf("UserNetLimit refunded %d times, want %d", n, tc.wantRefunded)
			}
		})
	}
}
