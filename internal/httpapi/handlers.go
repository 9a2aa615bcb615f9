package httpapi

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
)

//go:embed openapi.yaml
var specFS embed.FS

// openapiYAML is the OpenAPI 3.1 description of every route.
var openapiYAML = mustRead(specFS, "openapi.yaml")

func mustRead(fsys embed.FS, name string) []byte {
	b, err := fsys.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	hYAML      = []string{"application/yaml"}
	bodyStatus = []byte(`{"status":"ok"}`)
)

func (s *server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Type"] = hYAML
	w.Write(openapiYAML)
}

// healthz says the process is alive; it touches nothing else.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeRawJSON(w, http.StatusOK, bodyStatus)
}

// readyz says whether the database answers.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Ready(ctx); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "readiness check failed",
			slog.String("request_id", stateOf(r).id), slog.String("err", err.Error()))
		writeProblem(w, http.StatusServiceUnavailable, codeUnavailable, "the database is unavailable")
		return
	}
	writeRawJSON(w, http.StatusOK, bodyStatus)
}

// login takes a JSON body or an OAuth 2.0 password grant form (RFC 6749
// section 4.3) and starts a session: an access token and a refresh token,
// in the body or, when the client asks with "cookie", as cookies.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var username, password string
	var cookie bool
	switch mediaType(r.Header.Get("Content-Type")) {
	case "application/json":
		var req struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Cookie   bool   `json:"cookie"`
		}
		if !s.decodeJSON(w, r, &req) {
			return
		}
		username, password, cookie = req.Username, req.Password, req.Cookie
	case "application/x-www-form-urlencoded":
		f, ok := s.grantForm(w, r, "password")
		if !ok {
			return
		}
		username, password = f.Get("username"), f.Get("password")
		switch f.Get("cookie") {
		case "", "0", "false":
		case "1", "true", "on":
			cookie = true
		default:
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, `cookie must be true or false`)
			return
		}
	default:
		writeProblem(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"send application/json or an application/x-www-form-urlencoded password grant")
		return
	}
	u, err := s.svc.Login(r.Context(), stateOf(r).ip, username, password)
	s.metrics.Login(err)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.svc.LoginSession(s.auditCtx(r), auth.LoginFrom{ClientIP: stateOf(r).ip, UserAgent: r.UserAgent()}, u, cookie)
	if err != nil {
		var mfa *auth.MFARequiredError
		if errors.As(err, &mfa) {
			s.writeMFARequired(w, mfa)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.writeGrant(w, r, g, cookie, "")
}

// grantForm parses an OAuth 2.0 token request form whose grant_type must
// be grant. On failure it has written the problem.
func (s *server) grantForm(w http.ResponseWriter, r *http.Request, grant string) (url.Values, bool) {
	f, ok := s.parseForm(w, r)
	if !ok {
		return nil, false
	}
	switch f.Get("grant_type") {
	case grant:
		return f, true
	case "":
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, `grant_type is required and must be "`+grant+`"`)
	default:
		writeProblem(w, http.StatusBadRequest, codeUnsupportedGrantType, `only grant_type "`+grant+`" is supported here`)
	}
	return nil, false
}

// parseForm parses an application/x-www-form-urlencoded body whose
// parameters appear once each. On failure it has written the problem.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if !s.limitBody(w, r) {
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge(w, s.maxBody)
		} else {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "the form body is malformed")
		}
		return nil, false
	}
	f := r.PostForm // the body only: credentials in the URL are ignored
	for _, v := range f {
		if len(v) > 1 { // RFC 6749 section 3.2
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "form parameters must not be repeated")
			return nil, false
		}
	}
	return f, true
}

// me answers from the verified token alone.
func (s *server) me(w http.ResponseWriter, r *http.Request) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		writeProblem(w, http.StatusUnauthorized, codeTokenMissing, "no access token")
		return
	}
	bp := meBufs.Get().(*[]byte)
	b := appendMe((*bp)[:0], &p.Claims)
	writeRawJSON(w, http.StatusOK, b) // Write copies: the buffer can go back
	if cap(b) <= 1<<10 {
		*bp = b
		meBufs.Put(bp)
	}
}

// meBufs recycles /me response buffers: the route is on the hot path.
var meBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendMe encodes {"sub","name","role","exp","iat","iss","aud"}; iat, iss
// and aud only when the token has them; aud is always an array; and
// "mfa_enroll":true for a token that may only enrol a second factor.
func appendMe(b []byte, c *auth.AccessClaims) []byte {
	b = append(b, `{"sub":`...)
	b = jwt.AppendJSONString(b, c.Subject)
	b = append(b, `,"name":`...)
	b = jwt.AppendJSONString(b, c.Name)
	b = append(b, `,"role":`...)
	b = jwt.AppendJSONString(b, string(c.Role))
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt.Unix(), 10)
	if !c.IssuedAt.IsZero() {
		b = append(b, `,"iat":`...)
		b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	}
	if c.Issuer != "" {
		b = append(b, `,"iss":`...)
		b = jwt.AppendJSONString(b, c.Issuer)
	}
	if len(c.Audience) > 0 {
		b = append(b, `,"aud":[`...)
		for i, a := range c.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = jwt.AppendJSONString(b, a)
		}
		b = append(b, ']')
	}
	if c.MFAEnroll {
		b = append(b, `,"mfa_enroll":true`...)
	}
	return append(b, '}')
}

