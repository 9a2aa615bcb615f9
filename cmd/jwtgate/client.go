package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

const clientSynopsis = "jwtgate client COMMAND [flags]"

var clientUsage = "Usage: " + clientSynopsis + "\n\n" + clientAbout

var clientAbout = `Manages the applications that log their users in through jwtgate
(OpenID Connect clients), directly in the server's database.

Commands:
  add NAME --redirect-uri URI [--redirect-uri URI2] [--public] [--post-logout-redirect-uri URI]
                        register a client; prints its client_id and, unless
                        --public, its secret: shown once, stored only as a hash
  list                  list clients
  delete NAME|ID        remove a client, its codes and its sessions
  secret rotate NAME|ID new secret; the old one stops working at once

Redirect URIs are matched exactly (no wildcards): https, http on a loopback
address (127.0.0.1, [::1], localhost) for development, or an app's own
scheme (com.example.app:/callback). A public client (a single-page or
native app) has no secret and must use PKCE.

Every command takes --data DIR (default ` + defaultData + `, or $JWTGATE_DATA),
or --db URL for a PostgreSQL database (default $JWTGATE_DB).
`

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// clientCommands are the subcommands cmdClient runs.
var clientCommands = []subcommand{{"add", 1}, {"list", 0}, {"delete", 1}, {"secret rotate", 1}}

func cmdClient(args []string, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, clientUsage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, clientUsage)
		return 0
	}
	sub, args := args[0], args[1:]
	if sub == "secret" { // "secret rotate" is one command of two words
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprint(stdout, clientUsage)
			return 0
		}
		if len(args) == 0 || args[0] != "rotate" {
			fmt.Fprintf(stderr, "jwtgate client secret: want \"secret rotate NAME|ID\"\n")
			return 2
		}
		sub, args = "secret rotate", args[1:]
	}
	prefix := "jwtgate client " + sub
	c := newCommand(prefix, clientSynopsis, clientAbout, env)
	st := storageFlags(c)
	st.warn = warnTo(stderr, prefix)
	var redirects, postLogout stringList
	c.fs.Var(&redirects, "redirect-uri", "for add: a redirect `URI` (repeat for several)")
	c.fs.Var(&postLogout, "post-logout-redirect-uri", "for add: where logout may return to, `URI` (repeat for several)")
	public := c.fs.Bool("public", false, "for add: a client without a secret (single-page or native app; PKCE only)")
	pos, code, ok := c.parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if code := checkSub(stderr, "jwtgate client", clientCommands, sub, pos, clientUsage); code != 0 {
		return code
	}
	if sub != "add" && (len(redirects) > 0 || len(postLogout) > 0 || *public) {
		fmt.Fprintf(stderr, "%s: --redirect-uri, --post-logout-redirect-uri and --public are for add\n", prefix)
		return 2
	}
	if sub == "add" && len(redirects) == 0 {
		fmt.Fprintf(stderr, "%s: at least one --redirect-uri is needed\n", prefix)
		return 2
	}
	ctx := context.Background()
	st.maxConns = 2
	db, err := st.open(ctx, sub == "add")
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	defer db.Close()
	svc := &auth.Service{Store: db, TokenAge: tokenAge(env)}
	ctx = auditing(ctx, svc, db)
	failed := func(err error) int {
		fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}

	switch sub {
	case "add":
		cl, secret, err := svc.RegisterClient(ctx, auth.ClientSpec{Name: pos[0], RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout, Public: *public})
		if err != nil {
			return failed(err)
		}
		fmt.Fprintf(stdout, "client_id: %s\n", cl.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client_secret: %s\n", secret)
			fmt.Fprintf(stderr, "The secret is shown only now; jwtgate keeps only its hash.\n")
		} else {
			fmt.Fprintf(stdout, "public client: no secret; it must use PKCE (S256)\n")
		}
	case "list":
		clients, err := svc.Clients(ctx)
		if err != nil {
			return failed(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tTYPE\tREDIRECT URIS\tCREATED")
		for _, cl := range clients {
			kind := "confidential"
			if cl.Public() {
				kind = "public"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cl.ID, cl.Name, kind, strings.Join(cl.RedirectURIs, " "), cl.CreatedAt.UTC().Format(time.RFC3339))
		}
		tw.Flush()
	case "delete", "secret rotate":
		cl, err := findClient(ctx, svc, pos[0])
		if err != nil {
			return failed(err)
		}
		if sub == "delete" {
			if err := svc.DeleteClient(ctx, cl.ID); err != nil {
				return failed(err)
			}
			fmt.Fprintf(stdout, "deleted client %s (%s); its sessions are ended\n", cl.Name, cl.ID)
			return 0
		}
		secret, err := svc.RotateClientSecret(ctx, cl.ID)
		if err != nil {
			return failed(err)
		}
		fmt.Fprintf(stdout, "client_id: %s\nclient_secret: %s\n", cl.ID, secret)
		fmt.Fprintf(stderr, "The old secret no longer works; the new one is shown only now.\n")
	}
	return 0
}

// errAmbiguous means a name matches several clients: the id picks one.
var errAmbiguous = errors.New("several clients have this name: give the client_id (jwtgate client list)")

// findClient returns the client whose id, or else whose name, is arg.
func findClient(ctx context.Context, svc *auth.Service, arg string) (*auth.Client, error) {
	clients, err := svc.Clients(ctx)
	if err != nil {
		return nil, err
	}
	var byName []*auth.Client
	for _, cl := range clients {
		if cl.ID == arg {
			return cl, nil
		}
		if cl.Name == arg {
			byName = append(byName, cl)
		}
	}
	switch len(byName) {
	case 0:
		return nil, fmt.Errorf("%w: no client with id or name %q", auth.ErrNotFound, arg)
	case 1:
		return byName[0], nil
	}
	return nil, errAmbiguous
}
