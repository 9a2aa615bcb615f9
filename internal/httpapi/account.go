package httpapi

import (
	"net/http"
	"time"
)

// setupStatus tells the login page whether the server has no user yet
// and, if so, the command that creates the first admin. Once a user
// exists it says only that, without the hint, and asks the store no more.
func (s *server) setupStatus(w http.ResponseWriter, r *http.Request) {
	type status struct {
		FirstRun bool   `json:"first_run"`
		Hint     string `json:"hint,omitempty"`
	}
	if !s.usersExist.Load() {
		n, err := s.svc.Store.CountUsers(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if n == 0 {
			writeJSON(w, http.StatusOK, status{FirstRun: true, Hint: s.setupHint})
			return
		}
		s.usersExist.Store(true)
	}
	writeJSON(w, http.StatusOK, status{})
}

// changePassword is POST /me/password: the caller's current password and
// a new one. The caller's other sessions end; this one stays.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	var req struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	if !s.decodeJSON(w, r, &req) {
		return
	}
	if _, err := s.svc.ChangeOwnPassword(r.Context(), p, stateOf(r).ip, req.CurrentPassword, req.NewPassword); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		PasswordChanged    bool `json:"password_changed"`
		OtherSessionsEnded bool `json:"other_sessions_ended"`
	}{true, true})
}

type sessionJSON struct {
	ID              string     `json:"id"`
	CreatedAt       time.Time  `json:"created_at"`
	LastRefreshedAt *time.Time `json:"last_refreshed_at"` // null before the first refresh
	ExpiresAt       time.Time  `json:"expires_at"`
	ClientIP        string     `json:"client_ip"`
	UserAgent       string     `json:"user_agent"`
	ClientID        string     `json:"client_id,omitempty"`
	Current         bool       `json:"current"`
}

// listSessions is GET /me/sessions: the caller's live sessions, newest
// first, the caller's own marked current.
func (s *server) listSessions(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	list, err := s.svc.OwnSessions(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Sessions []sessionJSON `json:"sessions"`
	}{Sessions: make([]sessionJSON, len(list))}
	for i, sess := range list {
		j := sessionJSON{ID: sess.ID, CreatedAt: sess.CreatedAt.UTC(), ExpiresAt: sess.ExpiresAt.UTC(),
			ClientIP: sess.ClientIP, UserAgent: sess.UserAgent, ClientID: sess.ClientID, Current: sess.ID == p.Claims.SessionID}
		if !sess.LastRefreshedAt.IsZero() {
			t := sess.LastRefreshedAt.UTC()
			j.LastRefreshedAt = &t
		}
		out.Sessions[i] = j
	}
	writeJSON(w, http.StatusOK, out)
}

// endOwnSession is DELETE /me/sessions/{id}: one of the caller's sessions
// ends. Ending the caller's own is a logout, cookies cleared.
func (s *server) endOwnSession(w http.ResponseWriter, r *http.Request) {
	p := stateOf(r).principal
	id := r.PathValue("id")
	var err error
	if id == p.Claims.SessionID && p.Claims.ClientID == "" {
		if err = s.svc.Logout(r.Context(), p, false); err == nil {
			s.clearCookies(w)
		}
	} else {
		err = s.svc.EndOwnSession(r.Context(), p, id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endOtherSessions is DELETE /me/sessions?others=true: every session of
// the caller but this one ends ("log out everywhere else"). The
// parameter is required so that a bare DELETE never reads as "all".
func (s *server) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query()["others"]; len(v) != 1 || (v[0] != "true" && v[0] != "1") {
		writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "send others=true to end every session but this one; end one session with DELETE /me/sessions/{id}")
		return
	}
	if err := s.svc.EndOtherSessions(r.Context(), stateOf(r).principal); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
