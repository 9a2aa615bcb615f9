package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

func TestWorkflow(t *testing.T) {
	e := newEnv(t, envOptions{})

	// Log in with JSON (charset parameter allowed) and with the OAuth 2.0 form.
	r := e.send(req{method: "POST", path: "/login", ctype: "application/json; charset=utf-8",
		body: `{"username":"eddie","password":"` + pw("eddie") + `"}`})
	wantStatus(t, r, 200)
	var tok grantResponse
	decodeStrict(t, r.body, &tok)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 900 {
		t.Fatalf("token response %s", r.body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("token response cacheable: %v", r.Header)
	}
	editor := tok.AccessToken

	r = e.send(req{method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: loginForm("rita", pw("rita"))})
	wantStatus(t, r, 200)
	decodeStrict(t, r.body, &tok)
	reader := tok.AccessToken
	if reader == "" || reader == editor {
		t.Fatalf("form login token %q", reader)
	}

	// An empty list first.
	r = e.get("/posts", reader)
	wantStatus(t, r, 200)
	if got := strings.TrimSpace(string(r.body)); got != `{"posts":[]}` {
		t.Fatalf("empty list: %s", got)
	}

	// An editor creates a post.
	r = e.sendJSON("POST", "/posts", editor, `{"title":" Hello ","body":"<b>first</b> post"}`)
	wantStatus(t, r, 201)
	var created postJSON
	decodeStrict(t, r.body, &created)
	if created.ID <= 0 || created.Author != "eddie" || created.Title != "Hello" || created.Body != "<b>first</b> post" || created.CreatedAt.IsZero() {
		t.Fatalf("created %+v", created)
	}
	loc := r.Header.Get("Location")
	if loc != "/posts/"+strconv.FormatInt(created.ID, 10) {
		t.Fatalf("Location %q", loc)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}

	// A reader gets it by its Location and in the list.
	r = e.get(loc, reader)
	wantStatus(t, r, 200)
	var got postJSON
	decodeStrict(t, r.body, &got)
	if got != created {
		t.Fatalf("GET %s = %+v, want %+v", loc, got, created)
	}
	r = e.get("/posts", reader)
	wantStatus(t, r, 200)
	var list postList
	decodeStrict(t, r.body, &list)
	if len(list.Posts) != 1 || list.Posts[0] != created || list.NextCursor != "" {
		t.Fatalf("list %s", r.body)
	}

	// The author deletes it; then it is gone.
	r = e.send(req{method: "DELETE", path: loc, token: editor})
	wantStatus(t, r, 204)
	if len(r.body) != 0 {
		t.Errorf("204 with body %q", r.body)
	}
	wantProblem(t, e.get(loc, reader), 404, codeNotFound)
	wantProblem(t, e.send(req{method: "DELETE", path: loc, token: editor}), 404, codeNotFound)
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t, envOptions{})
	attempts := map[string]req{
		"unknown user":   {ctype: "application/json", body: `{"username":"nobody","password":"` + pw("eddie") + `"}`},
		"wrong password": {ctype: "application/json", body: `{"username":"eddie","password":"` + pw("edna") + `"}`},
		"disabled":       {ctype: "application/json", body: `{"username":"dora","password":"` + pw("dora") + `"}`},
		"form, wrong pw": {ctype: "application/x-www-form-urlencoded", body: loginForm("eddie", "nope-nope-nope")},
		"form, no user":  {ctype: "application/x-www-form-urlencoded", body: loginForm("nobody", pw("eddie"))},
	}
	var first []byte
	for name, q := range attempts {
		q.method, q.path = "POST", "/login"
		r := e.send(q)
		wantProblem(t, r, 401, codeInvalidCredentials)
		if first == nil {
			first = r.body
		} else if !bytes.Equal(r.body, first) {
			t.Errorf("%s: body %s differs from %s", name, r.body, first)
		}
	}
}

func TestLoginRequestErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name   string
		q      req
		status int
		code   string
	}{
		{"other grant", req{ctype: form, body: "grant_type=client_credentials&username=eddie&password=x"}, 400, codeUnsupportedGrantType},
		{"no grant", req{ctype: form, body: "username=eddie&password=" + pw("eddie")}, 400, codeInvalidRequest},
		{"repeated parameter", req{ctype: form, body: loginForm("eddie", pw("eddie")) + "&username=alice"}, 400, codeInvalidRequest},
		{"bad form encoding", req{ctype: form, body: "grant_type=password&username=%zz"}, 400, codeInvalidRequest},
		{"text/plain", req{ctype: "text/plain", body: `{"username":"eddie","password":"x"}`}, 415, codeUnsupportedMediaType},
		{"no content type", req{body: `{"username":"eddie","password":"x"}`}, 415, codeUnsupportedMediaType},
		{"multipart", req{ctype: "multipart/form-data; boundary=x", body: "--x--"}, 415, codeUnsupportedMediaType},
		{"unknown JSON field", req{ctype: "application/json", body: `{"username":"eddie","password":"x","remember":true}`}, 400, codeUnknownField},
		{"malformed JSON", req{ctype: "application/json", body: `{"username":"eddie",`}, 400, codeInvalidJSON},
		{"empty JSON body", req{ctype: "application/json"}, 400, codeInvalidJSON},
		{"oversized form", req{ctype: form, body: loginForm("eddie", strings.Repeat("x", 65<<10))}, 413, codeBodyTooLarge},
		// Missing or impossible fields are the client's mistake (RFC 6749
		// 5.2 invalid_request), not a wrong password.
		{"empty password", req{ctype: "application/json", body: `{"username":"eddie","password":""}`}, 400, codeInvalidRequest},
		{"missing members", req{ctype: "application/json", body: `{}`}, 400, codeInvalidRequest},
		{"form without password", req{ctype: form, body: "grant_type=password&username=eddie"}, 400, codeInvalidRequest},
		{"username too long", req{ctype: "application/json", body: `{"username":"` + strings.Repeat("e", 65) + `","password":"x"}`}, 400, codeInvalidRequest},
		{"password too long", req{ctype: "application/json", body: `{"username":"eddie","password":"` + strings.Repeat("x", 1025) + `"}`}, 400, codeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.method, tc.q.path = "POST", "/login"
			wantProblem(t, e.send(tc.q), tc.status, tc.code)
		})
	}
	// Credentials in the query string are not read.
	r := e.send(req{method: "POST", path: "/login?" + loginForm("eddie", pw("eddie")), ctype: form, body: "grant_type=password"})
	wantProblem(t, r, 400, codeInvalidRequest)
}

func TestMe(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("rita")
	r := e.get("/me", tok)
	wantStatus(t, r, 200)
	var me struct {
		Sub  string   `json:"sub"`
		Name string   `json:"name"`
		Role string   `json:"role"`
		Exp  int64    `json:"exp"`
		Iat  int64    `json:"iat"`
		Iss  string   `json:"iss"`
		Aud  []string `json:"aud"`
	}
	decodeStrict(t, r.body, &me)
	u, _ := e.store.UserByName(context.Background(), "rita")
	now := e.clock.Now().Unix()
	if me.Sub != strconv.FormatInt(u.ID, 10) || me.Name != "rita" || me.Role != "reader" || me.Iat != now ||
		me.Exp != now+900 || me.Iss != "jwtgate" || len(me.Aud) != 1 || me.Aud[0] != "jwtgate-api" {
		t.Fatalf("/me = %s", r.body)
	}
	if !json.Valid(r.body) || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/me: %q %s", r.Header.Get("Content-Type"), r.body)
	}
	// appendMe escapes as encoding/json does.
	var c auth.AccessClaims
	c.Subject, c.Name, c.Role = "1", "quote\" <b>\u2028", auth.RoleAdmin
	c.ExpiresAt.Time = time.Unix(5, 0)
	var back map[string]any
	if err := json.Unmarshal(appendMe(nil, &c), &back); err != nil || back["name"] != c.Name {
		t.Fatalf("appendMe escaping: %s %v", appendMe(nil, &c), err)
	}
}

