package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// The hand-written encoding of a post list is json.Marshal's, byte for
// byte, with strings that need escapes, HTML characters, invalid UTF-8
// and line separators.
func TestPostListJSONIsMarshals(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 2, 3, 450_000_000, time.UTC)
	pages := []struct {
		posts []*auth.Post
		next  string
	}{
		{posts: []*auth.Post{}},
		{posts: []*auth.Post{{ID: 1, AuthorID: 7, Author: "ann", Title: "t", Body: "b", CreatedAt: at}}, next: "1"},
		{posts: []*auth.Post{
			{ID: 9007199254740993, Author: `"quoted" \back\slash`, Title: "<script>&amp;</script>", Body: "tab\tnl\ncr\rbs\bff\fnul\x00\x1f\x7f", CreatedAt: at.Add(time.Nanosecond)},
			{ID: -5, Author: "ünïcødé 日本語 🙂", Title: "bad \xff\xfe utf8 \xe2\x82", Body: "line\u2028sep\u2029par", CreatedAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
			{ID: 3, Author: "in another zone", CreatedAt: at.In(time.FixedZone("CET", 3600))},
		}, next: "3"},
	}
	for _, pg := range pages {
		l := postList{Posts: []postJSON{}, NextCursor: pg.next}
		for _, p := range pg.posts {
			l.Posts = append(l.Posts, toPostJSON(p))
		}
		want, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPostList(nil, pg.posts, pg.next); !bytes.Equal(got, want) {
			t.Errorf("appendPostList:\n got %s\nwant %s", got, want)
		}
	}
}
