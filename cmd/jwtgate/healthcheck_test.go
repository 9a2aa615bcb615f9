package main

import (
	"net"
	"strings"
	"testing"
)

// healthcheck exits 0 against a ready server, found through --url or
// through the address $JWTGATE_ADDR gives the server, and 1 with one line
// when nothing answers.
func TestHealthcheckCommand(t *testing.T) {
	base, _, _ := startServer(t)
	mustOK(t, jwtgate(t, nil, "", "healthcheck", "--url", base+"/readyz"))
	port := base[strings.LastIndex(base, ":")+1:]
	mustOK(t, jwtgate(t, map[string]string{"JWTGATE_ADDR": "0.0.0.0:" + port}, "", "healthcheck"))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	mustFail(t, jwtgate(t, map[string]string{"JWTGATE_ADDR": closed}, "", "healthcheck"), 1, "jwtgate healthcheck: Get \"http://"+closed+"/readyz\": dial tcp "+closed+": connect: connection refused")
	mustFail(t, jwtgate(t, nil, "", "healthcheck", "--url", base+"/nope"), 1, "404 Not Found")
	mustFail(t, jwtgate(t, nil, "", "healthcheck", "--timeout", "0s"), 2, "--timeout must be positive")
}
