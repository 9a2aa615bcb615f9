package testutil

import (
	"os"
	"testing"
)

// Unavailable ends a test whose prerequisite (an external program, a
// database, a browser) is missing: locally it skips with why; under
// CI=true (as .ci/run sets), which must provide everything, it fails,
// adding ciHint (what CI has to do).
func Unavailable(t testing.TB, why, ciHint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: under CI=true this test must run (%s)", why, ciHint)
	}
	t.Skip(why)
}
