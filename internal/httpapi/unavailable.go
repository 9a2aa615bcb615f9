package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// logoutNotRecorded is the detail of a logout's 503. A client that took
// the failure for a logout would leave working tokens behind.
const logoutNotRecorded = "the logout may not have been recorded: until a logout answers 204, the session and its tokens still work (until they expire); keep them and retry after the number of seconds in Retry-After"

// failLogout is fail for a logout, whose 503 says that the tokens may
// still work.
func (s *server) failLogout(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, auth.ErrUnavailable) {
		s.fail(w, r, err)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "storage unavailable",
		slog.String("request_id", stateOf(r).id), slog.String("err", err.Error()))
	writeProblem(w, http.StatusServiceUnavailable, codeUnavailable, logoutNotRecorded)
}
