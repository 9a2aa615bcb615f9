// Command jwtgate signs, verifies and decodes JSON Web Tokens and makes
// keys. See `jwtgate help`.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

const usageHead = `jwtgate: JSON Web Tokens from the command line, and a login server.

Usage:
`

const usageTail = `
KEY is one of --secret-env NAME, --secret-file F, --key-file F (PEM or JWK),
or, to verify, --jwks-file F. Secrets are never taken as arguments.
Flags and arguments may come in any order; -flag and --flag are the same.
Exit status: 0 success, 1 the token is invalid (or the operation failed),
2 usage or key error.
`

// stdio is what a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	env      func(string) string
}

// cmd is one entry of the command table, from which the usage text, the
// dispatch and the shell completion are all derived. A leaf parses its own
// flags; a group's run dispatches to its subs (group does it from the
// table; user and client parse their subcommands' shared flags themselves,
// and their subs only name them).
type cmd struct {
	name  string
	usage [][2]string // lines of jwtgate help: synopsis, what it does
	run   func(args []string, s stdio) int
	subs  []*cmd
}

// commands is the command table. It is a function, not a variable, since
// help and completion read it from inside it.
func commands() []*cmd {
	token := []*cmd{
		{name: "decode", usage: [][2]string{{"jwtgate token decode [--json] [TOKEN|-]", "show a token WITHOUT verifying it"}},
			run: func(a []string, s stdio) int { return tokenDecode(a, s.in, s.out, s.err) }},
		{name: "sign", usage: [][2]string{{"jwtgate token sign --alg ALG KEY [flags]", "make a token"}},
			run: func(a []string, s stdio) int { return tokenSign(a, s.out, s.err, s.env) }},
		{name: "verify", usage: [][2]string{{"jwtgate token verify KEY [flags] [TOKEN|-]", "check a token, print its claims"}},
			run: func(a []string, s stdio) int { return tokenVerify(a, s.in, s.out, s.err, s.env) }},
	}
	key := []*cmd{
		{name: "generate", usage: [][2]string{{"jwtgate key generate --alg ALG [--out F]", "make a key (files are written 0600)"}},
			run: func(a []string, s stdio) int { return keyGenerate(a, s.out, s.err) }},
		{name: "jwks", usage: [][2]string{{"jwtgate key jwks FILE...", "public JWKS of key files"}},
			run: func(a []string, s stdio) int { return keyJWKS(a, s.out, s.err) }},
		{name: "rotate", usage: [][2]string{{"jwtgate key rotate [--alg ALG]", "new active server key; old ones verify for --grace"}},
			run: func(a []string, s stdio) int { return keyRotate(a, s.out, s.err, s.env) }},
		{name: "list", usage: [][2]string{{"jwtgate key list", "the server's keys"}},
			run: func(a []string, s stdio) int { return keyList(a, s.out, s.err, s.env) }},
	}
	var completion []*cmd
	for _, sh := range shells {
		completion = append(completion, &cmd{name: sh, run: func(a []string, s stdio) int { return cmdCompletion(sh, a, s) }})
	}
	return []*cmd{
		{name: "serve", usage: [][2]string{{"jwtgate serve [flags]", "run the login server (see serve -h)"}},
			run: func(a []string, s stdio) int { return cmdServe(a, s.env, s.out, s.err) }},
		{name: "user", usage: [][2]string{
			{"jwtgate user add NAME --role admin", "make an account (password from stdin or a prompt)"},
			{"jwtgate user list|passwd|disable|role|delete", "manage accounts (see user -h)"}},
			run:  func(a []string, s stdio) int { return cmdUser(a, s.in, s.out, s.err, s.env) },
			subs: names(userCommands)},
		{name: "client", usage: [][2]string{
			{"jwtgate client add NAME --redirect-uri URI", "register an OpenID Connect client (see client -h)"},
			{"jwtgate client list|delete|secret rotate", "manage clients"}},
			run:  func(a []string, s stdio) int { return cmdClient(a, s.out, s.err, s.env) },
			subs: names(clientCommands)},
		{name: "audit", usage: [][2]string{{"jwtgate audit [--user NAME] [--since 24h] [--json]", "the audit trail: logins, logouts, changes (see audit -h)"}},
			run: func(a []string, s stdio) int { return cmdAudit(a, s.out, s.err, s.env) }},
		{name: "migrate", usage: [][2]string{{"jwtgate migrate [--db URL]", "apply database migrations and exit"}},
			run: func(a []string, s stdio) int { return cmdMigrate(a, s.out, s.err, s.env) }},
		{name: "token", run: group("jwtgate token", tokenUsage, token), subs: token},
		{name: "key", run: group("jwtgate key", keyUsage, key), subs: key},
		{name: "version", usage: [][2]string{{"jwtgate version", "version, commit and Go of this binary (also --version)"}},
			run: cmdVersion},
		{name: "healthcheck", usage: [][2]string{{"jwtgate healthcheck [--url URL]", "exit 0 when the server is ready (container HEALTHCHECK)"}},
			run: cmdHealthcheck},
		{name: "completion", usage: [][2]string{{"jwtgate completion " + strings.Join(shells, "|"), "shell completion script"}},
			run: group("jwtgate completion", completionUsage, completion), subs: completion},
		{name: "help", usage: [][2]string{{"jwtgate help [COMMAND]", "this text, or a command's flags"}},
			run: cmdHelp},
	}
}

