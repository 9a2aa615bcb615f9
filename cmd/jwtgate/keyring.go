package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/jwt"
)

// keyring is where the server's keys come from. Either the configuration
// names them (key files, a secret: the operator rotates them, and SIGHUP
// re-reads the files), or they are managed in the database: generated on
// first start, rotated with `jwtgate key rotate`, shared by every instance
// on the database and reloaded every --key-reload.
type keyring struct {
	source string
	load   func(ctx context.Context) (*auth.KeySet, error)
}

func newKeyring(ctx context.Context, c *serveConfig, env func(string) string, ks auth.KeyStore, log *slog.Logger) (*keyring, error) {
	if _, err := checkKeyFiles(c); err != nil {
		return nil, err
	}
	k, source, err := configuredKey(c, env)
	if err != nil {
		return nil, err
	}
	if k != nil {
		r := &keyring{source: source}
		warned := map[string]bool{} // each warning once, not on every periodic reload
		r.load = func(context.Context) (*auth.KeySet, error) {
			warns, err := checkKeyFiles(c)
			if err != nil {
				return nil, err
			}
			k, _, err := configuredKey(c, env)
			if err != nil {
				return nil, err
			}
			set := &auth.KeySet{Signing: k, Verify: []*jwt.Key{k}}
			for _, f := range strings.Split(c.VerifyKeyFiles, ",") {
				if f = strings.TrimSpace(f); f == "" {
					continue
				}
				vk, err := readKeyFile(f, "", false)
				if err != nil {
					return nil, fmt.Errorf("--verify-key-file: %w", err)
				}
				if vk.CanSign() { // a public key may be world-readable; a private one or a secret may not
					g, err := sqlite.CheckPrivate(f)
					if err != nil {
						return nil, fmt.Errorf("--verify-key-file: %w", err)
					}
					warns = append(warns, g...)
				}
				if vk.KeyID() == "" {
					tp, err := vk.Thumbprint()
					if err != nil {
						return nil, err
					}
					vk = vk.WithKeyID(tp)
				}
				set.Verify = append(set.Verify, vk)
			}
			for _, w := range warns {
				if !warned[w] {
					warned[w] = true
					log.Warn(w + groupHint)
				}
			}
			return set, nil
		}
		logFileKeys(ctx, c, source, ks, log)
		return r, nil
	}
	if c.VerifyKeyFiles != "" {
		return nil, errors.New("--verify-key-file needs --key-file or --secret-file: keys in the database rotate with `jwtgate key rotate`")
	}
	created, err := auth.EnsureSigningKey(ctx, ks, time.Now(), func() (auth.StoredKey, error) {
		return firstKey(c)
	})
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	r := &keyring{source: "database"}
	if created {
		r.source = "database (generated)"
		log.Info("generated the first signing key", "alg", c.Alg)
	}
	r.load = func(ctx context.Context) (*auth.KeySet, error) {
		stored, err := ks.SigningKeys(ctx)
		if err != nil {
			return nil, err
		}
		return auth.BuildKeySet(stored, time.Now())
	}
	return r, nil
}

// groupHint follows a warning that a file holding secrets is open to its
// group.
const groupHint = ": its group's members can read the secrets in it; expected on a volume shared through a group (Kubernetes fsGroup), otherwise: chmod g-rw the file"

// checkKeyFiles refuses a --key-file or --secret-file that others may
// read or write (the server signs with what they hold), and returns
// warnings for those the group may read or write.
func checkKeyFiles(c *serveConfig) ([]string, error) {
	var warns []string
	for _, f := range []struct{ flag, path string }{{"--key-file", c.KeyFile}, {"--secret-file", c.SecretFile}} {
		if f.path == "" {
			continue
		}
		g, err := sqlite.CheckPrivate(f.path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.flag, err)
		}
		warns = append(warns, g...)
	}
	return warns, nil
}

// logFileKeys says at start that this server signs with a configured key,
// so that whoever runs `jwtgate key rotate` on its database learns from
// the log why nothing changes, and what rotates the key instead.
func logFileKeys(ctx context.Context, c *serveConfig, source string, ks auth.KeyStore, log *slog.Logger) {
	what, rotate := "the secret in $JWTGATE_SECRET", "change $JWTGATE_SECRET and restart"
	switch source {
	case "key file":
		what, rotate = "the key in --key-file "+c.KeyFile, "replace the file, keep the old key as --verify-key-file until its tokens expire, and send SIGHUP (kill -HUP PID)"
	case "secret file":
		what, rotate = "the secret in --secret-file "+c.SecretFile, "replace the file, keep the old secret as --verify-key-file (an oct JWK) until its tokens expire, and send SIGHUP (kill -HUP PID)"
	}
	log.Info("signing with " + what + ", not with keys in the database (jwtgate key rotate and key list do not apply); to rotate: " + rotate)
	if stored, err := ks.SigningKeys(ctx); err == nil && len(stored) > 0 {
		log.Warn("the database holds signing keys this server does not use (from jwtgate key rotate, or a start without a key file)", "keys", len(stored))
	}
}

