package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// store is what the commands need of a backend. TokenLifetimeStore is how
// the commands learn how long the servers' tokens live; AuditStore keeps
// the audit trail.
type store interface {
	auth.Store
	auth.TokenLifetimeStore
	auth.AuditStore
	AppliedMigrations(ctx context.Context) ([]string, error)
}

// defaultData is the data folder when neither --data nor $JWTGATE_DATA
// says otherwise.
const defaultData = "./jwtgate-data"

// storage is where the data lives: a PostgreSQL URL (--db), else the
// SQLite file in the data folder (--data).
type storage struct {
	data     string
	db       string
	maxConns int
	warn     func(msg string) // reports data files open to their group; nil: not reported
}

// storageFlags registers --data and --db, over $JWTGATE_DATA and
// $JWTGATE_DB (or $JWTGATE_DB_FILE), on a command that opens the database.
func storageFlags(c *command) *storage {
	s := &storage{}
	c.str(&s.data, "data", "JWTGATE_DATA", defaultData, "data folder `DIR` of the SQLite database")
	c.secret(&s.db, "db", "JWTGATE_DB", "", "PostgreSQL `URL` (postgres://...) instead of the data folder")
	return s
}

func (s *storage) postgres() bool { return s.db != "" }

// flag is the command-line flag that selects this storage, for hints in
// logs and on the login page: never the URL itself, which may hold a
// password. A folder name is quoted for a POSIX shell where it needs it.
func (s *storage) flag() string {
	if s.postgres() {
		return `--db "$JWTGATE_DB"`
	}
	return "--data " + shellWord(s.data)
}

// setupHint is the command that creates the first admin of this storage.
func (s *storage) setupHint() string {
	return "jwtgate user add admin --role admin " + s.flag()
}

// shellWord returns w as one word for a POSIX shell: as it is when it
// holds only characters no shell treats specially, else single-quoted.
func shellWord(w string) string {
	if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+,:@%=") == "" {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func (c *serveConfig) storage() *storage {
	return &storage{data: c.Data, db: c.DB, maxConns: c.DBMaxConns}
}

// where names the database for messages, without a password.
func (s *storage) where() string {
	if s.postgres() {
		return "PostgreSQL"
	}
	return filepath.Join(s.data, "jwtgate.db")
}

// open opens the database, applying migrations. With create unset a
// missing SQLite file is an error rather than a new empty database.
func (s *storage) open(ctx context.Context, create bool) (store, error) {
	if s.postgres() {
		if !postgres.IsURL(s.db) {
			return nil, fmt.Errorf("--db must be a postgres:// or postgresql:// URL")
		}
		return postgres.Open(ctx, s.db, s.maxConns)
	}
	path := filepath.Join(s.data, "jwtgate.db")
	if create {
		if err := os.MkdirAll(s.data, 0o700); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s (run jwtgate serve or jwtgate user add first, or give --db)", path)
	}
	// The generated HS256 secret, if any, is as private as the database.
	group, err := sqlite.CheckPrivate(filepath.Join(s.data, "hs256.jwk"))
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if s.warn != nil {
		for _, w := range append(db.GroupAccess(), group...) {
			s.warn(w + groupHint)
		}
	}
	return db, nil
}

// warnTo makes a storage.warn that prints a warning line of the command
// named prefix.
func warnTo(w io.Writer, prefix string) func(string) {
	return func(msg string) { fmt.Fprintf(w, "%s: warning: %s\n", prefix, msg) }
}

func cmdMigrate(args []string, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate migrate"
	c := newCommand(prefix, "jwtgate migrate [--db URL | --data DIR]", `
Applies the database migrations and exits: the schema a server of this
version needs. jwtgate serve applies them at start anyway (under a lock, so
instances starting together do not race); run this to migrate ahead of a
rolling upgrade, or to check that the database is reachable.`, env)
	st := storageFlags(c)
	st.warn = warnTo(stderr, prefix)
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", prefix, pos[0])
		return 2
	}
	ctx := context.Background()
	db, err := st.open(ctx, true)
	var applied []string
	if err == nil {
		applied, err = db.AppliedMigrations(ctx)
		db.Close()
	}
	if err != nil {
		fmt.Fprintln(stderr, "jwtgate migrate:", oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "%s is at schema %s (%d migrations applied)\n", st.where(), applied[len(applied)-1], len(applied))
	return 0
}

// shareLoginLimits, on PostgreSQL, gives svc login limits kept in the
// database, shared by every instance on it, so that N instances do not
// give N times the burst. On SQLite, one process, they stay in memory.
func shareLoginLimits(svc *auth.Service, c *serveConfig, db store) {
	pg, ok := db.(*postgres.DB)
	if !ok {
		return
	}
	for _, l := range []struct {
		to    *auth.RateLimiter
		name  string
		every time.Duration
		burst int
	}{
		{&svc.IPLimit, "ip", c.LoginIPEvery, c.LoginIPBurst},
		{&svc.UserNetLimit, "net", c.LoginNetEvery, c.LoginNetBurst},
		{&svc.UserLimit, "user", c.LoginUserEvery, c.LoginUserBurst},
	} {
		shared := pg.LoginLimit(l.name, l.every, l.burst)
		shared.Now = c.now // nil: the database's clock
		*l.to = shared
	}
}

// listenRevocations, on PostgreSQL, hears the revocations that other
// instances and the command line commit (LISTEN/NOTIFY) until ctx ends,
// and asks on the returned channel for them to be loaded, a burst of them
// coalesced into one request; done is closed when it has stopped. On
// SQLite the channel is nil: the poll alone loads them.
func listenRevocations(ctx context.Context, db store, log *slog.Logger) (sync <-chan struct{}, done <-chan struct{}) {
	stopped := make(chan struct{})
	pg, ok := db.(*postgres.DB)
	if !ok {
		close(stopped)
		return nil, stopped
	}
	ask := make(chan struct{}, 1)
	go func() {
		defer close(stopped)
		pg.ListenRevocations(ctx, func() {
			select {
			case ask <- struct{}{}:
			default: // one is pending already
			}
		}, log)
	}()
	return ask, stopped
}

// mfaKey loads the key that encrypts TOTP secrets: --mfa-key-file, else
// with SQLite mfa.key in the data folder, made on first start (0600). It
// is a file and not a database row so that a copy of the database alone
// reveals no TOTP secret. With PostgreSQL and no file there is no key:
// TOTP enrolment then fails with a message naming the flag.
func (c *serveConfig) mfaKey(log *slog.Logger) (*auth.MFAKey, error) {
	path, create := c.MFAKeyFile, false
	if path == "" {
		if c.storage().postgres() {
			log.Info("TOTP is off: no --mfa-key-file (a key shared by every instance, kept outside the database)")
			return nil, nil
		}
		path, create = filepath.Join(c.Data, "mfa.key"), true
	}
	// As private as the signing keys: refused if others may read it.
	group, err := sqlite.CheckPrivate(path)
	if err != nil {
		return nil, err
	}
	for _, g := range group {
		log.Warn(g + groupHint)
	}
	material, err := auth.LoadMFAKeyFile(path, create)
	if err != nil {
		return nil, fmt.Errorf("--mfa-key-file: %w", err)
	}
	return auth.NewMFAKey(material)
}
