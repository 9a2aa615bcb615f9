package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

// The commands that change users, clients and keys leave audit events
// naming cli@HOST; jwtgate audit shows them as a table or JSON lines,
// filtered by user, time and count, and never a password or secret.
func TestAuditCommand(t *testing.T) {
	data := t.TempDir()
	const pw1, pw2 = "first-password-1", "second-password-2"
	mustOK(t, jwtgate(t, nil, pw1+"\n", "user", "add", "root", "--role", "admin", "--data", data))
	mustOK(t, jwtgate(t, nil, pw1+"\n", "user", "add", "Bob", "--data", data))
	mustOK(t, jwtgate(t, nil, "", "user", "role", "bob", "editor", "--data", data))
	mustOK(t, jwtgate(t, nil, pw2+"\n", "user", "passwd", "BOB", "--data", data))
	mustOK(t, jwtgate(t, nil, "", "user", "disable", "bob", "--data", data))
	out := mustOK(t, jwtgate(t, nil, "", "client", "add", "Wiki", "--redirect-uri", "https://wiki.example/cb", "--data", data))
	secrets := []string{pw1, pw2, clientSecretLine.FindStringSubmatch(out)[1]}
	clientID := clientIDLine.FindStringSubmatch(out)[1]
	out = mustOK(t, jwtgate(t, nil, "", "client", "secret", "rotate", clientID, "--data", data))
	secrets = append(secrets, clientSecretLine.FindStringSubmatch(out)[1])
	mustOK(t, jwtgate(t, nil, "", "client", "delete", clientID, "--data", data))
	db := openData(t, data)
	if _, err := auth.EnsureSigningKey(context.Background(), db, time.Now(), func() (auth.StoredKey, error) {
		return auth.NewStoredKey(jwt.HS256, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	mustOK(t, jwtgate(t, nil, "", "key", "rotate", "--data", data))
	mustOK(t, jwtgate(t, nil, "", "user", "delete", "bob", "--data", data))

	kinds := []string{"user.delete", "key.rotate", "client.delete", "client.secret_rotate", "client.register",
		"user.disable", "user.password", "user.role", "user.create", "user.create"}
	jsonLines := func(args ...string) []map[string]any {
		t.Helper()
		r := jwtgate(t, nil, "", append([]string{"audit", "--json", "--data", data}, args...)...)
		out := mustOK(t, r)
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) {
				t.Errorf("audit --json shows a password or secret: %s", r.stdout)
			}
		}
		var events []map[string]any
		for _, line := range strings.Split(out, "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("audit --json line %q: %v", line, err)
			}
			events = append(events, m)
		}
		return events
	}
	events := jsonLines()
	var got []string
	for _, e := range events {
		got = append(got, e["event"].(string))
		if e["actor"] != cliActor() {
			t.Errorf("event %v: actor %v, want %s", e["event"], e["actor"], cliActor())
		}
	}
	if !slices.Equal(got, kinds) {
		t.Fatalf("audit --json events %v, want %v", got, kinds)
	}
	// Events name the user as stored, with the name as given where the
	// user is gone (delete); user_key is the same for both.
	if e := events[7]; e["user"] != "Bob" || e["user_key"] != "bob" || e["reason"] != "role=editor" || e["user_id"] != 2.0 {
		t.Errorf("role change %v: want user Bob (key bob, id 2), reason role=editor", e)
	}
	if e := events[0]; e["user"] != "bob" || e["user_key"] != "bob" {
		t.Errorf("delete %v: want user bob as given, key bob", e)
	}

	filters := []struct {
		args []string
		want int
	}{
		{[]string{"--user", "BOB"}, 5},
		{[]string{"--user", "nobody"}, 0},
		{[]string{"--since", "1h"}, len(kinds)},
		{[]string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
		{[]string{"--limit", "3"}, 3},
	}
	for _, f := range filters {
		if n := len(jsonLines(f.args...)); n != f.want {
			t.Errorf("audit %s: %d events, want %d", strings.Join(f.args, " "), n, f.want)
		}
	}

	table := mustOK(t, jwtgate(t, nil, "", "audit", "--user", "bob", "--limit", "2", "--data", data))
	lines := strings.Split(table, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[0], "EVENT") {
		t.Fatalf("audit table:\n%s\nwant a header and 2 rows", table)
	}
	for i, want := range []string{"user.delete", "user.disable"} {
		if f := strings.Fields(lines[i+1]); len(f) < 4 || f[1] != want || f[2] != cliActor() || !strings.EqualFold(f[3], "bob") {
			t.Errorf("row %d %q: want %s by %s on bob", i+1, lines[i+1], want, cliActor())
		}
	}
	for _, s := range secrets {
		if strings.Contains(table, s) {
			t.Errorf("the audit table shows a password or secret")
		}
	}

	for _, args := range [][]string{{"--limit", "0"}, {"--limit", "1001"}, {"--since", "yesterday"}, {"extra"}} {
		r := jwtgate(t, nil, "", append([]string{"audit", "--data", data}, args...)...)
		if r.code != 2 {
			t.Errorf("audit %v: exit %d (%s), want 2", args, r.code, r.stderr)
		}
	}
}

// A name typed at a login can hold control characters: the table shows
// them escaped.
func TestAuditCell(t *testing.T) {
	for in, want := range map[string]string{"bob": "bob", "a\tb": `a\tb`, "x\x1b[2Jy": `x\x1b[2Jy`, "émile": "émile", "a\u0085b": `a\u0085b`} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// A server records its logins in the log (event attribute) and in the
// database, where jwtgate audit and GET /audit read them.
func TestServeRecordsLogins(t *testing.T) {
	base, data, logs := startServer(t)
	addUser(t, data, "ann", "admin", "ann-password-1")
	token := login(t, base, "ANN", "ann-password-1")
	code, _, _ := call(t, "POST", base+"/login", "", "application/json", `{"username":"ann","password":"wrong-password"}`)
	if code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	events := strings.Split(mustOK(t, jwtgate(t, nil, "", "audit", "--json", "--data", data)), "\n")
	if len(events) != 3 || !strings.Contains(events[0], `"event":"login.failure"`) || !strings.Contains(events[0], `"reason":"bad_password"`) ||
		!strings.Contains(events[1], `"event":"login.success"`) || !strings.Contains(events[1], `"client_ip":"127.0.0.1"`) {
		t.Fatalf("audit --json:\n%s\nwant the failed and the successful login, then the user add", strings.Join(events, "\n"))
	}
	if !strings.Contains(logs.String(), "msg=audit event=login.success user=ann user_id=1 client_ip=127.0.0.1") {
		t.Errorf("log has no audit line for the login:\n%s", logs.String())
	}
	code, _, m := call(t, "GET", base+"/audit?limit=1", token, "", "")
	if list, _ := m["events"].([]any); code != 200 || len(list) != 1 || m["next_cursor"] == nil {
		t.Errorf("GET /audit?limit=1: %d %v, want one event and a next_cursor", code, m)
	}
}
