package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

var _ auth.ClientStore = (*Store)(nil)

// splitList splits a stored list; "" is the empty list.
func splitList(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

func (s *Store) scanClient(r Row) (*auth.Client, error) {
	var c auth.Client
	var redirects, logouts string
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &redirects, &logouts, s.tc(&c.CreatedAt), s.tc(&c.UpdatedAt)); err != nil {
		return nil, err
	}
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	c.RedirectURIs, c.PostLogoutRedirectURIs = splitList(redirects, "\n"), splitList(logouts, "\n")
	return &c, nil
}

// CreateClient stores c and sets CreatedAt and UpdatedAt. URIs are stored
// newline-separated: the Service refuses URIs with control characters.
func (s *Store) CreateClient(ctx context.Context, c *auth.Client) error {
	ctx, done := s.bound(ctx)
	defer done()
	now := s.now()
	var secret any
	if len(c.SecretHash) > 0 {
		secret = c.SecretHash
	}
	_, err := s.exec(ctx, s.db, qCreateClient, c.ID, c.Name, secret, strings.Join(c.RedirectURIs, "\n"),
		strings.Join(c.PostLogoutRedirectURIs, "\n"), s.t(now), s.t(now))
	if err != nil {
		return s.wrap("create client", err)
	}
	c.CreatedAt, c.UpdatedAt = now, now
	return nil
}

// Client returns the client with this id.
func (s *Store) Client(ctx context.Context, id string) (*auth.Client, error) {
	if err := s.noSuchName("client", id); err != nil {
		return nil, err
	}
	ctx, done := s.bound(ctx)
	defer done()
	c, err := s.scanClient(s.queryRow(ctx, s.db, qClient, id))
	return c, s.wrap("client", err)
}

// ListClients returns every client, by name (bytewise) then id.
func (s *Store) ListClients(ctx context.Context) ([]*auth.Client, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qListClients)
	return collect(s, "list clients", rows, err, func(r Rows) (*auth.Client, error) { return s.scanClient(r) })
}

// SetClientSecret replaces the client's secret hash; nil makes it public.
func (s *Store) SetClientSecret(ctx context.Context, id string, hash []byte) (*auth.Client, error) {
	if err := s.noSuchName("set client secret", id); err != nil {
		return nil, err
	}
	ctx, done := s.bound(ctx)
	defer done()
	var secret any
	if len(hash) > 0 {
		secret = hash
	}
	c, err := s.scanClient(s.queryRow(ctx, s.db, qClientSecret, secret, s.t(s.now()), id))
	return c, s.wrap("set client secret", err)
}

// DeleteClient removes the client and, by ON DELETE CASCADE, its codes
// and sessions, recording end for the sessions first. The client's row is
// locked first (SQLite: the write lock is held from BEGIN), so a
// redemption of one of its codes, which share-locks it, commits either
// before, and its session is revoked, or after, and finds no client.
func (s *Store) DeleteClient(ctx context.Context, id string, end *auth.Revoke) error {
	const op = "delete client"
	if err := s.noSuchName(op, id); err != nil {
		return err
	}
	return s.tx(ctx, op, func(ctx context.Context, q Querier) error {
		var got string
		if err := s.queryRow(ctx, q, qLockClient, id).Scan(&got); err != nil {
			return err
		}
		if end != nil {
			r := *end
			r.SessionID, r.UserID, r.ClientID = "", 0, id
			if err := s.revoke(ctx, q, r); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, q, qDeleteClient, id)
		return err
	})
}

func (s *Store) scanCode(r Row) (*auth.AuthCode, error) {
	var c auth.AuthCode
	var scope, amr string
	if err := r.Scan(&c.Hash, &c.ClientID, &c.UserID, &c.SessionID, &c.RedirectURI, &scope, &c.Nonce, &c.CodeChallenge,
		s.tc(&c.AuthTime), s.tc(&c.ExpiresAt), s.tc(&c.UsedAt), &amr); err != nil {
		return nil, err
	}
	c.Scope, c.AMR = splitList(scope, " "), splitList(amr, " ")
	return &c, nil
}

// CreateAuthCode stores c, unused; an unknown client or user is
// auth.ErrInvalid.
func (s *Store) CreateAuthCode(ctx context.Context, c *auth.AuthCode) error {
	ctx, done := s.bound(ctx)
	defer done()
	_, err := s.exec(ctx, s.db, qCreateCode, c.Hash, c.ClientID, c.UserID, c.SessionID, c.RedirectURI, strings.Join(c.Scope, " "),
		c.Nonce, c.CodeChallenge, s.t(c.AuthTime), s.t(c.ExpiresAt), strings.Join(c.AMR, " "))
	if err = s.wrap("create auth code", err); errors.Is(err, auth.ErrInvalid) {
		return s.errorf("create auth code", "%w: unknown client or user", auth.ErrInvalid)
	}
	return err
}

// AuthCode returns the code with this hash.
func (s *Store) AuthCode(ctx context.Context, hash []byte) (*auth.AuthCode, error) {
	ctx, done := s.bound(ctx)
	defer done()
	c, err := s.scanCode(s.queryRow(ctx, s.db, qAuthCode, hash))
	return c, s.wrap("auth code", err)
}

// RedeemAuthCode marks the code used and starts its session in one
// transaction. Rows are locked in the order client, user, code (as
// DeleteClient and DeleteUser take them) so that none of them deadlock
// on PostgreSQL. Of two concurrent redemptions, the second waits for the
// code's row and then finds it used.
func (s *Store) RedeemAuthCode(ctx context.Context, hash []byte, usedAt time.Time, sess *auth.Session, first *auth.RefreshToken) error {
	const op = "redeem auth code"
	return s.tx(ctx, op, func(ctx context.Context, q Querier) error {
		var got string
		err := s.queryRow(ctx, q, qShareClient, sess.ClientID).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return s.errorf(op, "%w: the client is gone", auth.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var version int64
		err = s.queryRow(ctx, q, qUserVersion, sess.UserID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) || err == nil && version != sess.UserVersion {
			return s.errorf(op, "%w: the user changed since the code was read", auth.ErrStale)
		}
		if err != nil {
			return err
		}
		n, err := s.exec(ctx, q, qUseCode, s.t(usedAt), hash)
		if err != nil {
			return err
		}
		if n != 1 {
			var exists bool
			if err := s.queryRow(ctx, q, qCodeExists, hash).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return s.errorf(op, "%w: already used", auth.ErrConflict)
			}
			return s.errorf(op, "%w", auth.ErrNotFound)
		}
		return s.insertSession(ctx, q, sess, first)
	})
}
