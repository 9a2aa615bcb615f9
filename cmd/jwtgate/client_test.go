package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

var (
	clientIDLine     = regexp.MustCompile(`(?m)^client_id: (\S+)$`)
	clientSecretLine = regexp.MustCompile(`(?m)^client_secret: (\S+)$`)
)

// openData opens the SQLite database of a data folder the way serve does.
func openData(t *testing.T, data string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestClientCommands(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	out := mustOK(t, jwtgate(t, nil, "", "client", "add", "Wiki", "--redirect-uri", "https://wiki.example/callback",
		"--redirect-uri", "http://127.0.0.1:9000/cb", "--post-logout-redirect-uri", "https://wiki.example/", "--data", data))
	id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
	if id == nil || secret == nil {
		t.Fatalf("client add printed %q: want client_id and client_secret lines", out)
	}
	pub := clientIDLine.FindStringSubmatch(mustOK(t, jwtgate(t, nil, "", "client", "add", "SPA", "--public", "--redirect-uri", "https://spa.example/cb", "--data", data)))
	if pub == nil {
		t.Fatal("client add --public printed no client_id")
	}

	db := openData(t, data)
	svc := &auth.Service{Store: db}
	stored, err := db.Client(ctx, id[1])
	if err != nil {
		t.Fatal(err)
	}
	// The secret is kept only as a hash, and it authenticates the client.
	if bytes.Contains(stored.SecretHash, []byte(secret[1])) || len(stored.SecretHash) != 32 {
		t.Errorf("stored secret hash %x: want a 32-byte hash, not the secret", stored.SecretHash)
	}
	if stored.Name != "Wiki" || len(stored.RedirectURIs) != 2 || len(stored.PostLogoutRedirectURIs) != 1 {
		t.Errorf("stored client = %+v", stored)
	}
	if _, err := svc.AuthenticateClient(ctx, id[1], secret[1]); err != nil {
		t.Errorf("the printed secret does not authenticate: %v", err)
	}

	list := mustOK(t, jwtgate(t, nil, "", "client", "list", "--data", data))
	for _, w := range []string{id[1], "Wiki", "confidential", pub[1], "SPA", "public", "https://wiki.example/callback http://127.0.0.1:9000/cb"} {
		if !strings.Contains(list, w) {
			t.Errorf("client list lacks %q:\n%s", w, list)
		}
	}

	// Rotation by name: the old secret stops working, the new one works.
	rotated := clientSecretLine.FindStringSubmatch(mustOK(t, jwtgate(t, nil, "", "client", "secret", "rotate", "Wiki", "--data", data)))
	if rotated == nil || rotated[1] == secret[1] {
		t.Fatalf("secret rotate printed no new secret")
	}
	if _, err := svc.AuthenticateClient(ctx, id[1], secret[1]); !errors.Is(err, auth.ErrClientAuth) {
		t.Errorf("old secret after rotate: %v, want ErrClientAuth", err)
	}
	if _, err := svc.AuthenticateClient(ctx, id[1], rotated[1]); err != nil {
		t.Errorf("new secret: %v", err)
	}

	// Delete by id; then the client is gone.
	mustOK(t, jwtgate(t, nil, "", "client", "delete", id[1], "--data", data))
	if _, err := db.Client(ctx, id[1]); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("client after delete: %v, want ErrNotFound", err)
	}
}

func TestClientCommandErrors(t *testing.T) {
	data := t.TempDir()
	mustOK(t, jwtgate(t, nil, "", "client", "add", "Twin", "--redirect-uri", "https://a.example/cb", "--data", data))
	mustOK(t, jwtgate(t, nil, "", "client", "add", "Twin", "--redirect-uri", "https://b.example/cb", "--data", data))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add", "NoURI"}, 2, "at least one --redirect-uri is needed"},
		{[]string{"add", "Star", "--redirect-uri", "https://*.example/cb"}, 1, "jwtgate client add:"},
		{[]string{"add", "Frag", "--redirect-uri", "https://a.example/cb#x"}, 1, "jwtgate client add:"},
		{[]string{"add", "Plain", "--redirect-uri", "http://wiki.example/cb"}, 1, "jwtgate client add:"},
		{[]string{"delete", "nobody"}, 1, `no client with id or name "nobody"`},
		{[]string{"delete", "Twin"}, 1, "several clients have this name"},
		{[]string{"list", "--public"}, 2, "are for add"},
		{[]string{"secret"}, 2, `want "secret rotate NAME|ID"`},
		{[]string{"frob"}, 2, `unknown command "frob"`},
	} {
		r := jwtgate(t, nil, "", append(append([]string{"client"}, tc.args...), "--data", data)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("client %v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if r := jwtgate(t, nil, "", "client", "-h"); r.code != 0 || !strings.Contains(r.stdout, "secret rotate") {
		t.Errorf("client -h: exit %d, stdout %q", r.code, r.stdout)
	}
}
