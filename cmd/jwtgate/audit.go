package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/httpapi"
)

// cliActor names the command line in audit events: cli@HOST.
func cliActor() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return "cli@" + host
}

// auditing makes svc record its events in db's audit trail as the command
// line's, and returns the context that names it.
func auditing(ctx context.Context, svc *auth.Service, db store) context.Context {
	svc.Audit = &auth.StoreAudit{Store: db}
	return auth.WithAuditInfo(ctx, auth.AuditInfo{Actor: cliActor()})
}

const defaultAuditLimit = 100

func cmdAudit(args []string, stdout, stderr io.Writer, env func(string) string) int {
	const prefix = "jwtgate audit"
	c := newCommand(prefix, "jwtgate audit [--user NAME] [--since 24h] [--limit N] [--json] [--data DIR | --db URL]", `
Shows the audit trail, newest first: logins and failed logins (the name as
typed, the client address and why it failed), reuse of refresh tokens,
logouts, and changes of users, keys and clients with who made them (a
username, or cli@HOST for this command line). Servers purge events older
than their --audit-retention. With --json, one JSON object per line, as
GET /audit gives them.`, env)
	st := storageFlags(c)
	st.warn = warnTo(stderr, prefix)
	user := c.fs.String("user", "", "only events about or by this user `NAME` (any case)")
	since := c.fs.String("since", "", "only events after this: a duration back from now (24h) or an RFC 3339 time")
	limit := c.fs.Int("limit", defaultAuditLimit, fmt.Sprintf("at most `N` events (1 to %d)", auth.MaxAuditPage))
	asJSON := c.fs.Bool("json", false, "one JSON object per line")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return exitFor(stderr, prefix, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0]))
	}
	if *limit < 1 || *limit > auth.MaxAuditPage {
		return exitFor(stderr, prefix, fmt.Errorf("%w: --limit must be 1 to %d", errUsage, auth.MaxAuditPage))
	}
	f := auth.AuditFilter{User: *user, Limit: *limit}
	if *since != "" {
		t, err := httpapi.ParseSince(*since, nil)
		if err != nil {
			return exitFor(stderr, prefix, fmt.Errorf("%w: --%w", errUsage, err))
		}
		f.Since = t
	}
	ctx := context.Background()
	st.maxConns = 1
	db, err := st.open(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	defer db.Close()
	svc := &auth.Service{Store: db}
	events, err := svc.AuditEvents(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range events {
			if err := enc.Encode(httpapi.ToAuditEventJSON(e)); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
				return 1
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tUSER\tCLIENT_IP\tDETAIL")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, orDash(e.Actor), orDash(cell(e.User)),
			orDash(e.ClientIP), orDash(auditDetail(e)))
	}
	tw.Flush()
	return 0
}

// auditDetail is the rest of an event in one table cell.
func auditDetail(e auth.AuditEvent) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+cell(v))
		}
	}
	if e.Reason != "" {
		parts = append(parts, cell(e.Reason))
	}
	if e.UserID != 0 {
		parts = append(parts, fmt.Sprintf("user_id=%d", e.UserID))
	}
	add("session", e.SessionID)
	add("client", e.ClientID)
	add("kid", e.KeyID)
	return strings.Join(parts, " ")
}

// cell keeps a value on one line of a table, and control characters
// (a name typed at the login can hold any) out of the terminal.
func cell(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\t' || (r >= 0x80 && r < 0xa0) }) {
		q := fmt.Sprintf("%q", s)
		return q[1 : len(q)-1]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
