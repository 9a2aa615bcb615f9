package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var fastArgon = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashFormatAndVerify(t *testing.T) {
	h := NewHasher(DefaultArgon2, 1, time.Second)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not an OWASP-parameter argon2id PHC string", hash)
	}
	if strings.Contains(hash, "correct horse") {
		t.Fatal("hash contains the password")
	}
	other, _ := h.Hash(ctx, "correct horse")
	if other == hash {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, tc := range []struct {
		pw     string
		ok     bool
		rehash bool
	}{{"correct horse", true, false}, {"correct horsE", false, false}, {"", false, false}} {
		ok, rehash, err := h.Verify(ctx, hash, tc.pw)
		if err != nil || ok != tc.ok || rehash != tc.rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want %v, %v", tc.pw, ok, rehash, err, tc.ok, tc.rehash)
		}
	}
}

func TestVerifyOldParamsAndBcryptAskForRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(fastArgon, 1, time.Second)
	oldHash, _ := old.Hash(ctx, "password1")
	cur := NewHasher(Argon2Params{MemoryKiB: 128, Time: 1, Threads: 1}, 1, time.Second)
	if ok, rehash, err := cur.Verify(ctx, oldHash, "password1"); !ok || !rehash || err != nil {
		t.Errorf("old argon2 params: ok=%v rehash=%v err=%v, want ok and rehash", ok, rehash, err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("password1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := cur.Verify(ctx, string(bc), "password1"); !ok || !rehash || err != nil {
		t.Errorf("bcrypt: ok=%v rehash=%v err=%v, want ok and rehash", ok, rehash, err)
	}
	if ok, _, err := cur.Verify(ctx, string(bc), "password2"); ok || err != nil {
		t.Errorf("bcrypt wrong password: ok=%v err=%v", ok, err)
	}
}

func TestVerifyRefusesHostileHashes(t *testing.T) {
	h := NewHasher(fastArgon, 1, time.Second)
	for _, stored := range []string{
		"",
		"plaintext",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", // memory bomb
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if ok, _, err := h.Verify(context.Background(), stored, "password1"); ok || err == nil {
			t.Errorf("stored %q: ok=%v err=%v, want an error", stored, ok, err)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(fastArgon, 1, 20*time.Millisecond)
	if err := h.acquire(context.Background()); err != nil { // hold the only slot
		t.Fatal(err)
	}
	_, err := h.Hash(context.Background(), "password1")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if d, ok := RetryAfter(err); !ok || d <= 0 {
		t.Fatalf("busy error carries no retry delay: %v", err)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "password1"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(10*time.Second, 2)
	l.Now = func() time.Time { return now }
	for i := 0; i < 2; i++ {
		if ok, _ := l.Allow("ip"); !ok {
			t.Fatalf("attempt %d refused within burst", i)
		}
	}
	ok, wait := l.Allow("ip")
	if ok || wait < time.Second || wait > 10*time.Second {
		t.Fatalf("third attempt: ok=%v wait=%v, want refused with 1s..10s", ok, wait)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("keys are not independent")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Allow("ip"); !ok {
		t.Fatal("not refilled after one interval")
	}
	if ok, _ := l.Allow("ip"); ok {
		t.Fatal("refilled more than one token in one interval")
	}
	var off *Limiter
	if ok, _ := off.Allow("x"); !ok {
		t.Fatal("nil limiter must allow")
	}
}

func TestHasherReportsWaitsAndInFlight(t *testing.T) {
	h := NewHasher(fastArgon, 1, 20*time.Millisecond)
	var mu sync.Mutex
	var waits []time.Duration
	h.ObserveWait = func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
	}
	if _, err := h.Hash(context.Background(), "password1"); err != nil {
		t.Fatal(err)
	}
	if err := h.acquire(context.Background()); err != nil { // hold the only slot
		t.Fatal(err)
	}
	if n := h.InFlight(); n != 1 {
		t.Fatalf("InFlight = %d with the slot held, want 1", n)
	}
	if _, err := h.Hash(context.Background(), "password1"); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	h.release()
	if n := h.InFlight(); n != 0 {
		t.Fatalf("InFlight = %d after release, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 3 || waits[0] != 0 || waits[1] != 0 || waits[2] < 20*time.Millisecond {
		t.Fatalf("waits = %v, want [0 0 ≥20ms] (free slot, free slot, gave up)", waits)
	}
}
