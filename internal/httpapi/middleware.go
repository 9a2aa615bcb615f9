package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// reqState is everything the middleware keeps about one request, in one
// allocation: it is the ResponseWriter handed to the mux (recording the
// status for the access log and turning the mux's own plain-text 404 and
// 405 replies into problems) and, through ctx, the request's context
// (carrying the principal for PrincipalFrom).
type reqState struct {
	w         http.ResponseWriter // the server's writer
	req       *http.Request       // as given to the mux, which sets its Pattern
	ctx       reqCtx
	id        string
	idHdr     [1]string // X-Request-Id header value, without another allocation
	ip        string
	status    int
	written   int64
	problem   string // code of the problem sent, for the access log
	principal *auth.Principal

	wroteHeader bool
	rewriting   bool // replacing a mux 404/405 with a problem
	discard     bool // swallow the rest of the mux's plain-text body
}

// reqCtx is the request context: its parent plus the state, found by
// Value(stateKey{}), so that storing the state costs no extra allocation.
type reqCtx struct {
	context.Context
	st *reqState
}

type stateKey struct{}

func (c *reqCtx) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return c.st
	}
	return c.Context.Value(key)
}

// stateOf returns the state of a request that went through server.ServeHTTP.
func stateOf(r *http.Request) *reqState {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	if st == nil {
		return &reqState{}
	}
	return st
}

// PrincipalFrom returns the caller a verified access token identified, in
// the context of a request to a route that requires one.
func PrincipalFrom(ctx context.Context) (*auth.Principal, bool) {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	if st == nil || st.principal == nil {
		return nil, false
	}
	return st.principal, true
}

func (st *reqState) Header() http.Header { return st.w.Header() }

func (st *reqState) WriteHeader(code int) {
	if st.wroteHeader || code < 200 {
		st.w.WriteHeader(code) // informational, or superfluous: net/http handles both
		return
	}
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && st.req != nil && st.req.Pattern == "" && !st.rewriting {
		// No route matched: the mux is answering with http.Error.
		st.rewriting = true
		if code == http.StatusNotFound {
			writeProblem(st, code, codeNotFound, "no such route; see GET /openapi.yaml")
		} else {
			writeProblem(st, code, codeMethodNotAllowed, "the route does not support this method; see the Allow header")
		}
		st.discard = true
		return
	}
	st.wroteHeader = true
	st.status = code
	st.w.WriteHeader(code)
}

func (st *reqState) Write(b []byte) (int, error) {
	if st.discard {
		return len(b), nil
	}
	if !st.wroteHeader {
		st.WriteHeader(http.StatusOK)
	}
	n, err := st.w.Write(b)
	st.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (st *reqState) Unwrap() http.ResponseWriter { return st.w }

// Header values shared by every response. net/http only reads them, and
// Header.Set and Add replace or copy the slice, so sharing is safe.
var (
	hNosniff    = []string{"nosniff"}
	hNoStore    = []string{"no-store"}
	hNoReferrer = []string{"no-referrer"}
	hCSP        = []string{"default-src 'none'; frame-ancestors 'none'"}
	hJSON       = []string{"application/json"}
	hClose      = []string{"close"}
)

// ServeHTTP is the middleware around every route: request id, security
// headers, panic recovery, the access log and the cross-origin check,
// then the mux.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := &reqState{w: w}
	if v := r.Header["X-Request-Id"]; len(v) == 1 && validRequestID(v[0]) {
		st.id = v[0]
	} else {
		st.id = newRequestID()
	}
	st.ip = s.clientIP(r)

	h := w.Header()
	st.idHdr[0] = st.id
	h["X-Request-Id"] = st.idHdr[:]
	h["X-Content-Type-Options"] = hNosniff
	h["Cache-Control"] = hNoStore
	h["Referrer-Policy"] = hNoReferrer
	h["Content-Security-Policy"] = hCSP
	if len(r.TransferEncoding) > 0 && r.ProtoMajor == 1 {
		// net/http takes a request with both Transfer-Encoding: chunked
		// and Content-Length as chunked and deletes Content-Length, so
		// the two cannot be told apart here. RFC 9112 section 6.1 wants
		// the connection closed after the ambiguous one (a smuggling
		// attempt); closing after every chunked request does that at
		// the cost of a reconnect for the few clients that stream.
		h["Connection"] = hClose
	}

	st.ctx = reqCtx{Context: r.Context(), st: st}
	r = r.WithContext(&st.ctx)
	st.req = r
	defer s.finish(st, r, start)
	if err := s.crossOrigin.Check(r); err != nil {
		writeProblem(st, http.StatusForbidden, codeCrossOrigin, crossOriginDetail)
		return
	}
	s.mux.ServeHTTP(st, r)
}

