package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// auditCtx is the request's context carrying, for the audit events of
// the Service calls made with it, the client address and the caller a
// token identified (the actor of calls that take no Principal).
func (s *server) auditCtx(r *http.Request) context.Context {
	st := stateOf(r)
	info := auth.AuditInfo{ClientIP: st.ip}
	if st.principal != nil {
		info.Actor = st.principal.Name
	}
	return auth.WithAuditInfo(r.Context(), info)
}

// AuditEventJSON is an audit event in JSON (ToAuditEventJSON).
type AuditEventJSON struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Actor     string    `json:"actor,omitempty"`
	User      string    `json:"user,omitempty"`
	UserKey   string    `json:"user_key,omitempty"`
	UserID    int64     `json:"user_id,omitempty"`
	ClientIP  string    `json:"client_ip,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	KeyID     string    `json:"kid,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// ToAuditEventJSON is the view of an audit event that GET /audit and
// jwtgate audit --json give.
func ToAuditEventJSON(e auth.AuditEvent) AuditEventJSON {
	return AuditEventJSON{ID: e.ID, Time: e.Time.UTC(), Event: string(e.Kind), Actor: e.Actor, User: e.User, UserKey: e.UserKey,
		UserID: e.UserID, ClientIP: e.ClientIP, SessionID: e.SessionID, ClientID: e.ClientID, KeyID: e.KeyID, Reason: e.Reason}
}

type auditList struct {
	Events     []AuditEventJSON `json:"events"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

const defaultAuditPage = 100

// listAudit answers GET /audit?user=&since=&limit=&before=: a page of the
// audit trail, newest first. since is a duration back from now (24h) or
// an RFC 3339 time; before is the next_cursor of the previous page.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name, v := range q {
		if len(v) > 1 {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, name+" may be given once")
			return
		}
	}
	f := auth.AuditFilter{User: q.Get("user"), Limit: defaultAuditPage}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auth.MaxAuditPage {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "limit must be an integer from 1 to "+strconv.Itoa(auth.MaxAuditPage))
			return
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "before must be a next_cursor value from a previous page")
			return
		}
		f.Before = n
	}
	if v := q.Get("since"); v != "" {
		t, err := ParseSince(v, s.svc.Now)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, err.Error())
			return
		}
		f.Since = t
	}
	events, err := s.svc.AuditEvents(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := auditList{Events: make([]AuditEventJSON, len(events))}
	for i, e := range events {
		out.Events[i] = ToAuditEventJSON(e)
	}
	if len(events) == f.Limit {
		out.NextCursor = strconv.FormatInt(events[len(events)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

// ParseSince reads a since parameter: a positive duration back from now
// (24h, 90m) or an RFC 3339 time. now nil is time.Now.
func ParseSince(v string, now func() time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		if now == nil {
			now = time.Now
		}
		return now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, errSince
}

var errSince = errors.New("since must be a positive duration back from now (24h) or an RFC 3339 time (2026-01-02T15:04:05Z)")
