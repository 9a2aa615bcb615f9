package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// appendPostList appends the page of posts with its next cursor as
// json.Marshal writes the postList of them, byte for byte (a test
// compares the two). A page of posts is the API's most requested
// response: encoding/json's reflection, and the copies the postList
// needs, cost a tenth of serving it.
func appendPostList(b []byte, posts []*auth.Post, next string) []byte {
	b = append(b, `{"posts":[`...)
	for i, p := range posts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, p.ID, 10)
		b = append(b, `,"author":`...)
		b = appendJSONString(b, p.Author)
		b = append(b, `,"title":`...)
		b = appendJSONString(b, p.Title)
		b = append(b, `,"body":`...)
		b = appendJSONString(b, p.Body)
		b = append(b, `,"created_at":"`...)
		b = p.CreatedAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, next)
	}
	return append(b, '}')
}

// pageBufs holds the buffers pages of posts are encoded into: the
// ResponseWriter copies what it is given, so a buffer is free again
// once written.
var pageBufs = sync.Pool{New: func() any { return new([]byte) }}

// writePostList answers 200 with the page of posts.
func writePostList(w http.ResponseWriter, posts []*auth.Post, next string) {
	bp := pageBufs.Get().(*[]byte)
	b := appendPostList((*bp)[:0], posts, next)
	writeRawJSON(w, http.StatusOK, b)
	if cap(b) <= 64<<10 { // a rare huge page is not kept
		*bp = b
		pageBufs.Put(bp)
	}
}

// appendJSONString appends s quoted as encoding/json does by default:
// <, > and & escaped for HTML, invalid UTF-8 as U+FFFD, and U+2028 and
// U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