// tamper swaps the payload of a token, keeping its
// header and signature.
func tamper(t *testing.T, token, from, to string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(payload), from, to, 1)
	if changed == string(payload) {
		t.Fatalf("payload %s lacks %s", payload, from)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

func TestTokenChecks(t *testing.T) {
	e := newEnv(t, envOptions{})
	rita := e.login("rita")
	u, _ := e.store.UserByName(context.Background(), "rita")

	// No credentials: a bare challenge, without an error attribute (RFC 6750 3.1).
	for _, hdr := range []http.Header{nil, {"Authorization": {""}}, {"Authorization": {"Basic cml0YTpwdw=="}}} {
		r := e.send(req{method: "GET", path: "/me", header: hdr})
		wantProblem(t, r, 401, codeTokenMissing)
		if got := r.Header.Get("Www-Authenticate"); got != `Bearer realm="jwtgate"` {
			t.Errorf("%v: WWW-Authenticate %q", hdr, got)
		}
	}

	invalid := func(name string, r resp, code string) {
		t.Helper()
		wantProblem(t, r, 401, code)
		ch := r.Header.Get("Www-Authenticate")
		if !strings.HasPrefix(ch, `Bearer realm="jwtgate", error="invalid_token", error_description="`) || !strings.HasSuffix(ch, `"`) {
			t.Errorf("%s: WWW-Authenticate %q", name, ch)
		}
	}

	// Signed with another key.
	otherTokens := newTokens(t, testKey(t, "o"), e.clock)
	foreign, _, err := otherTokens.Issue(u, "")
	if err != nil {
		t.Fatal(err)
	}
	invalid("foreign key", e.get("/me", foreign), codeTokenInvalid)

	// Payload changed after signing.
	invalid("tampered", e.get("/me", tamper(t, rita, `"role":"reader"`, `"role":"admin"`)), codeTokenInvalid)
	invalid("garbage", e.get("/me", "not.a.token"), codeTokenInvalid)

	// Malformed Authorization headers.
	for _, v := range []string{"Bearer", "Bearer ", "Bearer  " + rita, "Bearer " + rita + " extra", "Bearer\t" + rita} {
		invalid(v, e.send(req{method: "GET", path: "/me", header: http.Header{"Authorization": {v}}}), codeTokenInvalid)
	}
	invalid("two headers", e.send(req{method: "GET", path: "/me", header: http.Header{"Authorization": {"Bearer " + rita, "Bearer " + rita}}}), codeTokenInvalid)

	// The scheme is case-insensitive.
	wantStatus(t, e.send(req{method: "GET", path: "/me", header: http.Header{"Authorization": {"bEARER " + rita}}}), 200)

	// Expired: past exp plus the leeway.
	e.clock.Advance(15*time.Minute + 31*time.Second)
	r := e.get("/me", rita)
	invalid("expired", r, codeTokenExpired)
	if !strings.Contains(r.Header.Get("Www-Authenticate"), "expired") {
		t.Errorf("expired challenge %q", r.Header.Get("Www-Authenticate"))
	}
	wantProblem(t, e.get("/posts", rita), 401, codeTokenExpired)
}

func TestRoles(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, eddie, edna, rita := e.login("alice"), e.login("eddie"), e.login("edna"), e.login("rita")

	r := e.sendJSON("POST", "/posts", rita, `{"title":"t","body":"b"}`)
	p := wantProblem(t, r, 403, codeForbidden)
	if !strings.Contains(r.Header.Get("Www-Authenticate"), `error="insufficient_scope"`) || p.Detail == "" {
		t.Errorf("403: %q %s", r.Header.Get("Www-Authenticate"), r.body)
	}
	// The body is not even read for a reader: a bad one still gets 403.
	wantProblem(t, e.sendJSON("POST", "/posts", rita, `{`), 403, codeForbidden)

	mk := func(token string) string {
		r := e.sendJSON("POST", "/posts", token, `{"title":"t","body":"b"}`)
		wantStatus(t, r, 201)
		return r.Header.Get("Location")
	}
	byEddie, byAlice := mk(eddie), mk(alice)

	wantProblem(t, e.send(req{method: "DELETE", path: byEddie, token: edna}), 403, codeForbidden)
	wantProblem(t, e.send(req{method: "DELETE", path: byAlice, token: rita}), 403, codeForbidden)
	wantProblem(t, e.send(req{method: "DELETE", path: byAlice, token: eddie}), 403, codeForbidden)
	wantStatus(t, e.send(req{method: "DELETE", path: byEddie, token: alice}), 204) // admin deletes any
	wantStatus(t, e.send(req{method: "DELETE", path: byAlice, token: alice}), 204)
}

func TestUsersAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, eddie := e.login("alice"), e.login("eddie")

	// Editors and readers may not touch users.
	wantProblem(t, e.get("/users", eddie), 403, codeForbidden)
	wantProblem(t, e.sendJSON("POST", "/users", eddie, `{"username":"mallory","password":"12345678","role":"admin"}`), 403, codeForbidden)
	wantProblem(t, e.sendJSON("PATCH", "/users/eddie", eddie, `{"role":"admin"}`), 403, codeForbidden)
	wantProblem(t, e.send(req{method: "DELETE", path: "/users/alice", token: eddie}), 403, codeForbidden)
	if u, _ := e.store.UserByName(context.Background(), "eddie"); u.Role != auth.RoleEditor {
		t.Fatalf("an editor changed their role to %s", u.Role)
	}

	// Create.
	r := e.sendJSON("POST", "/users", alice, `{"username":"bob","password":"`+pw("bob")+`","role":"reader"}`)
	wantStatus(t, r, 201)
	var u userJSON
	decodeStrict(t, r.body, &u)
	if u.Name != "bob" || u.Role != auth.RoleReader || u.Disabled || u.CreatedAt.IsZero() || r.Header.Get("Location") != "/users/bob" {
		t.Fatalf("created %s (Location %q)", r.body, r.Header.Get("Location"))
	}
	e.login("bob")
	wantProblem(t, e.sendJSON("POST", "/users", alice, `{"username":"bob","password":"another-password","role":"editor"}`), 409, codeConflict)
	wantProblem(t, e.sendJSON("POST", "/users", alice, `{"username":"carl","password":"short","role":"reader"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/users", alice, `{"username":"carl","password":"long-enough","role":"root"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/users", alice, `{"username":"bad name","password":"long-enough","role":"reader"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("POST", "/users", alice, `{"username":"carl","password":"long-enough","role":"reader","admin":true}`), 400, codeUnknownField)

	// List: every user, no hash.
	r = e.get("/users", alice)
	wantStatus(t, r, 200)
	var list struct {
		Users []userJSON `json:"users"`
	}
	decodeStrict(t, r.body, &list)
	if len(list.Users) != len(seedUsers)+1 {
		t.Fatalf("list %s", r.body)
	}
	for _, s := range []string{"argon2", "hash", "$", pw("bob"), `"password`} {
		if bytes.Contains(r.body, []byte(s)) {
			t.Errorf("user list contains %q: %s", s, r.body)
		}
	}
	if !strings.Contains(string(r.body), `"name":"dora","role":"reader","disabled":true`) {
		t.Errorf("list lacks disabled dora: %s", r.body)
	}

	// Patch role, then disabled; a disabled user cannot log in.
	r = e.sendJSON("PATCH", "/users/bob", alice, `{"role":"editor"}`)
	wantStatus(t, r, 200)
	decodeStrict(t, r.body, &u)
	if u.Role != auth.RoleEditor || u.Disabled {
		t.Fatalf("patched %s", r.body)
	}
	r = e.send(req{method: "PATCH", path: "/users/bob", token: alice, ctype: "application/merge-patch+json", body: `{"disabled":true}`})
	wantStatus(t, r, 200)
	decodeStrict(t, r.body, &u)
	if u.Role != auth.RoleEditor || !u.Disabled {
		t.Fatalf("patched %s", r.body)
	}
	wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"bob","password":"`+pw("bob")+`"}`), 401, codeInvalidCredentials)
	wantProblem(t, e.sendJSON("PATCH", "/users/bob", alice, `{}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("PATCH", "/users/bob", alice, `{"role":"root"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("PATCH", "/users/bob", alice, `{"disabled":"yes"}`), 400, codeInvalidRequest)
	wantProblem(t, e.sendJSON("PATCH", "/users/nobody", alice, `{"role":"reader"}`), 404, codeNotFound)
	wantProblem(t, e.sendJSON("PATCH", "/users/alice", alice, `{"role":"reader"}`), 403, codeForbidden) // no self-demotion

	// Delete.
	wantStatus(t, e.send(req{method: "DELETE", path: "/users/bob", token: alice}), 204)
	wantProblem(t, e.send(req{method: "DELETE", path: "/users/bob", token: alice}), 404, codeNotFound)
	wantProblem(t, e.send(req{method: "DELETE", path: "/users/alice", token: alice}), 403, codeForbidden)
	if _, err := e.store.UserByName(context.Background(), "bob"); err == nil {
		t.Fatal("bob still stored")
	}
}

// slowReader hides its length, so the request goes out chunked and only
// http.MaxBytesReader can stop it.
type slowReader struct{ r *strings.Reader }

func (s slowReader) Read(p []byte) (int, error) { return s.r.Read(p) }

func TestJSONBodies(t *testing.T) {
	e := newEnv(t, envOptions{})
	eddie := e.login("eddie")
	big := `{"title":"t","body":"` + strings.Repeat("x", 65<<10) + `"}`
	for _, tc := range []struct {
		name   string
		q      req
		status int
		code   string
	}{
		{"wrong content type", req{ctype: "text/plain", body: `{"title":"t"}`}, 415, codeUnsupportedMediaType},
		{"no content type", req{body: `{"title":"t"}`}, 415, codeUnsupportedMediaType},
		{"form", req{ctype: "application/x-www-form-urlencoded", body: "title=t"}, 415, codeUnsupportedMediaType},
		{"oversized", req{ctype: "application/json", body: big}, 413, codeBodyTooLarge},
		{"oversized chunked", req{ctype: "application/json", bodyReader: slowReader{strings.NewReader(big)}}, 413, codeBodyTooLarge},
		{"unknown field", req{ctype: "application/json", body: `{"title":"t","author":"alice"}`}, 400, codeUnknownField},
		{"malformed", req{ctype: "application/json", body: `{"title":"t",}`}, 400, codeInvalidJSON},
		{"truncated", req{ctype: "application/json", body: `{"title":"t"`}, 400, codeInvalidJSON},
		{"trailing object", req{ctype: "application/json", body: `{"title":"t"}{"title":"u"}`}, 400, codeInvalidJSON},
		{"trailing garbage", req{ctype: "application/json", body: `{"title":"t"} x`}, 400, codeInvalidJSON},
		{"empty", req{ctype: "application/json"}, 400, codeInvalidJSON},
		{"whitespace only", req{ctype: "application/json", body: " \n "}, 400, codeInvalidJSON},
		{"array", req{ctype: "application/json", body: `[{"title":"t"}]`}, 400, codeInvalidJSON},
		{"null", req{ctype: "application/json", body: `null`}, 400, codeInvalidJSON},
		{"wrong type", req{ctype: "application/json", body: `{"title":5}`}, 400, codeInvalidRequest},
		{"empty title", req{ctype: "application/json", body: `{"title":"  ","body":"b"}`}, 400, codeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.method, tc.q.path, tc.q.token = "POST", "/posts", eddie
			p := wantProblem(t, e.send(tc.q), tc.status, tc.code)
			if p.Detail == "" {
				t.Error("no detail")
			}
		})
	}
	if ps, _ := e.store.ListPosts(context.Background(), 100, 0); len(ps) != 0 {
		n := len(ps)
		t.Fatalf("%d posts stored from bad requests", n)
	}
	// Trailing whitespace is fine.
	wantStatus(t, e.sendJSON("POST", "/posts", eddie, " {\"title\":\"t\"}\n\n"), 201)
}

func TestPostsPagingAndIDs(t *testing.T) {
	e := newEnv(t, envOptions{})
	eddie := e.login("eddie")
	for i := 1; i <= 5; i++ {
		wantStatus(t, e.sendJSON("POST", "/posts", eddie, `{"title":"post `+strconv.Itoa(i)+`"}`), 201)
	}
	page := func(q string) postList {
		t.Helper()
		r := e.get("/posts"+q, eddie)
		wantStatus(t, r, 200)
		var l postList
		decodeStrict(t, r.body, &l)
		return l
	}
	var titles []string
	q := "?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		l := page(q)
		for _, p := range l.Posts {
			titles = append(titles, p.Title)
		}
		if l.NextCursor == "" {
			if len(l.Posts) != 1 {
				t.Fatalf("last page %+v", l)
			}
			break
		}
		if len(l.Posts) != 2 || l.NextCursor != strconv.FormatInt(l.Posts[1].ID, 10) {
			t.Fatalf("page %+v", l)
		}
		q = "?limit=2&cursor=" + l.NextCursor
	}
	if strings.Join(titles, ",") != "post 5,post 4,post 3,post 2,post 1" {
		t.Fatalf("titles %v", titles)
	}
	if l := page(""); len(l.Posts) != 5 || l.NextCursor != "" {
		t.Fatalf("default page %+v", l)
	}
	if l := page("?limit=100"); len(l.Posts) != 5 {
		t.Fatalf("limit=100: %+v", l)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=abc", "?limit=", "?limit=-1", "?limit=1&limit=2",
		"?cursor=abc", "?cursor=-5", "?cursor=0", "?cursor=", "?cursor=1.5"} {
		wantProblem(t, e.get("/posts"+q, eddie), 400, codeInvalidRequest)
	}

	wantProblem(t, e.get("/posts/999", eddie), 404, codeNotFound)
	for _, id := range []string{"abc", "0", "-1", "1e3", "99999999999999999999"} {
		wantProblem(t, e.get("/posts/"+id, eddie), 400, codeInvalidRequest)
		wantProblem(t, e.send(req{method: "DELETE", path: "/posts/" + id, token: eddie}), 400, codeInvalidRequest)
	}
}

func TestRateLimit(t *testing.T) {
	bad := `{"username":"eddie","password":"wrong-password"}`
	t.Run("remote address", func(t *testing.T) {
		e := newEnv(t, envOptions{ipLimit: auth.NewLimiter(time.Minute, 2)})
		spoof := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
		for i := 0; i < 2; i++ {
			wantProblem(t, e.send(req{method: "POST", path: "/login", ctype: "application/json", body: bad}), 401, codeInvalidCredentials)
		}
		// X-Forwarded-For is not trusted by default: the same bucket.
		r := e.send(req{method: "POST", path: "/login", ctype: "application/json", body: bad, header: spoof})
		wantProblem(t, r, 429, codeRateLimited)
		n, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || n < 1 || n > 60 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		// Even the right password is refused while limited.
		wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"eddie","password":"`+pw("eddie")+`"}`), 429, codeRateLimited)
	})
	t.Run("trusted proxy", func(t *testing.T) {
		e := newEnv(t, envOptions{ipLimit: auth.NewLimiter(time.Minute, 2), trustProxy: true})
		from := func(xff ...string) resp {
			return e.send(req{method: "POST", path: "/login", ctype: "application/json", body: bad, header: http.Header{"X-Forwarded-For": xff}})
		}
		wantProblem(t, from("203.0.113.1"), 401, codeInvalidCredentials)
		wantProblem(t, from("198.51.100.7, 203.0.113.1"), 401, codeInvalidCredentials)
		// The rightmost entry counts: a forged left part does not escape the limit.
		wantProblem(t, from("192.0.2.55, 203.0.113.1"), 429, codeRateLimited)
		wantProblem(t, from("10.0.0.1", "203.0.113.1"), 429, codeRateLimited)
		// Another client behind the proxy has its own bucket.
		wantProblem(t, from("203.0.113.2"), 401, codeInvalidCredentials)
		if !strings.Contains(e.waitLog(`"client_ip":"203.0.113.2"`), `"client_ip":"203.0.113.2"`) {
			t.Errorf("log lacks the forwarded client ip: %s", e.logs.String())
		}
	})
}

