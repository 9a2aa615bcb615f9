package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/testutil"
)

// testCrashSafety kills a server with SIGKILL in the middle of a stream of
// writes (user creation, posts, refreshes), restarts it on the same
// storage and checks that every write acknowledged with a 2xx is there and
// that nothing beyond the writes in flight appeared.
func testCrashSafety(t *testing.T, be backend) {
	args := be.args(t)
	if out, err := runBinary(t, "crash-admin-pass\n", append([]string{"user", "add", "root", "--role", "admin"}, args...)...); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	p := startProcess(t, "", args...)
	_, g := postJSON(t, p.base+"/login", "", `{"username":"root","password":"crash-admin-pass"}`)
	admin, refresh := g["access_token"].(string), g["refresh_token"].(string)

	var mu sync.Mutex
	var users []string
	var posts []float64
	lastRefresh, lastAccess := refresh, admin
	chain := []string{refresh} // every acknowledged refresh token, in order
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writer := func(write func(i int) bool) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if !write(i) {
				return
			}
		}
	}
	wg.Add(3)
	go writer(func(i int) bool { // users: each an argon2id hash
		name := fmt.Sprintf("u%d", i)
		code, _, err := tryCall("POST", p.base+"/users", admin, `{"username":"`+name+`","password":"crash-user-pass","role":"reader"}`)
		if err != nil {
			return false
		}
		if code == 201 {
			mu.Lock()
			users = append(users, name)
			mu.Unlock()
		}
		return true
	})
	go writer(func(i int) bool { // posts
		code, m, err := tryCall("POST", p.base+"/posts", admin, fmt.Sprintf(`{"title":"post %d"}`, i))
		if err != nil {
			return false
		}
		if code == 201 {
			mu.Lock()
			posts = append(posts, m["id"].(float64))
			mu.Unlock()
		}
		return true
	})
	go writer(func(int) bool { // a chain of refreshes
		mu.Lock()
		cur := lastRefresh
		mu.Unlock()
		code, m, err := tryCall("POST", p.base+"/refresh", "", `{"refresh_token":"`+cur+`"}`)
		if err != nil {
			return false
		}
		if code == 200 {
			mu.Lock()
			lastRefresh, lastAccess = m["refresh_token"].(string), m["access_token"].(string)
			chain = append(chain, lastRefresh)
			mu.Unlock()
		}
		return code == 200
	})
	// Kill once enough writes of each kind were acknowledged to test
	// anything, with more in flight; a busy machine just takes longer.
	testutil.Eventually(t, time.Minute, "acknowledged writes before the kill", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(users) >= 2 && len(posts) >= 20 && len(chain) >= 3
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()
	if len(users) == 0 || len(posts) < 10 || lastRefresh == refresh {
		t.Fatalf("too few writes before the kill to test anything: %d users, %d posts, refreshed %v", len(users), len(posts), lastRefresh != refresh)
	}

	q := startProcess(t, "", args...)
	code, _, body := call(t, "GET", q.base+"/users", admin, "", "")
	if code != 200 {
		t.Fatalf("users after restart: %d %v", code, body)
	}
	stored := map[string]bool{}
	list, _ := body["users"].([]any)
	for _, u := range list {
		stored[u.(map[string]any)["name"].(string)] = true
	}
	for _, name := range users {
		if !stored[name] {
			t.Errorf("acknowledged user %s lost", name)
		}
	}
	if extra := len(stored) - 1 - len(users); extra < 0 || extra > 1 {
		t.Errorf("%d users stored beyond the %d acknowledged (at most 1 was in flight)", extra, len(users))
	}
	for _, id := range posts {
		if code, _, _ := call(t, "GET", fmt.Sprintf("%s/posts/%d", q.base, int64(id)), admin, "", ""); code != 200 {
			t.Errorf("acknowledged post %d lost: %d", int64(id), code)
		}
	}
	if n := countPosts(t, q.base, admin); n < len(posts) || n > len(posts)+1 {
		t.Errorf("%d posts stored, %d acknowledged (at most 1 in flight)", n, len(posts))
	}
	checkRefreshChain(t, args, chain)
	// The last acknowledged refresh token was stored. Either it works
	// (the refresh in flight at the kill did not commit), or that refresh
	// committed and only its answer was lost: then the token counts as
	// already used, and replaying it is reuse, which revokes the session,
	// so the session's last access token is refused as revoked. A token
	// the store had lost would be merely unknown and revoke nothing.
	code, m := postJSON(t, q.base+"/refresh", "", `{"refresh_token":"`+lastRefresh+`"}`)
	switch {
	case code == 200:
	case code == 401 && m["code"] == "refresh_invalid":
		testutil.Eventually(t, 20*time.Second, "the session revoked after replaying its used refresh token (else the token was lost)", func() bool {
			code, _, me := call(t, "GET", q.base+"/me", lastAccess, "", "")
			return code == 401 && me["code"] == "token_revoked"
		})
		t.Logf("the refresh in flight at the kill had committed; replaying its predecessor revoked the session")
	default:
		t.Errorf("last acknowledged refresh token after the crash: %d %v", code, m)
	}
	t.Logf("%s: killed after %d users, %d posts; all there after restart", be.name, len(users), len(posts))
}