// names makes the table entries of subcommands that their group parses
// itself; "secret rotate" becomes secret with the sub rotate.
func names(subs []subcommand) []*cmd {
	var out []*cmd
	for _, sc := range subs {
		first, rest, two := strings.Cut(sc.name, " ")
		c := &cmd{name: first}
		if two {
			c.subs = []*cmd{{name: rest}}
		}
		out = append(out, c)
	}
	return out
}

// subcommand is a subcommand of user or client and the number of
// arguments it takes.
type subcommand struct {
	name string
	args int
}

func lookupSub(subs []subcommand, name string) (subcommand, bool) {
	for _, sc := range subs {
		if sc.name == name {
			return sc, true
		}
	}
	return subcommand{}, false
}

// checkSub is the usage check of a command group's subcommand sub given
// its positional arguments pos: 0 when both are right, else the exit
// status after saying what is wrong on stderr.
func checkSub(stderr io.Writer, group string, subs []subcommand, sub string, pos []string, usage string) int {
	sc, known := lookupSub(subs, sub)
	if !known {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", group, sub, usage)
		return 2
	}
	if len(pos) != sc.args {
		fmt.Fprintf(stderr, "%s %s: want %d argument(s), got %d\n", group, sub, sc.args, len(pos))
		return 2
	}
	return 0
}

// group dispatches to the subcommand named by the first argument, and
// answers no argument, an unknown one or help with usage.
func group(prefix, usage string, subs []*cmd) func([]string, stdio) int {
	return func(args []string, s stdio) int {
		if len(args) == 0 {
			fmt.Fprint(s.err, usage)
			return 2
		}
		if isHelp(args[0]) {
			fmt.Fprint(s.out, usage)
			return 0
		}
		if c := find(subs, args[0]); c != nil {
			return c.run(args[1:], s)
		}
		fmt.Fprintf(s.err, "%s: unknown command %q\n\n%s", prefix, args[0], usage)
		return 2
	}
}

func find(cmds []*cmd, name string) *cmd {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// usage is the text of jwtgate help: every command's usage lines.
func usage() string {
	var b strings.Builder
	b.WriteString(usageHead)
	var walk func([]*cmd)
	walk = func(cmds []*cmd) {
		for _, c := range cmds {
			for _, l := range c.usage {
				fmt.Fprintf(&b, "  %-49s %s\n", l[0], l[1])
			}
			walk(c.subs)
		}
	}
	walk(commands())
	b.WriteString(usageTail)
	return b.String()
}

// cmdHelp prints the usage, or with a command a command's flags:
// help token sign is token sign -h.
func cmdHelp(args []string, s stdio) int {
	if len(args) > 0 {
		return run(append(append([]string(nil), args...), "-h"), s.in, s.out, s.err, s.env)
	}
	fmt.Fprint(s.out, usage())
	return 0
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main without globals, so tests drive it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	s := stdio{in: stdin, out: stdout, err: stderr, env: env}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return cmdHelp(nil, s)
	case "-version", "--version":
		return cmdVersion(args[1:], s)
	}
	if c := find(commands(), args[0]); c != nil {
		return c.run(args[1:], s)
	}
	fmt.Fprintf(stderr, "jwtgate: unknown command %q\n\n%s", args[0], usage())
	return 2
}
