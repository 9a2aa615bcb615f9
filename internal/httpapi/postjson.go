package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/jwt"
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
		b = jwt.AppendJSONString(b, p.Author)
		b = append(b, `,"title":`...)
		b = jwt.AppendJSONString(b, p.Title)
		b = append(b, `,"body":`...)
		b = jwt.AppendJSONString(b, p.Body)
		b = append(b, `,"created_at":"`...)
		b = p.CreatedAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"next_cursor":`...)
		b = jwt.AppendJSONString(b, next)
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
