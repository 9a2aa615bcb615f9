package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/jwtgate/jwtgate/internal/auth"
)

const userSynopsis = "jwtgate user COMMAND [flags]"

var userUsage = "Usage: " + userSynopsis + "\n\n" + userAbout

var userAbout = `Manages accounts directly in the data folder's database; works while the
server runs.

Commands:
  add NAME [--role reader|editor|admin]   create a user (password from a prompt, or stdin)
  list                                    list users
  passwd NAME                             set a new password (prompt, or stdin)
  disable NAME / enable NAME              refuse / allow logins
  role NAME ROLE                          change the role
  delete NAME                             delete the user and their posts
  mfa-reset NAME                          remove every second factor (TOTP, recovery codes, passkeys)

Without --role, add makes a reader.

Every command takes --data DIR (default ` + defaultData + `, or $JWTGATE_DATA),
or --db URL for a PostgreSQL database (default $JWTGATE_DB).
passwd, disable, role, delete and mfa-reset also end the user's sessions: running
servers refuse their tokens within their --revocation-poll (` + defaultRevocationPoll.String() + `), until
the tokens would have expired on every server of the database: the longest
--access-ttl plus --leeway that the servers recorded there, and never less
than ` + auth.DefaultTokenAge.String() + ` or $JWTGATE_ACCESS_TTL plus $JWTGATE_LEEWAY.
Passwords are never taken as arguments: they would show in ps and shell history.
`

// userCommands are the subcommands cmdUser runs.
var userCommands = []subcommand{{"add", 1}, {"list", 0}, {"passwd", 1}, {"disable", 1}, {"enable", 1}, {"role", 2}, {"delete", 1}, {"mfa-reset", 1}}

func cmdUser(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, userUsage)
		return 0
	}
	sub, args := args[0], args[1:]
	c := newCommand("jwtgate user "+sub, userSynopsis, userAbout, env)
	st := storageFlags(c)
	st.warn = warnTo(stderr, "jwtgate user "+sub)
	role := c.fs.String("role", "reader", "role for add: reader, editor or admin")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if code := checkSub(stderr, "jwtgate user", userCommands, sub, pos, userUsage); code != 0 {
		return code
	}
	ctx := context.Background()
	st.maxConns = 2
	db, err := st.open(ctx, sub == "add")
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate user %s: %s\n", sub, oneLine(err.Error()))
		return 1
	}
	defer db.Close()
	// Revocations last at least this long, and as long as the longest-lived
	// tokens of the servers that recorded theirs in db (auth.Service).
	svc := &auth.Service{Store: db, Hasher: auth.NewHasher(auth.DefaultArgon2, 1, time.Minute), TokenAge: tokenAge(env)}
	ctx = auditing(ctx, svc, db)

	switch sub {
	case "add":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return fail(stderr, sub, err)
		}
		if err := auth.ValidateUsername(pos[0]); err != nil {
			return fail(stderr, sub, err)
		}
		pw, err := readPassword(stdin, stderr, "Password for "+pos[0]+": ")
		if err != nil {
			return fail(stderr, sub, err)
		}
		u, err := svc.CreateUser(ctx, pos[0], pw, r)
		if err != nil {
			return fail(stderr, sub, err)
		}
		how := ""
		if !c.set("role") {
			how = ": the default without --role"
		}
		fmt.Fprintf(stdout, "created user %s (id %d, role %s%s)\n", u.Name, u.ID, u.Role, how)
	case "list":
		users, err := db.ListUsers(ctx)
		if err != nil {
			return fail(stderr, sub, err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATUS\tCREATED")
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, status, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		tw.Flush()
	case "passwd":
		if _, err := db.UserByName(ctx, pos[0]); err != nil {
			return fail(stderr, sub, err)
		}
		pw, err := readPassword(stdin, stderr, "New password for "+pos[0]+": ")
		if err != nil {
			return fail(stderr, sub, err)
		}
		if _, err := svc.SetPassword(ctx, pos[0], pw); err != nil {
			return fail(stderr, sub, err)
		}
		fmt.Fprintf(stdout, "password changed for %s\n", pos[0])
	case "disable", "enable":
		d := sub == "disable"
		if _, err := svc.UpdateUser(ctx, nil, pos[0], auth.UserUpdate{Disabled: &d}); err != nil {
			return fail(stderr, sub, err)
		}
		fmt.Fprintf(stdout, "%sd %s\n", sub, pos[0])
	case "role":
		r, err := auth.ParseRole(pos[1])
		if err != nil {
			return fail(stderr, sub, err)
		}
		if _, err := svc.UpdateUser(ctx, nil, pos[0], auth.UserUpdate{Role: &r}); err != nil {
			return fail(stderr, sub, err)
		}
		fmt.Fprintf(stdout, "%s is now %s\n", pos[0], r)
	case "delete":
		if err := svc.DeleteUser(ctx, nil, pos[0]); err != nil {
			return fail(stderr, sub, err)
		}
		fmt.Fprintf(stdout, "deleted %s\n", pos[0])
	case "mfa-reset":
		u, err := svc.ResetMFA(ctx, nil, pos[0])
		if err != nil {
			return fail(stderr, sub, err)
		}
		fmt.Fprintf(stdout, "second factors of %s removed; their sessions ended\n", u.Name)
	}
	return 0
}

func fail(stderr io.Writer, sub string, err error) int {
	fmt.Fprintf(stderr, "jwtgate user %s: %v\n", sub, err)
	return 1
}

// readPassword prompts twice without echo on a terminal; otherwise it reads
// one line from stdin (for scripts: printf '%s\n' "$PW" | jwtgate user add …).
func readPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("passwords do not match")
		}
		return string(a), auth.ValidatePassword(string(a))
	}
	r := bufio.NewReaderSize(stdin, auth.MaxPasswordLen+2)
	line, err := r.ReadSlice('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("%w: password longer than %d bytes", auth.ErrInvalid, auth.MaxPasswordLen)
		}
		return "", errors.New("no password on stdin")
	}
	pw := string(trimNewline(line))
	return pw, auth.ValidatePassword(pw)
}

// tokenAge is the least the commands assume a server accepts an access
// token (its lifetime plus leeway): the longer of auth.DefaultTokenAge
// and what the variables jwtgate serve reads say. The servers' flags are
// invisible here; what they recorded in the database is added to it where
// it is used (auth.LongestTokenAge), so revocations and grace periods made
// here last long enough whatever the servers run with. A variable that
// does not parse or is out of range counts as unset (no server starts
// with it), rather than stop a revocation.
func tokenAge(env func(string) string) time.Duration {
	ttl, err := fromEnv(env, "JWTGATE_ACCESS_TTL", auth.DefaultAccessTTL, time.ParseDuration)
	if err != nil || ttl <= 0 {
		ttl = auth.DefaultAccessTTL
	}
	leeway, err := fromEnv(env, "JWTGATE_LEEWAY", auth.DefaultLeeway, time.ParseDuration)
	if err != nil || leeway < 0 {
		leeway = auth.DefaultLeeway
	}
	return max(ttl+leeway, auth.DefaultTokenAge)
}
