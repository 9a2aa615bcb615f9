package httpapi

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// faultStore is a real SQLite store that can pretend the database is down:
// while down is set every call fails with auth.ErrUnavailable and reaches
// nothing; while full is set only writes fail so (a full disk, a read-only
// database), and reads and Ping work.
type faultStore struct {
	s    *sqlite.DB
	down atomic.Bool
	full atomic.Bool
}

func newFaultStore(tb testing.TB) *faultStore {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return &faultStore{s: db}
}

var (
	errDown = fmt.Errorf("test: %w: database is down", auth.ErrUnavailable)
	errFull = fmt.Errorf("test: %w: database or disk is full", auth.ErrUnavailable)
)

func (f *faultStore) check() error {
	if f.down.Load() {
		return errDown
	}
	return nil
}

// call runs fn unless the store is down.
func call[T any](f *faultStore, fn func() (T, error)) (T, error) {
	if err := f.check(); err != nil {
		var zero T
		return zero, err
	}
	return fn()
}

func (f *faultStore) CreateUser(ctx context.Context, u *auth.User) error {
	return f.do(func() error { return f.s.CreateUser(ctx, u) })
}
func (f *faultStore) UserByName(ctx context.Context, name string) (*auth.User, error) {
	return call(f, func() (*auth.User, error) { return f.s.UserByName(ctx, name) })
}
func (f *faultStore) UserByID(ctx context.Context, id int64) (*auth.User, error) {
	return call(f, func() (*auth.User, error) { return f.s.UserByID(ctx, id) })
}
func (f *faultStore) ListUsers(ctx context.Context) ([]*auth.User, error) {
	return call(f, func() ([]*auth.User, error) { return f.s.ListUsers(ctx) })
}
func (f *faultStore) UsersPage(ctx context.Context, prefix, after string, limit int) ([]*auth.User, error) {
	return call(f, func() ([]*auth.User, error) { return f.s.UsersPage(ctx, prefix, after, limit) })
}
func (f *faultStore) UpdateUser(ctx context.Context, name string, upd auth.UserUpdate) (*auth.User, error) {
	if err := f.checkWrite(); err != nil {
		return nil, err
	}
	return f.s.UpdateUser(ctx, name, upd)
}
func (f *faultStore) DeleteUser(ctx context.Context, name string, end *auth.Revoke) error {
	return f.do(func() error { return f.s.DeleteUser(ctx, name, end) })
}
func (f *faultStore) CountUsers(ctx context.Context) (int, error) {
	return call(f, func() (int, error) { return f.s.CountUsers(ctx) })
}
func (f *faultStore) CreatePost(ctx context.Context, p *auth.Post) error {
	return f.do(func() error { return f.s.CreatePost(ctx, p) })
}
func (f *faultStore) Post(ctx context.Context, id int64) (*auth.Post, error) {
	return call(f, func() (*auth.Post, error) { return f.s.Post(ctx, id) })
}
func (f *faultStore) ListPosts(ctx context.Context, limit int, before int64) ([]*auth.Post, error) {
	return call(f, func() ([]*auth.Post, error) { return f.s.ListPosts(ctx, limit, before) })
}
func (f *faultStore) DeletePost(ctx context.Context, id int64) error {
	return f.do(func() error { return f.s.DeletePost(ctx, id) })
}
func (f *faultStore) CreateSession(ctx context.Context, s *auth.Session, first *auth.RefreshToken) error {
	return f.do(func() error { return f.s.CreateSession(ctx, s, first) })
}
func (f *faultStore) RefreshToken(ctx context.Context, hash []byte) (*auth.RefreshToken, *auth.Session, error) {
	if err := f.check(); err != nil {
		return nil, nil, err
	}
	return f.s.RefreshToken(ctx, hash)
}
func (f *faultStore) RotateRefreshToken(ctx context.Context, old []byte, clientID string, now time.Time, next *auth.RefreshToken) (rt *auth.RefreshToken, sess *auth.Session, err error) {
	err = f.do(func() (err error) { rt, sess, err = f.s.RotateRefreshToken(ctx, old, clientID, now, next); return err })
	return rt, sess, err
}
func (f *faultStore) Revoke(ctx context.Context, r auth.Revoke) error {
	return f.do(func() error { return f.s.Revoke(ctx, r) })
}
func (f *faultStore) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*auth.Session, error) {
	return call(f, func() ([]*auth.Session, error) { return f.s.UserSessions(ctx, userID, now) })
}
func (f *faultStore) RevocationsSince(ctx context.Context, since, now time.Time) ([]auth.Revocation, error) {
	return call(f, func() ([]auth.Revocation, error) { return f.s.RevocationsSince(ctx, since, now) })
}
func (f *faultStore) PurgeExpired(ctx context.Context, now time.Time) error {
	return f.do(func() error { return f.s.PurgeExpired(ctx, now) })
}
func (f *faultStore) SigningKeys(ctx context.Context) ([]auth.StoredKey, error) {
	return call(f, func() ([]auth.StoredKey, error) { return f.s.SigningKeys(ctx) })
}
func (f *faultStore) AddSigningKey(ctx context.Context, k auth.StoredKey, retire time.Time, onlyIfNone bool) error {
	return f.do(func() error { return f.s.AddSigningKey(ctx, k, retire, onlyIfNone) })
}
func (f *faultStore) Ping(ctx context.Context) error {
	if err := f.check(); err != nil {
		return err
	}
	return f.s.Ping(ctx)
}
func (f *faultStore) PingWrite(ctx context.Context) error {
	return f.do(func() error { return f.s.PingWrite(ctx) })
}
func (f *faultStore) Close() error { return nil } // the test's cleanup closes the database

