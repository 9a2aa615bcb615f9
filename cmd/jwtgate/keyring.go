package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
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
	load   func(ctx context.Context, now time.Time) (*auth.KeySet, error) // the keys in force at now
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
		r.load = func(context.Context, time.Time) (*auth.KeySet, error) {
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
	now := c.timeNow()
	created, err := auth.EnsureSigningKey(ctx, ks, now, func() (auth.StoredKey, error) {
		return firstKey(c, now)
	})
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	r := &keyring{source: "database"}
	if created {
		r.source = "database (generated)"
		log.Info("generated the first signing key", "alg", c.Alg)
	}
	r.load = func(ctx context.Context, now time.Time) (*auth.KeySet, error) {
		stored, err := ks.SigningKeys(ctx)
		if err != nil {
			return nil, err
		}
		return auth.BuildKeySet(stored, now)
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
func firstKey(c *serveConfig, now time.Time) (auth.StoredKey, error) {
	if jwt.Algorithm(c.Alg) != jwt.HS256 || c.storage().postgres() { // PostgreSQL: instances share no folder
		return auth.NewStoredKey(jwt.Algorithm(c.Alg), now)
	}
	k, _, err := dataFolderSecret(filepath.Join(c.Data, "hs256.jwk"))
	if err != nil {
		return auth.StoredKey{}, err
	}
	return auth.StoredKeyFrom(k, now)
}

// timeNow reads the server's clock: c.now (tests set it), else the wall
// clock.
func (c *serveConfig) timeNow() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// background runs the server's background work (auth.Background) until
// ctx ends, and asks it to reload the keys on SIGHUP and to load the
// revocations on each receive from revSync.
func background(ctx context.Context, c *serveConfig, svc *auth.Service, keys *keyring, cur *auth.KeySet, revSync <-chan struct{}, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is pending already
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	bg := &auth.Background{Service: svc, Keys: cur, LoadKeys: keys.load, RevocationPoll: c.RevocationPoll,
		KeyReload: c.KeyReload, Reload: reload, Sync: revSync, Log: log, AuditRetention: c.AuditRetention}
	bg.Run(ctx)
}
