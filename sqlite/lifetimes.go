package sqlite

import (
	"context"
	"time"

	"github.com/jwtgate/jwtgate/auth"
)

var _ auth.TokenLifetimeStore = (*DB)(nil)

// RecordTokenLifetime stores a server instance's token lifetime; a second
// record of the same instance keeps the larger value of each field.
// Durations and Until are stored as milliseconds, rounded up.
func (d *DB) RecordTokenLifetime(ctx context.Context, r auth.TokenLifetime) error {
	until := r.Until.UnixMilli()
	if time.UnixMilli(until).Before(r.Until) {
		until++
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO token_lifetimes (instance, access_ttl, leeway, until) VALUES (?, ?, ?, ?)
		ON CONFLICT (instance) DO UPDATE SET access_ttl = max(access_ttl, excluded.access_ttl),
			leeway = max(leeway, excluded.leeway), until = max(until, excluded.until)`,
		r.Instance, msCeil(r.AccessTTL), msCeil(r.Leeway), until)
	return d.wrap("record token lifetime", err)
}

// TokenLifetimes returns the records whose until is after now.
func (d *DB) TokenLifetimes(ctx context.Context, now time.Time) ([]auth.TokenLifetime, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT instance, access_ttl, leeway, until FROM token_lifetimes WHERE until > ?`, ms(now))
	if err != nil {
		return nil, d.wrap("token lifetimes", err)
	}
	defer rows.Close()
	var out []auth.TokenLifetime
	for rows.Next() {
		var r auth.TokenLifetime
		var ttl, leeway, until int64
		if err := rows.Scan(&r.Instance, &ttl, &leeway, &until); err != nil {
			return nil, d.wrap("token lifetimes", err)
		}
		r.AccessTTL, r.Leeway, r.Until = time.Duration(ttl)*time.Millisecond, time.Duration(leeway)*time.Millisecond, fromMS(until)
		out = append(out, r)
	}
	return out, d.wrap("token lifetimes", rows.Err())
}

// msCeil is d in milliseconds, rounded up: a stored lifetime is never
// shorter than the real one.
func msCeil(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
