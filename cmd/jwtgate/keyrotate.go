package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

func keyRotate(args []string, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate key rotate"
	c := newCommand(prefix, "jwtgate key rotate [--alg ALG] [--grace DURATION] [--data DIR | --db URL]", `
Makes a new signing key in the server's database and makes it the active
one. The keys in use so far keep verifying tokens for the grace period,
then retire. The default grace period is the longest access-token lifetime
plus leeway that the servers on the database recorded (their --access-ttl
and --leeway), and never less than `+auth.DefaultTokenAge.String()+` or $JWTGATE_ACCESS_TTL plus
$JWTGATE_LEEWAY. Running servers pick the new key up within --key-reload
(`+defaultKeyReload.String()+`) or at once on SIGHUP.
Servers started with --key-file or a secret do not use these keys.`, env)
	st := storageFlags(c)
	st.warn = warnTo(stderr, prefix)
	alg := c.fs.String("alg", "", "algorithm `ALG` of the new key: "+algList()+" (default: the active key's)")
	grace := c.fs.Duration("grace", 0, "how long the old keys keep verifying (default: the servers' longest token lifetime plus leeway)")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0]))
	}
	if *grace < 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: --grace must not be negative", errUsage))
	}
	ctx := context.Background()
	db, err := st.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	defer db.Close()
	stored, err := db.SigningKeys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	if len(stored) == 0 {
		// Adding a first key here would change no running server: those
		// on this database sign with keys from files.
		fmt.Fprintf(stderr, "%s: %s\n", prefix, noDatabaseKeys(st))
		return 1
	}
	if !c.set("grace") {
		if *grace, err = auth.LongestTokenAge(ctx, db, time.Now(), tokenAge(env)); err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
			return 1
		}
	}
	a := jwt.Algorithm(*alg)
	if *alg == "" {
		a = jwt.HS256
		if set, err := auth.BuildKeySet(stored, time.Now()); err == nil {
			a = set.Signing.Algorithm()
		}
	} else if !a.Valid() {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unknown --alg %q (want one of %s)", errUsage, *alg, algList()))
	}
	svc := &auth.Service{Store: db}
	k, err := svc.RotateKey(auditing(ctx, svc, db), a, *grace)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "new active key %s (%s); previous keys verify until %s\n", k.ID, a, time.Now().Add(*grace).UTC().Format(time.RFC3339))
	fmt.Fprintln(stdout, "running servers that use the database's keys switch within their --key-reload interval, or now with: kill -HUP <pid>")
	fmt.Fprintln(stdout, "servers started with --key-file, --secret-file or $JWTGATE_SECRET do not use these keys (their log says so at start)")
	return 0
}

// noDatabaseKeys explains an empty key set: servers on the database sign
// with keys from files, or none has started yet.
func noDatabaseKeys(st *storage) string {
	return "no signing keys in the database (" + st.where() + "): servers started with --key-file or --secret-file sign with the key in that file, not with database keys; " +
		"rotate by replacing the file (keep the old key as --verify-key-file until its tokens expire) and sending SIGHUP (kill -HUP PID); " +
		"a server started without them generates its first key in the database"
}

func keyList(args []string, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate key list"
	c := newCommand(prefix, "jwtgate key list [--data DIR | --db URL]", `
Lists the signing keys in the server's database: the active one, the ones
still verifying tokens until their retirement, and retired ones not yet
purged. Shows no secret material.`, env)
	st := storageFlags(c)
	st.warn = warnTo(stderr, prefix)
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0]))
	}
	ctx := context.Background()
	db, err := st.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	defer db.Close()
	stored, err := db.SigningKeys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	if len(stored) == 0 {
		fmt.Fprintln(stdout, noDatabaseKeys(st))
		return 0
	}
	now := time.Now()
	active := ""
	if set, err := auth.BuildKeySet(stored, now); err == nil {
		active = set.Signing.KeyID()
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].CreatedAt.After(stored[j].CreatedAt) })
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tRETIRES")
	for _, sk := range stored {
		alg := "?"
		if k, err := jwt.ParseJWK(sk.JWK); err == nil {
			alg = string(k.Algorithm())
		}
		state, retires := "verify-only", ""
		switch {
		case sk.ID == active:
			state = "active"
		case !sk.RetireAt.IsZero() && !sk.RetireAt.After(now):
			state = "retired"
		}
		if !sk.RetireAt.IsZero() {
			retires = sk.RetireAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sk.ID, alg, state, sk.CreatedAt.UTC().Format(time.RFC3339), retires)
	}
	tw.Flush()
	return 0
}
