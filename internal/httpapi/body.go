package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// mediaType returns the media type of a Content-Type value, without
// parameters, lower-cased only if needed.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for i := 0; i < len(ct); i++ {
		if 'A' <= ct[i] && ct[i] <= 'Z' {
			return strings.ToLower(ct)
		}
	}
	return ct
}

func isJSON(r *http.Request) bool {
	switch mediaType(r.Header.Get("Content-Type")) {
	case "application/json", "application/merge-patch+json":
		return true
	}
	return false
}

// limitBody applies the body size limit. It answers 413 at once when the
// declared length is already too large.
func (s *server) limitBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > s.maxBody {
		tooLarge(w, s.maxBody)
		return false
	}
	// The server's own writer, so that net/http closes the connection
	// rather than reading the rest of an oversized body.
	r.Body = http.MaxBytesReader(stateOf(r).w, r.Body, s.maxBody)
	return true
}

func tooLarge(w http.ResponseWriter, limit int64) {
	writeProblem(w, http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
}

// decodeJSON reads a request body holding exactly one JSON object into
// dst, refusing members dst does not define exactly, repeated member names
// and the rest checkJSON refuses. On failure it has written the problem
// and returns false.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if !isJSON(r) {
		writeProblem(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "send the body as Content-Type: application/json")
		return false
	}
	if !s.limitBody(w, r) {
		return false
	}
	body, err := readBody(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge(w, s.maxBody)
		} else {
			writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body could not be read")
		}
		return false
	}
	if p := checkJSON(body, shapeOf(reflect.TypeOf(dst))); p != nil {
		writeProblem(w, http.StatusBadRequest, p.code, p.detail)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // checkJSON has refused them; this is the backstop
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			if len(name) > 80 {
				name = name[:80] + `…"`
			}
			writeProblem(w, http.StatusBadRequest, codeUnknownField, "member "+name+" is not defined for this operation")
		case errors.As(err, &te) && te.Field != "":
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "field "+jsonQuote(te.Field)+" must be of type "+jsonType(te.Type.Kind().String()))
		default:
			writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body does not match the expected object")
		}
		return false
	}
	return true
}

// readBody reads the whole (already limited) body, in one allocation when
// the client declared its length.
func readBody(r *http.Request) ([]byte, error) {
	n := 512
	if r.ContentLength > 0 {
		n = int(r.ContentLength) + 1 // +1: room to see EOF without growing
	}
	b := make([]byte, 0, n)
	for {
		m, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// jsonQuote quotes s as a JSON string, leaving <, > and & as they are.
func jsonQuote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "ptr":
		return "the documented type"
	}
	return "number"
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, codeInternal, "internal error; quote the X-Request-Id response header when reporting it")
		return
	}
	writeRawJSON(w, status, b)
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header()["Content-Type"] = hJSON
	w.WriteHeader(status)
	w.Write(b)
}
