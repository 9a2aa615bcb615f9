package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
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
// dst, refusing members dst does not define. On failure it has written
// the problem and returns false.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if !isJSON(r) {
		writeProblem(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "send the body as Content-Type: application/json")
		return false
	}
	if !s.limitBody(w, r) {
		return false
	}
	dec := json.NewDecoder(r.Body)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge(w, s.maxBody)
		case errors.Is(err, io.EOF):
			writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body is empty; send a JSON object")
		default:
			writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body is not valid JSON")
		}
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge(w, s.maxBody)
		} else {
			writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body has data after the JSON object")
		}
		return false
	}
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body must be a JSON object")
		return false
	}
	obj := json.NewDecoder(bytes.NewReader(raw))
	obj.DisallowUnknownFields()
	if err := obj.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			if len(name) > 80 {
				name = name[:80] + `…"`
			}
			writeProblem(w, http.StatusBadRequest, codeUnknownField, "unknown field "+name)
		case errors.As(err, &te) && te.Field != "":
			writeProblem(w, http.StatusBadRequest, codeInvalidRequest, "field "+jsonQuote(te.Field)+" must be of type "+jsonType(te.Type.Kind().String()))
		default:
			writeProblem(w, http.StatusBadRequest, codeInvalidJSON, "the request body does not match the expected object")
		}
		return false
	}
	return true
}

func jsonQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

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
