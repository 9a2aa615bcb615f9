package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/internal/healthcheck"
)

func cmdHealthcheck(args []string, s stdio) int {
	const prefix = "jwtgate healthcheck"
	c := newCommand(prefix, "jwtgate healthcheck [--url URL] [--timeout D]", `
Asks a running server whether it is ready (GET /readyz: the database
answers) and exits 0 when it is, else 1 with one line saying why. Made for
a container's HEALTHCHECK in an image without a shell or curl. The default
URL is the server's $JWTGATE_ADDR on loopback (0.0.0.0:8080 gives
http://127.0.0.1:8080/readyz), else http://127.0.0.1:8080/readyz.`, s.env)
	url := c.fs.String("url", healthcheck.DefaultURL(s.env("JWTGATE_ADDR")), "readiness `URL` to get")
	timeout := c.fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	pos, code, ok := c.parse(args, s.out, s.err)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(s.err, "%s: unexpected argument %q\n", prefix, pos[0])
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(s.err, "%s: --timeout must be positive\n", prefix)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	// No proxy from the environment: the server is local, and a proxy
	// would answer for it.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	if err := healthcheck.Check(ctx, client, *url); err != nil {
		fmt.Fprintf(s.err, "%s: %s\n", prefix, oneLine(err.Error()))
		return 1
	}
	return 0
}
