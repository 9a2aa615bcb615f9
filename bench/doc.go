// Package bench measures github.com/jwtgate/jwtgate/jwt against peer Go JWT
// libraries on the same token, the same key and the same claims, in one
// `go test -bench` run. It is a separate module so that the main module
// never depends on the peers. See run.sh and ../BENCHMARKS.md.
package bench
