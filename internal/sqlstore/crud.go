package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// Store has every method of auth.Store but Close, which the package
// that opened the database provides.
var (
	_ auth.TokenLifetimeStore = (*Store)(nil)
	_ auth.WriteChecker       = (*Store)(nil)
	_ auth.AuditStore         = (*Store)(nil)
)

const (
	userCols     = `id, name, role, password_hash, disabled, created_at, updated_at, version, must_change_password`
	postCols     = `p.id, p.author_id, u.name, p.title, p.body, p.created_at`
	enabledAdmin = `(role = 'admin' AND NOT disabled)`

	qPing         = `SELECT 1`
	qCreateUser   = `INSERT INTO users (name, name_key, role, password_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, version`
	qUserByName   = `SELECT ` + userCols + ` FROM users WHERE name_key = ?`
	qUserByID     = `SELECT ` + userCols + ` FROM users WHERE id = ?`
	qListUsers    = `SELECT ` + userCols + ` FROM users ORDER BY name_key COLLATE "C"`
	qCountUsers   = `SELECT count(*) FROM users`
	qWasAdmin     = `SELECT ` + enabledAdmin + ` FROM users WHERE name_key = ? FOR UPDATE`
	qUserToDelete = `SELECT id, ` + enabledAdmin + ` FROM users WHERE name_key = ? FOR UPDATE`
	qDeleteUser   = `DELETE FROM users WHERE id = ?`
	qOtherAdmin   = `SELECT EXISTS (SELECT 1 FROM users WHERE ` + enabledAdmin + ` AND id <> ?)`
	// The author's name is read by the insert itself.
	qCreatePost = `INSERT INTO posts (author_id, title, body, created_at) VALUES (?, ?, ?, ?) RETURNING id, (SELECT name FROM users WHERE users.id = author_id)`
	qPost       = `SELECT ` + postCols + ` FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = ?`
	qListPosts  = `SELECT ` + postCols + ` FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id < ? ORDER BY p.id DESC LIMIT ?`
	qDeletePost = `DELETE FROM posts WHERE id = ?`

	qUserVersion   = `SELECT version FROM users WHERE id = ? FOR SHARE`
	qInsertSession = `INSERT INTO sessions (id, user_id, created_at, expires_at, client_id, scope, auth_time, client_ip, user_agent, amr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertRefresh = `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`
	// The session's user comes with the token: a refresh needs the role
	// and name it signs, and one round trip fewer.
	qRefreshToken = `SELECT r.hash, r.session_id, r.expires_at, r.used_at, s.created_at, s.expires_at, s.revoked_at, s.client_id, s.scope, s.auth_time, s.amr, u.id, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at, u.version, u.must_change_password
		FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id WHERE r.hash = ?`
	qUseRefresh   = `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`
	qTouchSession = `UPDATE sessions SET last_refreshed_at = ? WHERE id = ?`
	qEndSessions  = `UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND (id = ? OR user_id = ? OR client_id = ?) AND id <> ? RETURNING id`
	qUserSessions = `SELECT id, created_at, expires_at, client_id, scope, auth_time, client_ip, user_agent, last_refreshed_at FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id`
	qAddRevoked   = `INSERT INTO revocations (id, until, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET until = GREATEST(revocations.until, excluded.until), created_at = excluded.created_at`
	qRevocations  = `SELECT id, until, created_at FROM revocations WHERE created_at >= ? AND until > ?`
	qPurgeRevoked = `DELETE FROM revocations WHERE until <= ?`
	qPurgeSession = `DELETE FROM sessions WHERE expires_at <= ? OR revoked_at <= ?`
	qPurgeRefresh = `DELETE FROM refresh_tokens WHERE expires_at <= ?`
	qPurgeKeys    = `DELETE FROM signing_keys WHERE retire_at <= ?`
	qPurgeLife    = `DELETE FROM token_lifetimes WHERE until <= ?`
	qPurgeCodes   = `DELETE FROM oauth_codes WHERE expires_at <= ?`
	qPurgeLimits  = `DELETE FROM login_limits WHERE full_at <= ?`

	clientCols    = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, created_at, updated_at`
	codeCols      = `hash, client_id, user_id, session_id, redirect_uri, scope, nonce, code_challenge, auth_time, expires_at, used_at, amr`
	qCreateClient = `INSERT INTO oauth_clients (` + clientCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qClient       = `SELECT ` + clientCols + ` FROM oauth_clients WHERE id = ?`
	qListClients  = `SELECT ` + clientCols + ` FROM oauth_clients ORDER BY name COLLATE "C", id COLLATE "C"`
	qClientSecret = `UPDATE oauth_clients SET secret_hash = ?, updated_at = GREATEST(updated_at, ?) WHERE id = ? RETURNING ` + clientCols
	qLockClient   = `SELECT id FROM oauth_clients WHERE id = ? FOR UPDATE`
	qShareClient  = `SELECT id FROM oauth_clients WHERE id = ? FOR SHARE`
	qDeleteClient = `DELETE FROM oauth_clients WHERE id = ?`
	qCreateCode   = `INSERT INTO oauth_codes (` + codeCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`
	qAuthCode     = `SELECT ` + codeCols + ` FROM oauth_codes WHERE hash = ?`
	qUseCode      = `UPDATE oauth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL`
	qCodeExists   = `SELECT EXISTS (SELECT 1 FROM oauth_codes WHERE hash = ?)`

	// Second factors (mfa.go). A pending TOTP enrolment is replaced by a
	// new one; a confirmed one stays until it is deleted.
	qTOTP    = `SELECT user_id, secret_enc, created_at, confirmed_at, last_step FROM mfa_totp WHERE user_id = ?`
	qPutTOTP = `INSERT INTO mfa_totp (user_id, secret_enc, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc, created_at = excluded.created_at, last_step = 0
		WHERE mfa_totp.confirmed_at IS NULL`
	qConfirmTOTP = `UPDATE mfa_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND secret_enc = ? AND confirmed_at IS NULL`
	// A step is used at most once: of two concurrent uses of one code,
	// the second finds last_step already at it.
	qUseTOTPStep      = `UPDATE mfa_totp SET last_step = ? WHERE user_id = ? AND last_step < ? AND confirmed_at IS NOT NULL`
	qDeleteTOTP       = `DELETE FROM mfa_totp WHERE user_id = ?`
	qDeleteRecovery   = `DELETE FROM mfa_recovery WHERE user_id = ?`
	qInsertRecovery   = `INSERT INTO mfa_recovery (user_id, hash) VALUES (?, ?)`
	qUseRecovery      = `UPDATE mfa_recovery SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`
	qRecoveryLeft     = `SELECT count(*) FROM mfa_recovery WHERE user_id = ? AND used_at IS NULL`
	challengeCols     = `hash, user_id, client_ip, kind, data, attempts, expires_at, used_at`
	qCreateChallenge  = `INSERT INTO mfa_challenges (hash, user_id, client_ip, kind, data, expires_at) VALUES (?, ?, ?, ?, ?, ?)`
	qChallenge        = `SELECT ` + challengeCols + ` FROM mfa_challenges WHERE hash = ?`
	qFailChallenge    = `UPDATE mfa_challenges SET attempts = attempts + 1 WHERE hash = ? RETURNING attempts`
	qUseChallenge     = `UPDATE mfa_challenges SET used_at = ? WHERE hash = ? AND used_at IS NULL AND attempts < ?`
	qDeleteChallenges = `DELETE FROM mfa_challenges WHERE user_id = ?`
	qSessionAMR       = `UPDATE sessions SET amr = ? WHERE id = ?`
	qPurgeChallenges  = `DELETE FROM mfa_challenges WHERE expires_at <= ?`

	qSigningKeys = `SELECT kid, jwk, created_at, retire_at FROM signing_keys`
	qCountKeys   = `SELECT count(*) FROM signing_keys`
	qRetireKeys  = `UPDATE signing_keys SET retire_at = ? WHERE retire_at IS NULL`
	qInsertKey   = `INSERT INTO signing_keys (kid, jwk, created_at) VALUES (?, ?, ?)`

	qRecordLifetime = `INSERT INTO token_lifetimes (instance, access_ttl, leeway, until) VALUES (?, ?, ?, ?)
		ON CONFLICT (instance) DO UPDATE SET access_ttl = GREATEST(token_lifetimes.access_ttl, excluded.access_ttl),
			leeway = GREATEST(token_lifetimes.leeway, excluded.leeway), until = GREATEST(token_lifetimes.until, excluded.until)`
	qLifetimes = `SELECT instance, access_ttl, leeway, until FROM token_lifetimes WHERE until > ?`

	auditCols      = `id, at, event, actor, username, user_key, user_id, client_ip, session_id, client_id, key_id, reason`
	qAddAudit      = `INSERT INTO audit_events (at, event, actor, actor_key, username, user_key, user_id, client_ip, session_id, client_id, key_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	qAuditEvents   = `SELECT ` + auditCols + ` FROM audit_events WHERE id < ? AND at >= ? ORDER BY id DESC LIMIT ?`
	qAuditEventsOf = `SELECT ` + auditCols + ` FROM audit_events WHERE id < ? AND at >= ? AND (user_key = ? OR actor_key = ?) ORDER BY id DESC LIMIT ?`
	qPurgeAudit    = `DELETE FROM audit_events WHERE at < ?`

	// probeVersion is the schema_migrations key of PingWrite's row, which
	// no migration can have (migration versions start with a number).
	qProbeInsert = `INSERT INTO schema_migrations (version, applied_at) VALUES ('write-probe', ?) ON CONFLICT (version) DO NOTHING`
	qProbeDelete = `DELETE FROM schema_migrations WHERE version = 'write-probe'`

	// A page of users whose name_key starts with a prefix: the range
	// [prefix, prefix+U+10FFFF) in byte order (no name_key holds U+10FFFF,
	// a noncharacter), after the cursor. Both bounds and the order are in
	// byte order, which the users_name_key index serves (PostgreSQL: its
	// COLLATE "C" index, migration 010).
	qUsersPage = `SELECT ` + userCols + ` FROM users WHERE name_key COLLATE "C" >= ? AND name_key COLLATE "C" < ? AND name_key COLLATE "C" > ?
		ORDER BY name_key COLLATE "C" LIMIT ?`
)

// queries are the fixed queries New prepares.
var queries = []string{
	qPing, qCreateUser, qUserByName, qUserByID, qListUsers, qCountUsers, qUsersPage, qWasAdmin, qUserToDelete, qDeleteUser, qOtherAdmin,
	qCreatePost, qPost, qListPosts, qDeletePost,
	qUserVersion, qInsertSession, qInsertRefresh, qRefreshToken, qUseRefresh, qTouchSession, qEndSessions, qUserSessions, qAddRevoked,
	qRevocations, qPurgeRevoked, qPurgeSession, qPurgeRefresh, qPurgeKeys, qPurgeLife, qPurgeCodes, qPurgeLimits,
	qCreateClient, qClient, qListClients, qClientSecret, qLockClient, qShareClient, qDeleteClient,
	qCreateCode, qAuthCode, qUseCode, qCodeExists,
	qTOTP, qPutTOTP, qConfirmTOTP, qUseTOTPStep, qDeleteTOTP, qDeleteRecovery, qInsertRecovery, qUseRecovery, qRecoveryLeft,
	qCreateChallenge, qChallenge, qFailChallenge, qUseChallenge, qDeleteChallenges, qSessionAMR, qPurgeChallenges,
	qSigningKeys, qCountKeys, qRetireKeys, qInsertKey, qRecordLifetime, qLifetimes, qProbeInsert, qProbeDelete,
	qAddAudit, qAuditEvents, qAuditEventsOf, qPurgeAudit,
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	ctx, done := s.bound(ctx)
	defer done()
	var one int
	return s.wrap("ping", s.queryRow(ctx, s.db, qPing).Scan(&one))
}

// PingWrite commits a transaction that inserts a row and deletes it
// again, so it fails where the store's writes do: a full disk, a
// read-only file or server, a lock not had in time. A rolled-back
// transaction would prove nothing. schema_migrations is used because its
// shape is fixed by the stores, not by a migration.
func (s *Store) PingWrite(ctx context.Context) error {
	return s.tx(ctx, "write probe", func(ctx context.Context, q Querier) error {
		if _, err := s.exec(ctx, q, qProbeInsert, s.t(s.now())); err != nil {
			return err
		}
		_, err := s.exec(ctx, q, qProbeDelete)
		return err
	})
}

func (s *Store) scanUser(r Row, before ...any) (*auth.User, error) {
	var u auth.User
	var role string
	if err := r.Scan(append(before, &u.ID, &u.Name, &role, &u.PasswordHash, &u.Disabled, s.tc(&u.CreatedAt), s.tc(&u.UpdatedAt), &u.Version, &u.MustChangePassword)...); err != nil {
		return nil, err
	}
	u.Role = auth.Role(role)
	return &u, nil
}

// noSuchName is auth.ErrNotFound for a name the database cannot hold.
func (s *Store) noSuchName(op, name string) error {
	if s.d.ValidText != nil && !s.d.ValidText(name) {
		return s.errorf(op, "%w", auth.ErrNotFound)
	}
	return nil
}

// CreateUser inserts u and sets its ID, CreatedAt, UpdatedAt and Version.
// A name equal to an existing one ignoring case (same auth.NameKey) is
// auth.ErrConflict. IDs are never reused.
func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	ctx, done := s.bound(ctx)
	defer done()
	now := s.now()
	var id, version int64
	err := s.queryRow(ctx, s.db, qCreateUser, u.Name, auth.NameKey(u.Name), string(u.Role), u.PasswordHash, u.Disabled, s.t(now), s.t(now)).
		Scan(&id, &version)
	if err != nil {
		return s.wrap("create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Version = id, now, now, version
	return nil
}

// UserByName looks a user up by name, ignoring case.
func (s *Store) UserByName(ctx context.Context, name string) (*auth.User, error) {
	if err := s.noSuchName("user by name", name); err != nil {
		return nil, err
	}
	ctx, done := s.bound(ctx)
	defer done()
	u, err := s.scanUser(s.queryRow(ctx, s.db, qUserByName, auth.NameKey(name)))
	return u, s.wrap("user by name", err)
}

// UserByID looks a user up by id.
func (s *Store) UserByID(ctx context.Context, id int64) (*auth.User, error) {
	ctx, done := s.bound(ctx)
	defer done()
	u, err := s.scanUser(s.queryRow(ctx, s.db, qUserByID, id))
	return u, s.wrap("user by id", err)
}

// ListUsers returns every user ordered by name ignoring case: in byte
// order of name_key.
func (s *Store) ListUsers(ctx context.Context) ([]*auth.User, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qListUsers)
	return collect(s, "list users", rows, err, func(r Rows) (*auth.User, error) { return s.scanUser(r) })
}

// UsersPage returns up to limit users whose name_key starts with prefix
// and sorts after after ("" for the first page), in byte order of
// name_key; both are auth.NameKey forms. The last name_key of a page is
// the cursor of the next. A prefix or cursor the database cannot hold is
// auth.ErrInvalid.
func (s *Store) UsersPage(ctx context.Context, prefix, after string, limit int) ([]*auth.User, error) {
	const op = "users page"
	if limit <= 0 {
		return nil, s.errorf(op, "%w: limit must be positive", auth.ErrInvalid)
	}
	if s.d.ValidText != nil && (!s.d.ValidText(prefix) || !s.d.ValidText(after)) {
		return nil, s.errorf(op, "%w: search text or cursor is not text", auth.ErrInvalid)
	}
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qUsersPage, prefix, prefix+prefixEnd, after, limit)
	return collect(s, op, rows, err, func(r Rows) (*auth.User, error) { return s.scanUser(r) })
}

// prefixEnd follows every name_key that starts with a prefix when
// appended to it: the highest code point.
const prefixEnd = "\U0010FFFF"

// UsersPageSQL is UsersPage's query as the database runs it, for tests
// that check its plan.
func (s *Store) UsersPageSQL() string { return s.rebind(qUsersPage) }

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	ctx, done := s.bound(ctx)
	defer done()
	var n int
	err := s.queryRow(ctx, s.db, qCountUsers).Scan(&n)
	return n, s.wrap("count users", err)
}

// UpdateUser changes the given fields and updated_at (which never goes
// back, even if the clock does) in one statement and returns the user as
// stored; with EndSessions the version advances and the user's sessions
// are revoked in the same transaction. An update that gives no field
// changes nothing and returns the user. A change that would leave no
// enabled admin is auth.ErrLastAdmin: the check runs under the
// dialect's AdminLock (SQLite: the write lock taken at BEGIN), so it sees
// every earlier change.
func (s *Store) UpdateUser(ctx context.Context, name string, upd auth.UserUpdate) (*auth.User, error) {
	var sets []string
	var args []any
	if upd.Role != nil {
		sets, args = append(sets, "role = ?"), append(args, string(*upd.Role))
	}
	if upd.Disabled != nil {
		sets, args = append(sets, "disabled = ?"), append(args, *upd.Disabled)
	}
	if upd.PasswordHash != nil {
		sets, args = append(sets, "password_hash = ?"), append(args, *upd.PasswordHash)
	}
	// A new password clears the flag unless the update says otherwise:
	// whichever path changes a password, the user has then chosen it.
	switch {
	case upd.MustChangePassword != nil:
		sets, args = append(sets, "must_change_password = ?"), append(args, *upd.MustChangePassword)
	case upd.PasswordHash != nil:
		sets = append(sets, "must_change_password = FALSE")
	}
	if len(sets) == 0 && upd.EndSessions == nil {
		return s.UserByName(ctx, name)
	}
	if err := s.noSuchName("update user", name); err != nil {
		return nil, err
	}
	if upd.EndSessions != nil {
		sets = append(sets, "version = version + 1")
	}
	sets, args = append(sets, "updated_at = GREATEST(updated_at, ?)"), append(args, s.t(s.now()))
	key := auth.NameKey(name)
	args = append(args, key)
	var u *auth.User
	err := s.tx(ctx, "update user", func(ctx context.Context, q Querier) error {
		if upd.Role != nil || upd.Disabled != nil {
			if err := s.lockAdmins(ctx, q); err != nil {
				return err
			}
		}
		var wasAdmin bool
		if err := s.queryRow(ctx, q, qWasAdmin, key).Scan(&wasAdmin); err != nil {
			return err
		}
		var err error
		u, err = s.scanUser(s.queryRow(ctx, q, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE name_key = ? RETURNING `+userCols, args...))
		if err != nil {
			return err
		}
		if wasAdmin && (u.Role != auth.RoleAdmin || u.Disabled) {
			if err := s.otherAdmin(ctx, q, u.ID); err != nil {
				return err
			}
		}
		if upd.EndSessions == nil {
			return nil
		}
		r := *upd.EndSessions
		r.UserID = u.ID
		return s.revoke(ctx, q, r)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser removes the user and, by ON DELETE CASCADE, their posts and
// sessions; end, if given, is recorded for the sessions first, in the
// same transaction.
func (s *Store) DeleteUser(ctx context.Context, name string, end *auth.Revoke) error {
	if err := s.noSuchName("delete user", name); err != nil {
		return err
	}
	return s.tx(ctx, "delete user", func(ctx context.Context, q Querier) error {
		if err := s.lockAdmins(ctx, q); err != nil {
			return err
		}
		var id int64
		var admin bool
		if err := s.queryRow(ctx, q, qUserToDelete, auth.NameKey(name)).Scan(&id, &admin); err != nil {
			return err
		}
		if admin {
			if err := s.otherAdmin(ctx, q, id); err != nil {
				return err
			}
		}
		if end != nil {
			r := *end
			r.UserID = id
			if err := s.revoke(ctx, q, r); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, q, qDeleteUser, id)
		return err
	})
}

// lockAdmins runs the dialect's AdminLock. Row locks alone would not do:
// of two admins demoting each other, each transaction would lock only its
// own target.
func (s *Store) lockAdmins(ctx context.Context, q Querier) error {
	if s.d.AdminLock == "" {
		return nil
	}
	_, err := q.Exec(ctx, s.d.AdminLock)
	return err
}

// otherAdmin fails with auth.ErrLastAdmin unless an enabled admin other
// than the user id exists.
func (s *Store) otherAdmin(ctx context.Context, q Querier, id int64) error {
	var ok bool
	if err := s.queryRow(ctx, q, qOtherAdmin, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return auth.ErrLastAdmin
	}
	return nil
}

func (s *Store) scanPost(r Row) (*auth.Post, error) {
	var p auth.Post
	if err := r.Scan(&p.ID, &p.AuthorID, &p.Author, &p.Title, &p.Body, s.tc(&p.CreatedAt)); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreatePost inserts p and sets its ID, Author and CreatedAt. An AuthorID
// that is no user's is auth.ErrInvalid.
func (s *Store) CreatePost(ctx context.Context, p *auth.Post) error {
	ctx, done := s.bound(ctx)
	defer done()
	now := s.now()
	var id int64
	var author string
	if err := s.queryRow(ctx, s.db, qCreatePost, p.AuthorID, p.Title, p.Body, s.t(now)).Scan(&id, &author); err != nil {
		return s.wrap("create post", err)
	}
	p.ID, p.Author, p.CreatedAt = id, author, now
	return nil
}

// Post returns one post with its author's name.
func (s *Store) Post(ctx context.Context, id int64) (*auth.Post, error) {
	ctx, done := s.bound(ctx)
	defer done()
	p, err := s.scanPost(s.queryRow(ctx, s.db, qPost, id))
	return p, s.wrap("post", err)
}

// ListPosts returns up to limit posts with ids below before (0: from the
// newest), newest (highest id) first. Ids are never reused, so the last
// id of a page is a stable cursor for the next.
func (s *Store) ListPosts(ctx context.Context, limit int, before int64) ([]*auth.Post, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive", auth.ErrInvalid)
	}
	if before < 0 {
		return nil, fmt.Errorf("%w: cursor must be a post id", auth.ErrInvalid)
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qListPosts, before, limit)
	return collect(s, "list posts", rows, err, func(r Rows) (*auth.Post, error) { return s.scanPost(r) })
}

// DeletePost removes a post.
func (s *Store) DeletePost(ctx context.Context, id int64) error {
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qDeletePost, id)
	if err != nil {
		return s.wrap("delete post", err)
	}
	if n == 0 {
		return s.errorf("delete post", "%w", auth.ErrNotFound)
	}
	return nil
}

// CountRows returns the number of rows of one of jwtgate's tables, for
// tests and diagnostics.
func (s *Store) CountRows(ctx context.Context, table string) (int, error) {
	switch table {
	case "users", "posts", "sessions", "refresh_tokens", "revocations", "signing_keys", "token_lifetimes", "oauth_clients", "oauth_codes", "audit_events":
	default:
		return 0, fmt.Errorf("%w: unknown table %q", auth.ErrInvalid, table)
	}
	ctx, done := s.bound(ctx)
	defer done()
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM `+table).Scan(&n)
	return n, s.wrap("count "+table, err)
}

// CreateSession stores a session and its first refresh token in one
// transaction, if the user's version is still s.UserVersion (else
// auth.ErrStale). The user's row is share-locked (SQLite: the write lock
// is held from BEGIN), so a change of the user commits either before the
// check or after the session, which it then revokes.
func (s *Store) CreateSession(ctx context.Context, sess *auth.Session, first *auth.RefreshToken) error {
	return s.tx(ctx, "create session", func(ctx context.Context, q Querier) error {
		var version int64
		err := s.queryRow(ctx, q, qUserVersion, sess.UserID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) || err == nil && version != sess.UserVersion {
			return s.errorf("create session", "%w: the user changed since the login read it", auth.ErrStale)
		}
		if err != nil {
			return err
		}
		return s.insertSession(ctx, q, sess, first)
	})
}

// insertSession inserts sess and, if not nil, its first refresh token.
func (s *Store) insertSession(ctx context.Context, q Querier, sess *auth.Session, first *auth.RefreshToken) error {
	var client, authTime any
	if sess.ClientID != "" {
		client = sess.ClientID
	}
	if !sess.AuthTime.IsZero() {
		authTime = s.t(sess.AuthTime)
	}
	if _, err := s.exec(ctx, q, qInsertSession, sess.ID, sess.UserID, s.t(sess.CreatedAt), s.t(sess.ExpiresAt),
		client, strings.Join(sess.Scope, " "), authTime, sess.ClientIP, sess.UserAgent, strings.Join(sess.AMR, " ")); err != nil {
		return err
	}
	if first == nil {
		return nil
	}
	_, err := s.exec(ctx, q, qInsertRefresh, first.Hash, sess.ID, s.t(first.ExpiresAt))
	return err
}

// RefreshToken returns a refresh token by hash, with its session and the
// session's user.
func (s *Store) RefreshToken(ctx context.Context, hash []byte) (*auth.RefreshToken, *auth.Session, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rt, sess, err := s.scanRefresh(s.queryRow(ctx, s.db, qRefreshToken, hash))
	if err != nil {
		return nil, nil, s.wrap("refresh token", err)
	}
	return rt, sess, nil
}

// scanRefresh reads qRefreshToken's columns, after the destinations in
// before.
func (s *Store) scanRefresh(r Row, before ...any) (*auth.RefreshToken, *auth.Session, error) {
	var rt auth.RefreshToken
	var sess auth.Session
	var client sql.NullString
	var scope, amr string
	u, err := s.scanUser(r, append(before, &rt.Hash, &rt.SessionID, s.tc(&rt.ExpiresAt), s.tc(&rt.UsedAt),
		s.tc(&sess.CreatedAt), s.tc(&sess.ExpiresAt), s.tc(&sess.RevokedAt), &client, &scope, s.tc(&sess.AuthTime), &amr)...)
	if err != nil {
		return nil, nil, err
	}
	sess.ID, sess.UserID, sess.User = rt.SessionID, u.ID, u
	sess.ClientID, sess.Scope, sess.AMR = client.String, splitList(scope, " "), splitList(amr, " ")
	return &rt, &sess, nil
}

// RotateRefreshToken rotates the token oldHash if, at now, it may be (see
// auth.SessionStore): it marks it used, stores next in its session and
// touches the session. Of two concurrent rotations of one token exactly
// one marks it: the other waits for the row (or the write lock) and then
// finds used_at set.
//
// With the dialect's RotateSQL, the rotations of concurrent calls run in
// batches, one statement and one round trip each (see rotations);
// otherwise each is a transaction that holds the write lock from its
// read on.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash []byte, clientID string, now time.Time, next *auth.RefreshToken) (*auth.RefreshToken, *auth.Session, error) {
	const op = "rotate refresh token"
	if s.d.RotateSQL != "" {
		if err := ctx.Err(); err != nil {
			return nil, nil, s.wrap(op, err)
		}
		r := &rotation{oldHash: oldHash, clientID: clientID, now: now, next: next}
		s.rotateBatched(ctx, r)
		return r.rt, r.sess, r.err
	}
	var rt *auth.RefreshToken
	var sess *auth.Session
	err := s.tx(ctx, op, func(ctx context.Context, q Querier) error {
		var err error
		if rt, sess, err = s.scanRefresh(s.queryRow(ctx, q, qRefreshToken, oldHash)); err != nil {
			return err
		}
		if err := s.refuseRotation(rt, sess, clientID, now); err != nil {
			return err
		}
		next.SessionID, next.ExpiresAt = sess.ID, minTime(next.ExpiresAt, sess.ExpiresAt)
		n, err := s.exec(ctx, q, qUseRefresh, s.t(now), oldHash)
		if err != nil {
			return err
		}
		if n != 1 {
			return s.errorf(op, "%w: used concurrently", auth.ErrConflict)
		}
		if _, err := s.exec(ctx, q, qInsertRefresh, next.Hash, next.SessionID, s.t(next.ExpiresAt)); err != nil {
			return err
		}
		_, err = s.exec(ctx, q, qTouchSession, s.t(now), next.SessionID)
		return err
	})
	return rt, sess, err
}

// refuseRotation says why rt may not be rotated at now for clientID, or
// returns nil: another client's token is auth.ErrStale, used or not; a
// used one auth.ErrConflict; an expired token or session, a revoked
// session or a disabled user auth.ErrStale.
func (s *Store) refuseRotation(rt *auth.RefreshToken, sess *auth.Session, clientID string, now time.Time) error {
	const op = "rotate refresh token"
	switch {
	case sess.ClientID != clientID:
		return s.errorf(op, "%w: another client's token", auth.ErrStale)
	case !rt.UsedAt.IsZero():
		return s.errorf(op, "%w: already used", auth.ErrConflict)
	case !sess.RevokedAt.IsZero():
		return s.errorf(op, "%w: the session ended", auth.ErrStale)
	case !now.Before(rt.ExpiresAt) || !now.Before(sess.ExpiresAt):
		return s.errorf(op, "%w: expired", auth.ErrStale)
	case sess.User.Disabled:
		return s.errorf(op, "%w: the user is disabled", auth.ErrStale)
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// UserSessions returns the user's sessions that are neither revoked nor
// expired at now, newest first.
func (s *Store) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*auth.Session, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qUserSessions, userID, s.t(now))
	return collect(s, "user sessions", rows, err, func(r Rows) (*auth.Session, error) {
		sess := auth.Session{UserID: userID}
		var client sql.NullString
		var scope string
		err := r.Scan(&sess.ID, s.tc(&sess.CreatedAt), s.tc(&sess.ExpiresAt), &client, &scope, s.tc(&sess.AuthTime),
			&sess.ClientIP, &sess.UserAgent, s.tc(&sess.LastRefreshedAt))
		sess.ClientID, sess.Scope = client.String, splitList(scope, " ")
		return &sess, err
	})
}

// Revoke ends sessions and records revocations in one transaction.
func (s *Store) Revoke(ctx context.Context, r auth.Revoke) error {
	return s.tx(ctx, "revoke", func(ctx context.Context, q Querier) error { return s.revoke(ctx, q, r) })
}

func (s *Store) revoke(ctx context.Context, q Querier, r auth.Revoke) error {
	var ids []string
	if r.SessionID != "" || r.UserID != 0 || r.ClientID != "" {
		rows, err := s.query(ctx, q, qEndSessions, s.t(r.At), r.SessionID, r.UserID, r.ClientID, r.KeepSessionID)
		if ids, err = collect(s, "revoke", rows, err, func(r Rows) (string, error) {
			var id string
			return id, r.Scan(&id)
		}); err != nil {
			return err
		}
		if r.SessionID != "" && len(ids) == 0 {
			// Already revoked: record it again anyway, the caller may be
			// logging out a token whose session ended by reuse meanwhile.
			ids = append(ids, r.SessionID)
		}
	}
	recorded := false
	for _, id := range append(ids, r.TokenIDs...) {
		if id == "" {
			continue
		}
		if _, err := s.exec(ctx, q, qAddRevoked, id, s.t(r.Until), s.t(r.At)); err != nil {
			return err
		}
		recorded = true
	}
	if recorded && s.d.NotifyRevoked != "" {
		if _, err := q.Exec(ctx, s.d.NotifyRevoked); err != nil {
			return err
		}
	}
	return nil
}

// RevocationsSince returns revocations recorded at or after since and
// still in force at now.
func (s *Store) RevocationsSince(ctx context.Context, since, now time.Time) ([]auth.Revocation, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qRevocations, s.t(since), s.t(now))
	return collect(s, "revocations", rows, err, func(r Rows) (auth.Revocation, error) {
		var v auth.Revocation
		err := r.Scan(&v.ID, s.tc(&v.Until), s.tc(&v.CreatedAt))
		return v, err
	})
}

// PurgeExpired deletes what can no longer matter at now. Revoked
// sessions stay a day, so a late refresh with one is still recognised.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) error {
	t := s.t(now)
	return s.tx(ctx, "purge", func(ctx context.Context, q Querier) error {
		for _, p := range []struct {
			sql  string
			args []any
		}{
			{qPurgeRevoked, []any{t}},
			{qPurgeSession, []any{t, s.t(now.Add(-24 * time.Hour))}},
			{qPurgeRefresh, []any{t}},
			{qPurgeKeys, []any{t}},
			{qPurgeLife, []any{t}},
			// A used code stays a day past its expiry, so that a late
			// second redemption still revokes what the first started.
			{qPurgeCodes, []any{s.t(now.Add(-24 * time.Hour))}},
			{qPurgeChallenges, []any{t}},
			{qPurgeLimits, []any{t}}, // full buckets: as if never used
		} {
			if _, err := s.exec(ctx, q, p.sql, p.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// SigningKeys returns every stored signing key.
func (s *Store) SigningKeys(ctx context.Context) ([]auth.StoredKey, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qSigningKeys)
	return collect(s, "signing keys", rows, err, func(r Rows) (auth.StoredKey, error) {
		var k auth.StoredKey
		err := r.Scan(&k.ID, &k.JWK, s.tc(&k.CreatedAt), s.tc(&k.RetireAt))
		return k, err
	})
}

// AddSigningKey stores k as the active key and retires the others at
// retireOthers, in one transaction. Under the dialect's KeyLock (SQLite:
// the write lock) onlyIfNone holds across instances: of two starting
// together on an empty table, one inserts and the other waits, then
// finds the key.
func (s *Store) AddSigningKey(ctx context.Context, k auth.StoredKey, retireOthers time.Time, onlyIfNone bool) error {
	const op = "add signing key"
	return s.tx(ctx, op, func(ctx context.Context, q Querier) error {
		if s.d.KeyLock != "" {
			if _, err := q.Exec(ctx, s.d.KeyLock); err != nil {
				return err
			}
		}
		if onlyIfNone {
			var n int
			if err := s.queryRow(ctx, q, qCountKeys).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return s.errorf(op, "%w: a key exists", auth.ErrConflict)
			}
		}
		if _, err := s.exec(ctx, q, qRetireKeys, s.t(retireOthers)); err != nil {
			return err
		}
		_, err := s.exec(ctx, q, qInsertKey, k.ID, k.JWK, s.t(k.CreatedAt))
		return err
	})
}

// RecordTokenLifetime stores a server instance's token lifetime; a second
// record of the same instance keeps the larger value of each field.
// Durations are stored as milliseconds and Until at the database's
// precision, all rounded up: a stored lifetime is never shorter than the
// real one.
func (s *Store) RecordTokenLifetime(ctx context.Context, r auth.TokenLifetime) error {
	until := r.Until.Truncate(s.d.Precision)
	if until.Before(r.Until) {
		until = until.Add(s.d.Precision)
	}
	ctx, done := s.bound(ctx)
	defer done()
	_, err := s.exec(ctx, s.db, qRecordLifetime, r.Instance, msCeil(r.AccessTTL), msCeil(r.Leeway), s.t(until))
	return s.wrap("record token lifetime", err)
}

// TokenLifetimes returns the records whose until is after now.
func (s *Store) TokenLifetimes(ctx context.Context, now time.Time) ([]auth.TokenLifetime, error) {
	ctx, done := s.bound(ctx)
	defer done()
	rows, err := s.query(ctx, s.db, qLifetimes, s.t(now))
	return collect(s, "token lifetimes", rows, err, func(row Rows) (auth.TokenLifetime, error) {
		var r auth.TokenLifetime
		var ttl, leeway int64
		err := row.Scan(&r.Instance, &ttl, &leeway, s.tc(&r.Until))
		r.AccessTTL, r.Leeway = time.Duration(ttl)*time.Millisecond, time.Duration(leeway)*time.Millisecond
		return r, err
	})
}

func msCeil(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// AddAuditEvent stores e and sets its ID. Its time is kept at the
// database's precision.
func (s *Store) AddAuditEvent(ctx context.Context, e *auth.AuditEvent) error {
	ctx, done := s.bound(ctx)
	defer done()
	err := s.queryRow(ctx, s.db, qAddAudit, s.t(e.Time), string(e.Kind), e.Actor, auth.NameKey(e.Actor), e.User, e.UserKey, e.UserID,
		e.ClientIP, e.SessionID, e.ClientID, e.KeyID, e.Reason).Scan(&e.ID)
	return s.wrap("add audit event", err)
}

// AuditEvents returns up to f.Limit events matching f, newest (highest
// id) first. Ids are never reused, so the last id of a page is a stable
// cursor (f.Before) for the next.
func (s *Store) AuditEvents(ctx context.Context, f auth.AuditFilter) ([]auth.AuditEvent, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("%w: limit must be positive", auth.ErrInvalid)
	}
	if f.Before < 0 {
		return nil, fmt.Errorf("%w: cursor must be an event id", auth.ErrInvalid)
	}
	before := f.Before
	if before == 0 {
		before = 1<<63 - 1
	}
	ctx, done := s.bound(ctx)
	defer done()
	var rows Rows
	var err error
	if f.User == "" {
		rows, err = s.query(ctx, s.db, qAuditEvents, before, s.t(f.Since), f.Limit)
	} else {
		key := auth.NameKey(f.User)
		rows, err = s.query(ctx, s.db, qAuditEventsOf, before, s.t(f.Since), key, key, f.Limit)
	}
	return collect(s, "audit events", rows, err, func(r Rows) (auth.AuditEvent, error) {
		var e auth.AuditEvent
		var kind string
		err := r.Scan(&e.ID, s.tc(&e.Time), &kind, &e.Actor, &e.User, &e.UserKey, &e.UserID, &e.ClientIP, &e.SessionID, &e.ClientID, &e.KeyID, &e.Reason)
		e.Kind = auth.AuditKind(kind)
		return e, err
	})
}

// PurgeAudit deletes the audit events older than before.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	ctx, done := s.bound(ctx)
	defer done()
	n, err := s.exec(ctx, s.db, qPurgeAudit, s.t(before))
	return n, s.wrap("purge audit events", err)
}
