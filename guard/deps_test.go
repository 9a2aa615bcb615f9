package guard_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImporterGoSumIsEmpty tidies a program that imports guard and jwt,
// from this repository's copies: its go.sum must stay empty, since jwt
// needs only the standard library and guard only jwt, their tests
// included (go mod tidy records the modules that the tests of imported
// packages need too). The server's drivers (SQLite, pgx, chromedp) live in
// the root module, which neither requires. It runs offline (GOPROXY=off):
// a dependency missing from the module cache fails it as well.
func TestImporterGoSumIsEmpty(t *testing.T) {
	jwtDir, err := filepath.Abs("../jwt")
	if err != nil {
		t.Fatal(err)
	}
	guardDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(jwtDir, "go.mod")); err != nil {
		t.Skipf("not in a clone of the repository (no ../jwt/go.mod): %v", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/importer\n\ngo 1.26.0\n\n" +
			"require (\n\tgithub.com/jwtgate/jwtgate/guard v0.0.0\n\tgithub.com/jwtgate/jwtgate/jwt v0.0.0\n)\n\n" +
			"replace (\n\tgithub.com/jwtgate/jwtgate/guard => " + guardDir + "\n\tgithub.com/jwtgate/jwtgate/jwt => " + jwtDir + "\n)\n",
		"main.go": `package main

import (
	"net/http"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/jwt"
)

func main() {
	g, err := guard.New(guard.Config{JWKSURL: "https://auth.example.com/.well-known/jwks.json"})
	if err != nil {
		panic(err)
	}
	_ = jwt.HS256
	http.ListenAndServe(":8080", g.Require(http.NotFoundHandler()))
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in an importer of guard and jwt: %v\n%s", err, out)
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(sum)); s != "" {
		t.Errorf("an importer of guard and jwt gets a go.sum:\n%s", s)
	}
}