// firstKey makes the key of a new installation. An HS256 secret goes to
// the data folder's hs256.jwk (0600) as well, as jwtgate has always kept
// it there; an existing hs256.jwk from an older version is adopted.
func firstKey(c *serveConfig) (auth.StoredKey, error) {
	if jwt.Algorithm(c.Alg) != jwt.HS256 || c.storage().postgres() { // PostgreSQL: instances share no folder
		return auth.NewStoredKey(jwt.Algorithm(c.Alg), time.Now())
	}
	k, _, err := dataFolderSecret(filepath.Join(c.Data, "hs256.jwk"))
	if err != nil {
		return auth.StoredKey{}, err
	}
	return auth.StoredKeyFrom(k, time.Now())
}

// background runs until ctx ends: it loads revocations every
// --revocation-poll (so a logout elsewhere is enforced here within about
// that long), reloads keys every --key-reload, on SIGHUP, when a retired
// key's grace period ends and when a token names an unknown kid (at most
// once a second), keeps this server's token lifetime record in the
// database from lapsing, and purges expired rows hourly.
func background(ctx context.Context, c *serveConfig, store auth.SessionStore, svc *auth.Service, keys *keyring, cur *auth.KeySet, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	revTick := time.NewTicker(c.RevocationPoll)
	defer revTick.Stop()
	keyTick := time.NewTicker(c.KeyReload)
	defer keyTick.Stop()
	purgeTick := time.NewTicker(time.Hour)
	defer purgeTick.Stop()
	lifetimeTick := time.NewTicker(time.Minute)
	defer lifetimeTick.Stop()
	retire := time.NewTimer(time.Hour)
	defer retire.Stop()
	armRetire := func() {
		retire.Stop()
		if !cur.NextChange.IsZero() {
			retire.Reset(max(time.Until(cur.NextChange), 0) + time.Millisecond)
		}
	}
	armRetire()
	// A token with a kid we do not hold may come from an instance that
	// already rotated: reload at once, at most once a second, while the
	// request waits (up to unknownKidWait) so that it can be accepted.
	// Requests that meet the limit, or a full queue, are answered with the
	// keys as they are.
	kick := make(chan chan struct{}, 64)
	svc.Tokens.OnUnknownKey(func() {
		done := make(chan struct{})
		select {
		case kick <- done:
		default:
			return
		}
		t := time.NewTimer(unknownKidWait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
		}
	})
	var lastKick time.Time
	revFailing := false
	reload := func(why string) {
		next, err := keys.load(ctx)
		if err != nil {
			log.Warn("key reload failed; keeping the current keys", "why", why, "err", err)
			return
		}
		changed := !sameKeys(cur, next)
		cur = next
		armRetire()
		if !changed {
			return
		}
		if err := svc.Tokens.SetKeys(next.Signing, next.Verify); err != nil {
			log.Error("new keys refused; keeping the current keys", "err", err)
			return
		}
		var kids []string
		for _, k := range next.Verify {
			kids = append(kids, k.KeyID())
		}
		log.Info("keys reloaded", "why", why, "signing_kid", next.Signing.KeyID(), "alg", next.Signing.Algorithm(), "verify_kids", strings.Join(kids, ","))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-revTick.C:
			err := svc.SyncRevocations(ctx)
			if err != nil && !revFailing && ctx.Err() == nil {
				log.Warn("loading revocations failed; retrying", "err", err)
			} else if err == nil && revFailing {
				log.Info("loading revocations works again")
			}
			revFailing = err != nil
		case <-keyTick.C:
			reload("periodic")
		case <-hup:
			reload("SIGHUP")
		case <-retire.C:
			reload("grace period over")
		case done := <-kick:
			if time.Since(lastKick) >= time.Second {
				lastKick = time.Now()
				reload("unknown kid")
			}
			close(done)
			for len(kick) > 0 { // those who waited meanwhile see the same reload
				close(<-kick)
			}
		case <-lifetimeTick.C:
			if err := svc.RenewTokenLifetime(ctx); err != nil && ctx.Err() == nil {
				log.Warn("renewing the token lifetime record failed; retrying", "err", err)
			}
		case <-purgeTick.C:
			if err := store.PurgeExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("purging expired sessions failed", "err", err)
			}
		}
	}
}

// unknownKidWait bounds how long a request with an unknown kid waits for
// the reload it triggered.
const unknownKidWait = 2 * time.Second

// sameKeys compares key sets by signing kid and verify kids.
func sameKeys(a, b *auth.KeySet) bool {
	ids := func(s *auth.KeySet) []string {
		out := []string{s.Signing.KeyID()}
		for _, k := range s.Verify {
			out = append(out, k.KeyID())
		}
		return out
	}
	return slices.Equal(ids(a), ids(b))
}
