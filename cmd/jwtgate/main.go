// Command jwtgate signs, verifies and decodes JSON Web Tokens and makes
// keys. See `jwtgate help`.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `jwtgate: JSON Web Tokens from the command line, and a login server.

Usage:
  jwtgate serve [flags]                             run the login server (see serve -h)
  jwtgate user add NAME --role admin                make an account (password from stdin or a prompt)
  jwtgate user list|passwd|disable|role|delete      manage accounts (see user -h)
  jwtgate client add NAME --redirect-uri URI        register an OpenID Connect client (see client -h)
  jwtgate client list|delete|secret rotate          manage clients
  jwtgate migrate [--db URL]                        apply database migrations and exit
  jwtgate token decode [--json] [TOKEN|-]           show a token WITHOUT verifying it
  jwtgate token sign --alg ALG KEY [flags]          make a token
  jwtgate token verify KEY [flags] [TOKEN|-]        check a token, print its claims
  jwtgate key generate --alg ALG [--out F]          make a key (files are written 0600)
  jwtgate key jwks FILE...                          public JWKS of key files
  jwtgate key rotate [--alg ALG]                    new active server key; old ones verify for --grace
  jwtgate key list                                  the server's keys
  jwtgate help [COMMAND]                            this text, or a command's flags

KEY is one of --secret-env NAME, --secret-file F, --key-file F (PEM or JWK),
or, to verify, --jwks-file F. Secrets are never taken as arguments.
Flags and arguments may come in any order; -flag and --flag are the same.
Exit status: 0 success, 1 the token is invalid (or the operation failed),
2 usage or key error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main without globals, so tests drive it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" { // help token sign → token sign -h
			return run(append(append([]string(nil), args[1:]...), "-h"), stdin, stdout, stderr, env)
		}
		fmt.Fprint(stdout, usage)
		return 0
	case "token":
		return cmdToken(args[1:], stdin, stdout, stderr, env)
	case "key":
		return cmdKey(args[1:], stdout, stderr, env)
	case "serve":
		return cmdServe(args[1:], env, stdout, stderr)
	case "user":
		return cmdUser(args[1:], stdin, stdout, stderr, env)
	case "client":
		return cmdClient(args[1:], stdout, stderr, env)
	case "migrate":
		return cmdMigrate(args[1:], stdout, stderr, env)
	}
	fmt.Fprintf(stderr, "jwtgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}
