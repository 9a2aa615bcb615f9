// Package testutil holds the helpers that several packages' tests share.
// It imports only the standard library, so that the tests of any package in
// the module, including internal tests of the server's packages, can use
// it without an import cycle.
package testutil
