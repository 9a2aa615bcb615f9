package guard

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// jwksSource holds the verifier built from the last good JWKS and fetches
// a new one when it is old or a token names an unknown key id. Fetches
// are single-flight (concurrent requests share one) and spaced at least
// MinRefreshInterval apart, whatever the tokens say.
type jwksSource struct {
	cfg  *Config // the Guard's, defaults applied; read-only
	opts []jwt.Option

	mu        sync.Mutex
	cur       *jwt.Verifier // nil until the first good fetch
	fetchedAt time.Time     // of cur
	attempt   time.Time     // of the last fetch, good or not
	inflight  *fetch
	lastErr   error // of the last failed fetch
}

// backoff is the wait after a fetch before the next: MinRefreshInterval
// while keys are held, at most a second before the first keys arrive (a
// service started just before jwtgate should not wait long).
func (s *jwksSource) backoff() time.Duration {
	if s.cur == nil {
		return min(s.cfg.MinRefreshInterval, time.Second)
	}
	return s.cfg.MinRefreshInterval
}

type fetch struct {
	done chan struct{}
	v    *jwt.Verifier
	err  error
}

func newJWKSSource(cfg *Config, opts []jwt.Option) (*jwksSource, error) {
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("guard: JWKSURL %q is not an http(s) URL", cfg.JWKSURL)
	}
	return &jwksSource{cfg: cfg, opts: opts}, nil
}

// verifier returns the current verifier. Only the first request, with no
// keys yet, waits for the JWKS; once keys are held, an old set is
// re-read in the background and requests go on with the keys at hand, so
// a slow JWKS endpoint never delays them. A failed re-read keeps the old
// keys in use: a JWKS outage must not lock every user out while their
// tokens are still good.
func (s *jwksSource) verifier(ctx context.Context) (*jwt.Verifier, error) {
	s.mu.Lock()
	cur, now := s.cur, s.cfg.Now()
	if cur != nil {
		if now.Sub(s.fetchedAt) >= s.cfg.RefreshInterval && s.inflight == nil && now.Sub(s.attempt) >= s.backoff() {
			s.start(now)
		}
		s.mu.Unlock()
		return cur, nil
	}
	if s.inflight == nil && now.Sub(s.attempt) < s.backoff() {
		// The last fetch just failed: refuse at once rather than hammer
		// a server that is down.
		err := s.lastErr
		s.mu.Unlock()
		if err == nil {
			err = ErrNoKeys
		}
		return nil, err
	}
	f := s.start(now)
	s.mu.Unlock()
	return f.wait(ctx)
}

// refreshFor fetches the JWKS again because a token's kid is not in seen,
// the verifier it was checked with, unless a fetch happened less than
// minInterval ago. It reports whether there is a newer verifier to try.
func (s *jwksSource) refreshFor(ctx context.Context, seen *jwt.Verifier) (*jwt.Verifier, bool) {
	s.mu.Lock()
	if s.cur != nil && s.cur != seen { // another request already refreshed
		v := s.cur
		s.mu.Unlock()
		return v, true
	}
	now := s.cfg.Now()
	if s.inflight == nil && now.Sub(s.attempt) < s.cfg.MinRefreshInterval {
		s.mu.Unlock()
		return nil, false
	}
	f := s.start(now)
	s.mu.Unlock()
	v, err := f.wait(ctx)
	if err != nil || v == seen {
		return nil, false
	}
	return v, true
}

// start joins the fetch in flight or begins one. s.mu must be held.
func (s *jwksSource) start(now time.Time) *fetch {
	if s.inflight != nil {
		return s.inflight
	}
	f := &fetch{done: make(chan struct{})}
	s.inflight, s.attempt = f, now
	go func() {
		v, err := s.load()
		s.mu.Lock()
		if err == nil {
			s.cur, s.fetchedAt, s.lastErr = v, s.cfg.Now(), nil
		} else {
			s.lastErr = err
			s.cfg.Log.Warn("guard: JWKS fetch failed", "url", s.cfg.JWKSURL, "err", err)
		}
		s.inflight = nil
		s.mu.Unlock()
		f.v, f.err = v, err
		close(f.done)
	}()
	return f
}

func (f *fetch) wait(ctx context.Context) (*jwt.Verifier, error) {
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, ctx.Err())
	}
}

// load fetches and parses the JWKS. It runs detached from any one
// request, so a client that goes away does not fail the others waiting.
func (s *jwksSource) load() (*jwt.Verifier, error) {
	jwksURL, maxBytes := s.cfg.JWKSURL, s.cfg.MaxJWKSBytes
	req, err := http.NewRequest(http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrNoKeys, jwksURL, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && mt != "application/jwk-set+json" {
		return nil, fmt.Errorf("%w: GET %s: Content-Type %q is not JSON", ErrNoKeys, jwksURL, mt)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrNoKeys, jwksURL, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrNoKeys, jwksURL, maxBytes)
	}
	return verifierFromJWKS(body, s.opts)
}

// verifierFromJWKS keeps only the public keys of a JWK Set. Symmetric
// keys are dropped (a published secret is no secret, and trusting one
// would let anyone mint tokens) and private halves are reduced to public.
func verifierFromJWKS(body []byte, opts []jwt.Option) (*jwt.Verifier, error) {
	all, err := jwt.ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	keys := make([]*jwt.Key, 0, len(all))
	for _, k := range all {
		if k.IsSymmetric() {
			continue
		}
		keys = append(keys, k.Public())
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: the JWKS holds no public signature key", ErrNoKeys)
	}
	v, err := jwt.NewVerifier(keys, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	return v, nil
}
