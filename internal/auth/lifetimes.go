package auth

import (
	"context"
	"fmt"
	"math"
	"time"
)

// TokenLifetime is what one server instance records in the shared store
// about the access tokens it issues: their lifetime and the leeway its
// verification allows. Revocations made anywhere else (another instance,
// the command line, which cannot see the server's flags) read these
// records to last as long as any server accepts the tokens they refuse.
type TokenLifetime struct {
	Instance  string        // random id of one server process
	AccessTTL time.Duration // lifetime of the access tokens it issues
	Leeway    time.Duration // clock-skew allowance when it checks exp
	// Until is when the last token the instance may issue under this
	// record stops being accepted: the end of its lease plus AccessTTL
	// plus Leeway. The record matters until then, even after the process
	// has stopped or restarted with other settings.
	Until time.Time
}

// TokenLifetimeStore keeps the TokenLifetime records of the server
// instances on one database. The sqlite and postgres stores implement it.
// A Service whose Store does not knows only its own settings.
// Implementations return errors wrapping ErrInvalid or ErrUnavailable.
type TokenLifetimeStore interface {
	// RecordTokenLifetime stores r. A record of the same Instance is
	// updated, never shortened: each field keeps the larger value.
	RecordTokenLifetime(ctx context.Context, r TokenLifetime) error
	// TokenLifetimes returns the records whose Until is after now.
	// PurgeExpired deletes the others.
	TokenLifetimes(ctx context.Context, now time.Time) ([]TokenLifetime, error)
}

// LongestTokenAge returns how long after now an access token issued so far
// may still be accepted by a server on st: the longest AccessTTL plus the
// longest Leeway among the records in force at now (a token issued by one
// instance may be checked by another), and at least atLeast. A revocation
// or a key's grace period that lasts this long outlives every such token.
func LongestTokenAge(ctx context.Context, st TokenLifetimeStore, now time.Time, atLeast time.Duration) (time.Duration, error) {
	recs, err := st.TokenLifetimes(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("reading the servers' token lifetimes: %w", err)
	}
	var ttl, leeway time.Duration
	for _, r := range recs {
		ttl, leeway = max(ttl, r.AccessTTL), max(leeway, r.Leeway)
	}
	return max(atLeast, ttl+leeway), nil
}

// tokenLease is how long a TokenLifetime record covers the tokens an
// instance issues. It is renewed when less than half is left, before a
// token is issued and by RenewTokenLifetime; the record of an instance
// that stopped lapses a lease plus its token age later.
const tokenLease = 10 * time.Minute

// lifetimeStore is the Store's TokenLifetimeStore, if it has one.
func (s *Service) lifetimeStore() (TokenLifetimeStore, bool) {
	ls, ok := s.Store.(TokenLifetimeStore)
	return ls, ok
}

// ownTokenAge is how long an access token of this process's settings is
// accepted: TokenAge, else the Tokens' lifetime plus leeway, else
// DefaultTokenAge.
func (s *Service) ownTokenAge() time.Duration {
	if s.TokenAge > 0 {
		return s.TokenAge
	}
	if s.Tokens != nil {
		if age := s.Tokens.TTL() + s.Tokens.Leeway(); age > 0 {
			return age
		}
	}
	return DefaultTokenAge
}

// tokenAge is how long after now a token issued so far may be accepted by
// any server on the store: ownTokenAge, or longer if a server recorded
// longer-lived tokens (LongestTokenAge).
func (s *Service) tokenAge(ctx context.Context, now time.Time) (time.Duration, error) {
	own := s.ownTokenAge()
	ls, ok := s.lifetimeStore()
	if !ok {
		return own, nil
	}
	return LongestTokenAge(ctx, ls, now, own)
}

// RecordTokenLifetime records this instance's access-token lifetime and
// leeway (from Tokens) in the store, covering the tokens it issues for the
// next tokenLease. Servers call it at start, so that the command line and
// the other instances see the settings at once; StartSession and Refresh
// renew the record before it runs out, and so does RenewTokenLifetime. It
// does nothing without Tokens or when the Store is not a
// TokenLifetimeStore.
func (s *Service) RecordTokenLifetime(ctx context.Context) error {
	ls, ok := s.lifetimeStore()
	if s.Tokens == nil || !ok {
		return nil
	}
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	return s.renewLease(ctx, ls, s.now())
}

// RenewTokenLifetime renews the record of RecordTokenLifetime when less
// than half of its lease is left. Servers call it periodically, so that a
// running server's record never lapses even while it issues no tokens:
// its leeway applies to the tokens of other instances too.
func (s *Service) RenewTokenLifetime(ctx context.Context) error {
	_, err := s.renewIfDue(ctx, s.now())
	return err
}

// renewLease writes the record for a lease from now; leaseMu is held.
func (s *Service) renewLease(ctx context.Context, ls TokenLifetimeStore, now time.Time) error {
	if s.instance == "" {
		s.instance = randomID(12)
	}
	end := now.Add(tokenLease)
	ttl, leeway := s.Tokens.TTL(), max(s.Tokens.Leeway(), 0)
	r := TokenLifetime{Instance: s.instance, AccessTTL: ttl, Leeway: leeway, Until: end.Add(ttl + leeway)}
	if err := ls.RecordTokenLifetime(ctx, r); err != nil {
		return fmt.Errorf("recording the token lifetime: %w", err)
	}
	s.leaseEnd.Store(end.UnixNano())
	return nil
}

// renewIfDue renews the lease when less than half of it is left at now.
// It returns the end of the lease before the call (Unix nanoseconds).
func (s *Service) renewIfDue(ctx context.Context, now time.Time) (int64, error) {
	ls, ok := s.lifetimeStore()
	if s.Tokens == nil || !ok {
		return math.MaxInt64, nil
	}
	due := now.Add(tokenLease / 2).UnixNano()
	if end := s.leaseEnd.Load(); due < end {
		return end, nil
	}
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	end := s.leaseEnd.Load()
	if due < end {
		return end, nil // renewed while we waited
	}
	return end, s.renewLease(ctx, ls, now)
}

// coverIssue makes sure the store's record of this instance covers a token
// issued at now, renewing it when less than half the lease is left. A
// failed renewal only matters once the lease has run out: a token the
// record does not cover is not issued.
func (s *Service) coverIssue(ctx context.Context, now time.Time) error {
	end, err := s.renewIfDue(ctx, now)
	if err != nil && now.UnixNano() < end {
		s.log().Warn("token lifetime record not renewed yet; retrying at the next token", "err", err)
		return nil
	}
	return err
}