// checkRefreshChain reads the stored refresh-token family directly and
// checks that no rotation is half-done. chain is every refresh token the
// server acknowledged, in order: all are stored in one live session, all
// but the last are used, and the family holds exactly one unused token,
// its head. So the last acknowledged token is either that head (the
// refresh in flight at the kill did not commit), or it is used and its
// successor, whose answer was lost, is stored as the head. A rotation
// that marked a token used without storing its successor, or stored a
// successor without marking its predecessor used, fails here, although
// replaying the token over HTTP cannot tell the first from a lost answer.
func checkRefreshChain(t *testing.T, args []string, chain []string) {
	t.Helper()
	ctx := context.Background()
	st := &storage{}
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--data":
			st.data = args[i+1]
		case "--db":
			st.db = args[i+1]
		}
	}
	db, err := st.open(ctx, false)
	if err != nil {
		t.Fatalf("opening the store after the crash: %v", err)
	}
	defer db.Close()
	var sid string
	lastUsed := false
	for i, tok := range chain {
		h := sha256.Sum256([]byte(tok)) // as the server stores it
		rt, sess, err := db.RefreshToken(ctx, h[:])
		if err != nil {
			t.Fatalf("acknowledged refresh token %d of %d: %v", i+1, len(chain), err)
		}
		if i == 0 {
			sid = sess.ID
		}
		switch {
		case rt.SessionID != sid:
			t.Errorf("refresh token %d is in session %s, the family is %s", i+1, rt.SessionID, sid)
		case !sess.RevokedAt.IsZero():
			t.Errorf("session revoked after the crash, before any replay")
		case i < len(chain)-1 && rt.UsedAt.IsZero():
			t.Errorf("refresh token %d of %d was rotated (its successor acknowledged) but is not marked used", i+1, len(chain))
		}
		lastUsed = !rt.UsedAt.IsZero()
	}
	total, unused := familyRows(t, st, sid)
	want := len(chain)
	if lastUsed {
		want++ // the successor of the last, its answer lost in the kill
	}
	if total != want || unused != 1 {
		t.Fatalf("refresh-token family after the crash: %d tokens, %d unused; acknowledged %d, the last used: %v; want %d tokens, exactly 1 unused (a half-done rotation)",
			total, unused, len(chain), lastUsed, want)
	}
	t.Logf("refresh family intact: %d acknowledged tokens, the refresh in flight committed: %v", len(chain), lastUsed)
}

// familyRows counts the refresh tokens of a session, and the unused ones,
// straight from the database: the store has no method that lists them.
func familyRows(t *testing.T, st *storage, sid string) (total, unused int) {
	t.Helper()
	ctx := context.Background()
	if st.postgres() {
		conn, err := pgx.Connect(ctx, st.db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE used_at IS NULL) FROM refresh_tokens WHERE session_id = $1`, sid).Scan(&total, &unused)
		if err != nil {
			t.Fatal(err)
		}
		return total, unused
	}
	db, err := sql.Open("sqlite", filepath.Join(st.data, "jwtgate.db")) // the driver sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE used_at IS NULL) FROM refresh_tokens WHERE session_id = ?`, sid).Scan(&total, &unused)
	if err != nil {
		t.Fatal(err)
	}
	return total, unused
}

// countPosts pages through GET /posts.
func countPosts(t *testing.T, base, token string) int {
	t.Helper()
	n, query := 0, ""
	for {
		code, _, m := call(t, "GET", base+"/posts?limit=100"+query, token, "", "")
		if code != 200 {
			t.Fatalf("GET /posts: %d %v", code, m)
		}
		n += len(m["posts"].([]any))
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return n
		}
		query = "&cursor=" + next
	}
}

// tryCall is call without failing the test on a transport error (the
// server is killed under it).
func tryCall(method, url, token, body string) (int, map[string]any, error) {
	return callErr(method, url, token, "application/json", body)
}

func TestCrashSafetySQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	testCrashSafety(t, sqliteBackend)
}

func TestCrashSafetyPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	testCrashSafety(t, postgresBackend)
}
