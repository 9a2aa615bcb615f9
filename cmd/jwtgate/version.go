package main

import (
	"fmt"

	"github.com/jwtgate/jwtgate/internal/buildinfo"
)

func cmdVersion(args []string, s stdio) int {
	const prefix = "jwtgate version"
	c := newCommand(prefix, "jwtgate version (or jwtgate --version)", `
Prints the version (a release's, the module version that go install
fetched, or "(devel)"), the commit and its date with "(modified)" for a
build from uncommitted changes, and the Go that built this binary.`, nil)
	pos, code, ok := c.parse(args, s.out, s.err)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(s.err, "%s: unexpected argument %q\n", prefix, pos[0])
		return 2
	}
	fmt.Fprint(s.out, buildinfo.Get())
	return 0
}