// do runs the write fn unless the store is down or full.
func (f *faultStore) do(fn func() error) error {
	if err := f.checkWrite(); err != nil {
		return err
	}
	return fn()
}

func (f *faultStore) checkWrite() error {
	if err := f.check(); err != nil {
		return err
	}
	if f.full.Load() {
		return errFull
	}
	return nil
}

var _ auth.ClientStore = (*faultStore)(nil)

func (f *faultStore) CreateClient(ctx context.Context, c *auth.Client) error {
	return f.do(func() error { return f.s.CreateClient(ctx, c) })
}
func (f *faultStore) Client(ctx context.Context, id string) (*auth.Client, error) {
	return call(f, func() (*auth.Client, error) { return f.s.Client(ctx, id) })
}
func (f *faultStore) ListClients(ctx context.Context) ([]*auth.Client, error) {
	return call(f, func() ([]*auth.Client, error) { return f.s.ListClients(ctx) })
}
func (f *faultStore) SetClientSecret(ctx context.Context, id string, hash []byte) (*auth.Client, error) {
	if err := f.checkWrite(); err != nil {
		return nil, err
	}
	return f.s.SetClientSecret(ctx, id, hash)
}
func (f *faultStore) DeleteClient(ctx context.Context, id string, end *auth.Revoke) error {
	return f.do(func() error { return f.s.DeleteClient(ctx, id, end) })
}
func (f *faultStore) CreateAuthCode(ctx context.Context, c *auth.AuthCode) error {
	return f.do(func() error { return f.s.CreateAuthCode(ctx, c) })
}
func (f *faultStore) AuthCode(ctx context.Context, hash []byte) (*auth.AuthCode, error) {
	return call(f, func() (*auth.AuthCode, error) { return f.s.AuthCode(ctx, hash) })
}
func (f *faultStore) RedeemAuthCode(ctx context.Context, hash []byte, usedAt time.Time, sess *auth.Session, first *auth.RefreshToken) error {
	return f.do(func() error { return f.s.RedeemAuthCode(ctx, hash, usedAt, sess, first) })
}

var _ auth.MFAStore = (*faultStore)(nil)

func (f *faultStore) TOTP(ctx context.Context, userID int64) (*auth.TOTPSecret, error) {
	return call(f, func() (*auth.TOTPSecret, error) { return f.s.TOTP(ctx, userID) })
}
func (f *faultStore) PutTOTP(ctx context.Context, t *auth.TOTPSecret) error {
	return f.do(func() error { return f.s.PutTOTP(ctx, t) })
}
func (f *faultStore) ConfirmTOTP(ctx context.Context, userID int64, secretEnc []byte, at time.Time, step int64) error {
	return f.do(func() error { return f.s.ConfirmTOTP(ctx, userID, secretEnc, at, step) })
}
func (f *faultStore) UseTOTPStep(ctx context.Context, userID, step int64) error {
	return f.do(func() error { return f.s.UseTOTPStep(ctx, userID, step) })
}
func (f *faultStore) DeleteTOTP(ctx context.Context, userID int64) error {
	return f.do(func() error { return f.s.DeleteTOTP(ctx, userID) })
}
func (f *faultStore) SetRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	return f.do(func() error { return f.s.SetRecoveryCodes(ctx, userID, hashes) })
}
func (f *faultStore) UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) error {
	return f.do(func() error { return f.s.UseRecoveryCode(ctx, userID, hash, at) })
}
func (f *faultStore) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	return call(f, func() (int, error) { return f.s.RecoveryCodesLeft(ctx, userID) })
}
func (f *faultStore) CreateMFAChallenge(ctx context.Context, c *auth.MFAChallenge) error {
	return f.do(func() error { return f.s.CreateMFAChallenge(ctx, c) })
}
func (f *faultStore) MFAChallenge(ctx context.Context, hash []byte) (*auth.MFAChallenge, error) {
	return call(f, func() (*auth.MFAChallenge, error) { return f.s.MFAChallenge(ctx, hash) })
}
func (f *faultStore) FailMFAChallenge(ctx context.Context, hash []byte) (int, error) {
	if err := f.checkWrite(); err != nil {
		return 0, err
	}
	return f.s.FailMFAChallenge(ctx, hash)
}
func (f *faultStore) UseMFAChallenge(ctx context.Context, hash []byte, at time.Time, maxAttempts int) error {
	return f.do(func() error { return f.s.UseMFAChallenge(ctx, hash, at, maxAttempts) })
}
func (f *faultStore) ResetMFA(ctx context.Context, userID int64, end *auth.Revoke) error {
	return f.do(func() error { return f.s.ResetMFA(ctx, userID, end) })
}
func (f *faultStore) SetSessionAMR(ctx context.Context, sessionID string, amr []string) error {
	return f.do(func() error { return f.s.SetSessionAMR(ctx, sessionID, amr) })
}