// finish recovers from a panic in a handler and writes the access log line.
func (s *server) finish(st *reqState, r *http.Request, start time.Time) {
	p := recover()
	if p != nil && p != http.ErrAbortHandler {
		s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
			slog.String("request_id", st.id), slog.String("method", r.Method), slog.String("path", logPath(r)),
			slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		if !st.wroteHeader {
			writeProblem(st, http.StatusInternalServerError, codeInternal, "internal error; quote the X-Request-Id response header when reporting it")
			p = nil
		}
	}
	status := st.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	if p != nil {
		status = 0 // the connection is aborted: no status reached the client
	}
	now := time.Now()
	s.metrics.Request(r.Pattern, status, now.Sub(start))
	if h := s.log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
		// The record is made here rather than by Logger.LogAttrs, which
		// walks the stack (runtime.Callers) for a source location that
		// would always be this function: skipping that and a second
		// time.Now saves about a sixth of the line's cost.
		rec := slog.NewRecord(now, slog.LevelInfo, "request", 0)
		attrs := [8]slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", logPath(r)),
			slog.Int("status", status),
			slog.Duration("duration", now.Sub(start)),
			slog.Int64("bytes", st.written),
			slog.String("request_id", st.id),
			slog.String("client_ip", st.ip),
		}
		n := 7
		if st.problem != "" {
			attrs[n] = slog.String("problem", st.problem)
			n++
		}
		rec.AddAttrs(attrs[:n]...)
		_ = h.Handle(r.Context(), rec) // as Logger does: a failed log write is not the client's problem
	}
	if p != nil {
		// Headers (maybe part of a body) are out: abort the response so the
		// client cannot take it for complete. ErrAbortHandler is not logged
		// again by net/http.
		panic(http.ErrAbortHandler)
	}
}

// logPath is the request path without the query (which may hold
// anything), cut to a sane length.
func logPath(r *http.Request) string {
	p := r.URL.Path
	if len(p) > 256 {
		p = p[:256]
	}
	return p
}

// validRequestID accepts 1 to 64 of [A-Za-z0-9_-].
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	var out [32]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// clientIP returns the address login rate limits and logs attribute the
// request to. With TrustProxyHeaders, it is the last X-Forwarded-For
// entry when that is an IP address: the one the trusted proxy appended,
// which the client cannot forge (entries to its left can be).
func (s *server) clientIP(r *http.Request) string {
	if s.trustProxy {
		if v := r.Header["X-Forwarded-For"]; len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			last = strings.TrimSpace(last)
			if a, err := netip.ParseAddr(last); err == nil {
				if a.Zone() != "" || a.Is4In6() {
					return a.WithZone("").Unmap().String()
				}
				return last
			}
		}
	}
	return hostOnly(r.RemoteAddr)
}

// hostOnly strips the port (and IPv6 brackets) from a host:port address
// without allocating.
func hostOnly(addr string) string {
	if strings.HasPrefix(addr, "[") {
		if i := strings.IndexByte(addr, ']'); i > 0 {
			return addr[1:i]
		}
		return addr
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.IndexByte(addr[:i], ':') >= 0 {
		return addr // no port, or a bare IPv6 address
	}
	return addr[:i]
}