type postJSON struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

func toPostJSON(p *auth.Post) postJSON {
	return postJSON{ID: p.ID, Author: p.Author, Title: p.Title, Body: p.Body, CreatedAt: p.CreatedAt.UTC()}
}

// postList is a page of posts as GET /posts answers it (appendPostList
// writes it).
type postList struct {
	Posts      []postJSON `json:"posts"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

const defaultPageSize = 20

func (s *server) listPosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultPageSize
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if len(v) > 1 || err != nil || n < 1 || n > auth.MaxPageSize {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "limit must be one integer from 1 to "+strconv.Itoa(auth.MaxPageSize))
			return
		}
		limit = n
	}
	var before int64
	if v, ok := q["cursor"]; ok {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if len(v) > 1 || err != nil || n < 1 {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "cursor must be a next_cursor value from a previous page")
			return
		}
		before = n
	}
	posts, err := s.svc.ListPosts(r.Context(), limit, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next string
	if len(posts) == limit {
		next = strconv.FormatInt(posts[len(posts)-1].ID, 10)
	}
	writePostList(w, posts, next)
}

// postID parses the {id} path segment; on failure it has answered 400.
func postID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "a post id is a positive integer")
		return 0, false
	}
	return id, true
}

func (s *server) getPost(w http.ResponseWriter, r *http.Request) {
	id, ok := postID(w, r)
	if !ok {
		return
	}
	p, err := s.svc.Post(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPostJSON(p))
}

func (s *server) createPost(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	actor, _ := PrincipalFrom(r.Context())
	p, err := s.svc.CreatePost(r.Context(), actor, req.Title, req.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/posts/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, toPostJSON(p))
}

func (s *server) deletePost(w http.ResponseWriter, r *http.Request) {
	id, ok := postID(w, r)
	if !ok {
		return
	}
	actor, _ := PrincipalFrom(r.Context())
	if err := s.svc.DeletePost(r.Context(), actor, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type userJSON struct {
	Name               string    `json:"name"`
	Role               auth.Role `json:"role"`
	Disabled           bool      `json:"disabled"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
}

// toUserJSON is the only view of a user the API gives: never the hash.
func toUserJSON(u *auth.User) userJSON {
	return userJSON{Name: u.Name, Role: u.Role, Disabled: u.Disabled, MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt.UTC()}
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string    `json:"username"`
		Password string    `json:"password"`
		Role     auth.Role `json:"role"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	u, err := s.svc.CreateUser(s.auditCtx(r), req.Username, req.Password, req.Role)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/users/"+url.PathEscape(u.Name))
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

// listUsers answers every user at once without parameters; with q, limit
// or after it answers a page, {users, next}, where next (when there may be
// more) is the after of the next page: an opaque cursor.
func (s *server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("q") || q.Has("limit") || q.Has("after") {
		s.usersPage(w, r, q)
		return
	}
	users, err := s.svc.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Users []userJSON `json:"users"`
	}{make([]userJSON, len(users))}
	for i, u := range users {
		out.Users[i] = toUserJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) usersPage(w http.ResponseWriter, r *http.Request, q url.Values) {
	for _, k := range []string{"q", "limit", "after"} {
		if len(q[k]) > 1 {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, k+" must be given once")
			return
		}
	}
	limit := defaultPageSize
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auth.MaxPageSize {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "limit must be one integer from 1 to "+strconv.Itoa(auth.MaxPageSize))
			return
		}
		limit = n
	}
	var after string
	if v := q.Get("after"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "after must be a next value from a previous page of the same search")
			return
		}
		after = string(b)
	}
	users, err := s.svc.UsersPage(r.Context(), q.Get("q"), after, limit)
	if errors.Is(err, auth.ErrInvalid) && after != "" {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "after must be a next value from a previous page of the same search")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Users []userJSON `json:"users"`
		Next  string     `json:"next,omitempty"`
	}{Users: make([]userJSON, len(users))}
	for i, u := range users {
		out.Users[i] = toUserJSON(u)
	}
	if len(users) == limit {
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(auth.NameKey(users[len(users)-1].Name)))
	}
	writeJSON(w, http.StatusOK, out)
}

// resetPassword sets a user's password as an admin: the user must change
// it at the next login, and their sessions end.
func (s *server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password string `json:"password"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	u, err := s.svc.ResetPassword(s.auditCtx(r), r.PathValue("name"), req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *server) endUserSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.EndUserSessions(s.auditCtx(r), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) updateUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Role     *auth.Role `json:"role"`
		Disabled *bool      `json:"disabled"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	actor, _ := PrincipalFrom(r.Context())
	u, err := s.svc.UpdateUser(s.auditCtx(r), actor, r.PathValue("name"), auth.UserUpdate{Role: req.Role, Disabled: req.Disabled})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *server) deleteUser(w http.ResponseWriter, r *http.Request) {
	actor, _ := PrincipalFrom(r.Context())
	if err := s.svc.DeleteUser(s.auditCtx(r), actor, r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
