package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// LoginLimit is an auth.RateLimiter whose token buckets are rows of the
// login_limits table, shared by every instance on the database: N
// instances give an attacker the burst once, not N times. Each decision is
// one statement, one round trip, cheap next to the password hash it
// guards.
//
// A key is stored as the limit's name and an HMAC-SHA-256 of the key under
// a random salt kept in the database (login_limit_salt), so the table
// holds no client address or username in clear, and its keys have a fixed
// length whatever was limited. The salt only keeps the table's contents
// from being read on their own or matched against precomputed hashes;
// whoever reads the whole database reads the salt (and the users' names)
// too. Rows are purged once their bucket is full again.
//
// When the database fails, Spend fails (wrapping auth.ErrUnavailable): the
// login is refused with 503, as it would be anyway, since checking the
// password needs the same database. Failing open would let whoever can
// make the database slow guess passwords without limit.
type LoginLimit struct {
	db    *DB
	name  string
	every time.Duration
	burst int
	// Now is the time of the buckets; nil: the database's clock, one for
	// every instance whatever their own clocks say.
	Now func() time.Time
}

var _ auth.RateLimiter = (*LoginLimit)(nil)

// maxLimitName bounds a limit's name, so that its keys fit the table's
// 64 characters.
const maxLimitName = 16

// LoginLimit returns the shared limit called name (a few lowercase
// letters, distinct for each limit: "ip", "user"), which allows burst
// attempts at once and one more every every; every <= 0 or burst <= 0
// disables it.
func (d *DB) LoginLimit(name string, every time.Duration, burst int) *LoginLimit {
	if name == "" || len(name) > maxLimitName || strings.ContainsRune(name, ':') {
		panic(fmt.Sprintf("postgres: login limit name %q: want 1 to %d characters, no colon", name, maxLimitName))
	}
	return &LoginLimit{db: d, name: name, every: every, burst: burst}
}

func (l *LoginLimit) off() bool { return l.every <= 0 || l.burst <= 0 }

// level is the SQL of bucket l's level at time t: what was left at
// updated_at, plus one per every ($3, seconds) since, at most the burst
// ($2).
func level(t string) string {
	return `LEAST($2::float8, l.tokens + GREATEST(0, EXTRACT(EPOCH FROM ` + t + ` - l.updated_at))::float8 / $3::float8)`
}

// spendSQL takes one attempt from bucket $1 at time $4 (NULL: the
// database's now) if one is left, in one statement: a new bucket starts
// full. It returns whether the attempt was granted and, for a refusal,
// the bucket's level, read from the statement's snapshot (it may miss a
// concurrent change: it only sets the Retry-After).
var spendSQL = `WITH c AS (SELECT COALESCE($4::timestamptz, now()) AS t),
	up AS (INSERT INTO login_limits AS l (key, tokens, updated_at, full_at)
		SELECT $1, $2::float8 - 1, c.t, c.t + make_interval(secs => $3::float8) FROM c
		ON CONFLICT (key) DO UPDATE SET
			tokens = ` + level("excluded.updated_at") + ` - 1,
			updated_at = GREATEST(l.updated_at, excluded.updated_at),
			full_at = GREATEST(l.updated_at, excluded.updated_at) + make_interval(secs => ($2::float8 - (` + level("excluded.updated_at") + ` - 1)) * $3::float8)
		WHERE ` + level("excluded.updated_at") + ` >= 1
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM up), (SELECT ` + level("c.t") + ` FROM login_limits l, c WHERE l.key = $1)`

// refundSQL gives one attempt back to bucket $1 at time $4, up to the
// burst.
var refundSQL = `WITH c AS (SELECT COALESCE($4::timestamptz, now()) AS t)
	UPDATE login_limits AS l SET
		tokens = LEAST($2::float8, ` + level("c.t") + ` + 1),
		updated_at = GREATEST(l.updated_at, c.t),
		full_at = GREATEST(l.updated_at, c.t) + make_interval(secs => ($2::float8 - LEAST($2::float8, ` + level("c.t") + ` + 1)) * $3::float8)
	FROM c WHERE l.key = $1`

// Spend takes one attempt for key, or says how long until one is free.
func (l *LoginLimit) Spend(ctx context.Context, key string) (bool, time.Duration, error) {
	if l.off() {
		return true, 0, nil
	}
	k, err := l.key(ctx, key)
	if err != nil {
		return false, 0, err
	}
	ctx, done := l.db.bound(ctx)
	defer done()
	var ok bool
	var lvl *float64
	if err := l.db.pool.QueryRow(ctx, spendSQL, k, float64(l.burst), l.every.Seconds(), l.now()).Scan(&ok, &lvl); err != nil {
		return false, 0, l.db.wrap("login limit", err)
	}
	if ok {
		return true, 0, nil
	}
	wait := l.every
	if lvl != nil {
		wait = time.Duration((1 - *lvl) * float64(l.every))
	}
	return false, max(wait, time.Second), nil
}

// Refund gives back an attempt that Spend granted for key.
func (l *LoginLimit) Refund(ctx context.Context, key string) error {
	if l.off() {
		return nil
	}
	k, err := l.key(ctx, key)
	if err != nil {
		return err
	}
	ctx, done := l.db.bound(ctx)
	defer done()
	_, err = l.db.pool.Exec(ctx, refundSQL, k, float64(l.burst), l.every.Seconds(), l.now())
	return l.db.wrap("login limit", err)
}

// now is the time passed to the statements: nil for the database's.
func (l *LoginLimit) now() any {
	if l.Now == nil {
		return nil
	}
	return l.Now()
}

// key is the stored key of key: the limit's name, a colon and the
// unpadded base64url HMAC-SHA-256 of name NUL key under the salt, 60
// characters at most.
func (l *LoginLimit) key(ctx context.Context, key string) (string, error) {
	salt, err := l.db.limitSalt(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(l.name))
	m.Write([]byte{0})
	m.Write([]byte(key))
	return l.name + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// saltCache holds the salt of the login limits' keys once read.
type saltCache struct {
	mu   sync.Mutex
	salt []byte
}

// limitSalt returns the database's salt of login-limit keys, making it
// (32 random bytes) if no instance has yet. A failure is not kept: the
// next call tries again.
func (d *DB) limitSalt(ctx context.Context) ([]byte, error) {
	d.salt.mu.Lock()
	defer d.salt.mu.Unlock()
	if d.salt.salt != nil {
		return d.salt.salt, nil
	}
	ctx, done := d.bound(ctx)
	defer done()
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if _, err := d.pool.Exec(ctx, `INSERT INTO login_limit_salt (id, salt) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fresh); err != nil {
		return nil, d.wrap("login limit salt", err)
	}
	// A second statement, with a new snapshot, sees the salt of an
	// instance whose insert won.
	var salt []byte
	if err := d.pool.QueryRow(ctx, `SELECT salt FROM login_limit_salt WHERE id = 1`).Scan(&salt); err != nil {
		return nil, d.wrap("login limit salt", err)
	}
	if len(salt) < 16 {
		return nil, fmt.Errorf("postgres: login limit salt: %d bytes, want at least 16", len(salt))
	}
	d.salt.salt = salt
	return salt, nil
}
