package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// OWASP's recommended minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// Bounds on parameters read from stored hashes, so a tampered row
	// cannot make one login allocate gigabytes.
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
)

// Hasher hashes and checks passwords. Each argon2id run takes MemoryKiB of
// memory, so runs are bounded by a semaphore: a request that cannot get a
// slot within Wait fails with ErrBusy instead of queueing without limit.
type Hasher struct {
	Params Argon2Params
	Wait   time.Duration
	// ObserveWait, if set before the Hasher is used, is called with how
	// long each Hash or Verify waited for a slot (also when it gave up:
	// ErrBusy or a cancelled context). It must be cheap and safe for
	// concurrent use.
	ObserveWait func(time.Duration)
	slots       chan struct{}
	dummy       string // hash of a random password, checked for unknown users
}

// NewHasher returns a Hasher allowing concurrency simultaneous hashes
// (runtime.NumCPU() when zero or less).
func NewHasher(params Argon2Params, concurrency int, wait time.Duration) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	h := &Hasher{Params: params, Wait: wait, slots: make(chan struct{}, concurrency)}
	var pw [32]byte
	rand.Read(pw[:])
	h.dummy = h.hash(pw[:])
	return h
}

// InFlight returns the number of hashes running.
func (h *Hasher) InFlight() int { return len(h.slots) }

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		if h.ObserveWait != nil {
			h.ObserveWait(0)
		}
		return nil
	default:
	}
	if h.ObserveWait != nil {
		defer func(start time.Time) { h.ObserveWait(time.Since(start)) }(time.Now())
	}
	t := time.NewTimer(h.Wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return &RetryError{Err: ErrBusy, After: time.Second}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash([]byte(password)), nil
}

func (h *Hasher) hash(password []byte) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	p := h.Params
	sum := argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		phc.EncodeToString(salt), phc.EncodeToString(sum))
}

var phc = base64.RawStdEncoding

// Verify checks password against a stored hash. rehash is true when the
// hash should be replaced (bcrypt, or older argon2id parameters).
func (h *Hasher) Verify(ctx context.Context, stored, password string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	return h.verify(stored, password)
}

// VerifyDummy spends the same effort as Verify on a hash that matches
// nothing, so that "no such user" takes as long as "wrong password".
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

func (h *Hasher) verify(stored, password string) (bool, bool, error) {
	switch {
	case strings.HasPrefix(stored, "$argon2id$"):
		p, salt, sum, err := parseArgon2(stored)
		if err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(sum)))
		ok := subtle.ConstantTimeCompare(got, sum) == 1
		return ok, ok && p != h.Params, nil
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		err := bcrypt.CompareHashAndPassword([]byte(stored), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("bcrypt hash: %w", err)
		}
		return true, true, nil
	}
	return false, false, errors.New("unknown password hash format")
}

func parseArgon2(s string) (p Argon2Params, salt, sum []byte, err error) {
	parts := strings.Split(s, "$") // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errors.New("malformed argon2id hash")
	}
	var m, t, th uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil {
		return p, nil, nil, errors.New("malformed argon2id parameters")
	}
	if m < 8 || m > maxMemoryKiB || t < 1 || t > maxTime || th < 1 || th > 255 {
		return p, nil, nil, errors.New("argon2id parameters out of range")
	}
	if salt, err = phc.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("malformed argon2id salt")
	}
	if sum, err = phc.DecodeString(parts[5]); err != nil || len(sum) < 16 {
		return p, nil, nil, errors.New("malformed argon2id hash")
	}
	return Argon2Params{MemoryKiB: m, Time: t, Threads: uint8(th)}, salt, sum, nil
}