func TestBusy(t *testing.T) {
	h := auth.NewHasher(fastArgon, 1, time.Millisecond)
	e := newEnv(t, envOptions{hasher: h})
	// Keep the only hashing slot busy with a costly (never matching) hash.
	slow := "$argon2id$v=19$m=16384,t=4,p=1$" + base64.RawStdEncoding.EncodeToString(make([]byte, 16)) +
		"$" + base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			h.Verify(context.Background(), slow, "x")
		}
	}()
	defer func() { close(stop); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.sendJSON("POST", "/login", "", `{"username":"eddie","password":"`+pw("eddie")+`"}`)
		if r.StatusCode == 503 {
			wantProblem(t, r, 503, codeBusy)
			if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
			return
		}
		if r.StatusCode != 200 || time.Now().After(deadline) {
			t.Fatalf("got %v, want 503 busy", r)
		}
	}
}

func TestStoreDown(t *testing.T) {
	e := newEnv(t, envOptions{})
	eddie := e.login("eddie")
	wantStatus(t, e.get("/readyz", ""), 200)

	e.store.down.Store(true)
	wantProblem(t, e.get("/readyz", ""), 503, codeUnavailable)
	wantProblem(t, e.sendJSON("POST", "/posts", eddie, `{"title":"t"}`), 503, codeUnavailable)
	wantProblem(t, e.get("/posts", eddie), 503, codeUnavailable)
	wantProblem(t, e.sendJSON("POST", "/login", "", `{"username":"eddie","password":"`+pw("eddie")+`"}`), 503, codeUnavailable)
	r := e.get("/healthz", "")
	wantStatus(t, r, 200)
	if string(r.body) != `{"status":"ok"}` {
		t.Fatalf("healthz %s", r.body)
	}
	wantStatus(t, e.get("/me", eddie), 200) // no database needed
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("an unavailable database logged as an internal error: %s", e.logs.String())
	}

	e.store.down.Store(false)
	wantStatus(t, e.get("/readyz", ""), 200)
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, envOptions{})
	withID := func(path, id string) resp {
		return e.send(req{method: "GET", path: path, header: http.Header{"X-Request-Id": {id}}})
	}
	for _, id := range []string{"abc-123_X", strings.Repeat("a", 64), "0"} {
		if got := withID("/healthz", id).Header.Get("X-Request-Id"); got != id {
			t.Errorf("sent %q, got %q", id, got)
		}
	}
	if got := withID("/me", "req-401").Header.Get("X-Request-Id"); got != "req-401" {
		t.Errorf("error response: got %q", got)
	}
	seen := map[string]bool{}
	for _, id := range []string{"", "bad id", strings.Repeat("a", 65), "a/b", "é", "a\"b"} {
		got := withID("/healthz", id).Header.Get("X-Request-Id")
		if got == id || len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" || seen[got] {
			t.Errorf("sent %q, got %q: want a new 32-digit hex id", id, got)
		}
		seen[got] = true
	}
	r := e.get("/healthz", "")
	if got := r.Header.Get("X-Request-Id"); len(got) != 32 || seen[got] {
		t.Errorf("generated id %q", got)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, envOptions{})
	rita := e.login("rita")
	for _, r := range []resp{e.get("/healthz", ""), e.get("/me", rita), e.get("/me", ""), e.get("/nope", ""),
		e.send(req{method: "PUT", path: "/posts"}), e.sendJSON("POST", "/login", "", `{`)} {
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		} {
			if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
				t.Errorf("%s %s: %s = %q, want %q", r.Request.Method, r.Request.URL.Path, k, got, want)
			}
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", r.Request.URL.Path)
		}
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t, envOptions{})
	rita := e.login("rita")
	wantProblem(t, e.get("/nope", ""), 404, codeNotFound)
	wantProblem(t, e.get("/nope", rita), 404, codeNotFound)
	wantProblem(t, e.get("/posts/1/comments", rita), 404, codeNotFound)

	r := e.send(req{method: "PUT", path: "/posts"})
	wantProblem(t, r, 405, codeMethodNotAllowed)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") || strings.Contains(allow, "PUT") {
		t.Errorf("Allow %q", allow)
	}
	r = e.send(req{method: "DELETE", path: "/me", token: rita})
	wantProblem(t, r, 405, codeMethodNotAllowed)
	r = e.send(req{method: "GET", path: "/login"})
	wantProblem(t, r, 405, codeMethodNotAllowed)
	if r.Header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}
	// A route's own 404 is not rewritten.
	p := wantProblem(t, e.get("/posts/12345", rita), 404, codeNotFound)
	if p.Detail != "no such resource" {
		t.Errorf("detail %q", p.Detail)
	}
	if !strings.Contains(e.waitLog(`"path":"/nope"`), `"problem":"not_found"`) {
		t.Errorf("log: %s", e.logs.String())
	}
}

func TestPrincipalFromOutsideRequest(t *testing.T) {
	if p, ok := PrincipalFrom(context.Background()); ok || p != nil {
		t.Fatal("principal from an empty context")
	}
}
