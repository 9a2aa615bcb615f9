package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/auth"
)

var _ auth.TokenLifetimeStore = (*DB)(nil)

// RecordTokenLifetime stores a server instance's token lifetime; a second
// record of the same instance keeps the larger value of each field.
// Durations are stored as milliseconds and Until as microseconds, both
// rounded up.
func (d *DB) RecordTokenLifetime(ctx context.Context, r auth.TokenLifetime) error {
	until := r.Until.Truncate(time.Microsecond)
	if until.Before(r.Until) {
		until = until.Add(time.Microsecond)
	}
	ctx, done := d.bound(ctx)
	defer done()
	_, err := d.pool.Exec(ctx, `INSERT INTO token_lifetimes (instance, access_ttl, leeway, until) VALUES ($1, $2, $3, $4)
		ON CONFLICT (instance) DO UPDATE SET access_ttl = GREATEST(token_lifetimes.access_ttl, excluded.access_ttl),
			leeway = GREATEST(token_lifetimes.leeway, excluded.leeway), until = GREATEST(token_lifetimes.until, excluded.until)`,
		r.Instance, msCeil(r.AccessTTL), msCeil(r.Leeway), until)
	return d.wrap("record token lifetime", err)
}

// TokenLifetimes returns the records whose until is after now.
func (d *DB) TokenLifetimes(ctx context.Context, now time.Time) ([]auth.TokenLifetime, error) {
	ctx, done := d.bound(ctx)
	defer done()
	rows, err := d.pool.Query(ctx, `SELECT instance, access_ttl, leeway, until FROM token_lifetimes WHERE until > $1`, now)
	if err != nil {
		return nil, d.wrap("token lifetimes", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (auth.TokenLifetime, error) {
		var r auth.TokenLifetime
		var ttl, leeway int64
		err := row.Scan(&r.Instance, &ttl, &leeway, &r.Until)
		r.AccessTTL, r.Leeway, r.Until = time.Duration(ttl)*time.Millisecond, time.Duration(leeway)*time.Millisecond, r.Until.UTC()
		return r, err
	})
	return out, d.wrap("token lifetimes", err)
}

// msCeil is d in milliseconds, rounded up: a stored lifetime is never
// shorter than the real one.
func msCeil(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
