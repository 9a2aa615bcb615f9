package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/web"
)

func TestPagesAndAssets(t *testing.T) {
	// Through the whole API stack: its middleware sets default-src 'none',
	// which the UI must replace, not add to.
	s := newStack(t, stackOptions{})
	tests := []struct {
		method, path string
		status       int
		ctype        string
		contains     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<form id="login-form"`},
		{"GET", "/admin", 200, "text/html; charset=utf-8", `id="users-table"`},
		{"GET", "/inspect", 200, "text/html; charset=utf-8", `id="verdict"`},
		{"HEAD", "/inspect", 200, "text/html; charset=utf-8", ""},
		{"GET", "/ui/app.js", 200, "text/javascript; charset=utf-8", "startSession"},
		{"GET", "/ui/jwt.js", 200, "text/javascript; charset=utf-8", "crypto.subtle"},
		{"GET", "/ui/app.css", 200, "text/css; charset=utf-8", ":focus-visible"},
		{"GET", "/ui/nope.js", 404, "", ""},
		{"GET", "/ui/", 404, "", ""},
		{"GET", "/ui/../web.go", 404, "", ""},
		{"GET", "/ui/app.js/", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.path, nil)
			res, err := s.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != web.CSP {
				t.Errorf("CSP = %q, want exactly %q", got, web.CSP)
			}
			if got := res.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD answered a body")
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

func TestHandlerAlone(t *testing.T) {
	h := web.Handler()
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 200},
		{"GET", "/inspect", 200},
		{"GET", "/elsewhere", 404},
		{"POST", "/", 405},
	} {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		if got := rec.Header().Values("Content-Security-Policy"); len(got) != 1 || got[0] != web.CSP {
			t.Errorf("%s %s: CSP = %q", tt.method, tt.path, got)
		}
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	styleTag    = regexp.MustCompile(`(?i)<style\b`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	handlerAttr = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	jsURL       = regexp.MustCompile(`(?i)javascript:`)
	localRef    = regexp.MustCompile(`(?i)\s(?:src|href)="([^"]*)"`)
	jsImport    = regexp.MustCompile(`(?m)^import\s[^'"]*['"]([^'"]+)['"]`)
)

// TestNoInlineCode checks what the CSP would block anyway, so that a page
// never depends on it: no inline scripts, styles or event handlers, and
// every local script, style sheet and import exists.
func TestNoInlineCode(t *testing.T) {
	fsys := web.FS()
	var pages, scripts int
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		src := string(b)
		switch path.Ext(name) {
		case ".html":
			pages++
			for _, m := range scriptTag.FindAllStringSubmatch(src, -1) {
				if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s: inline script %q", name, m[0])
				}
			}
			for _, re := range []*regexp.Regexp{styleTag, styleAttr, handlerAttr, jsURL} {
				if loc := re.FindStringIndex(src); loc != nil {
					t.Errorf("%s: inline code %q", name, src[loc[0]:min(loc[1]+30, len(src))])
				}
			}
			for _, m := range localRef.FindAllStringSubmatch(src, -1) {
				ref := m[1]
				if strings.HasPrefix(ref, "/ui/") {
					if _, err := fs.Stat(fsys, strings.TrimPrefix(ref, "/")); err != nil {
						t.Errorf("%s: %s does not exist", name, ref)
					}
				} else if strings.Contains(ref, "//") {
					t.Errorf("%s: reference to another site: %s", name, ref)
				}
			}
			if !strings.Contains(src, `name="viewport"`) {
				t.Errorf("%s: no viewport meta tag", name)
			}
			checkLabels(t, name, src)
		case ".js":
			scripts++
			for _, m := range jsImport.FindAllStringSubmatch(src, -1) {
				if _, err := fs.Stat(fsys, path.Join(path.Dir(name), m[1])); err != nil {
					t.Errorf("%s: import %s does not exist", name, m[1])
				}
			}
			for _, bad := range []string{"innerHTML =", "innerHTML=", "outerHTML", "insertAdjacentHTML", "document.write",
				"eval(", "new Function", "localStorage", "sessionStorage", "setAttribute('style'", "access_token"} {
				if strings.Contains(src, bad) {
					t.Errorf("%s uses %s", name, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 4 || scripts < 5 {
		t.Errorf("found %d pages and %d scripts", pages, scripts)
	}
}

var (
	inputTag = regexp.MustCompile(`(?is)<(input|select|textarea)\b([^>]*)>`)
	idAttr   = regexp.MustCompile(`\sid="([^"]+)"`)
	forAttr  = regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`)
)

// checkLabels wants a <label> for every input: by for= or by wrapping.
func checkLabels(t *testing.T, name, src string) {
	t.Helper()
	labelled := map[string]bool{}
	for _, m := range forAttr.FindAllStringSubmatch(src, -1) {
		labelled[m[1]] = true
	}
	for _, m := range inputTag.FindAllStringSubmatchIndex(src, -1) {
		attrs := src[m[4]:m[5]]
		if strings.Contains(attrs, `type="hidden"`) {
			continue
		}
		if id := idAttr.FindStringSubmatch(attrs); id != nil && labelled[id[1]] {
			continue
		}
		// Wrapped in a label, or labelled at run time (class user-role, see
		// admin.js; TestBrowserAdminUsers checks the labels in the page).
		before := src[max(0, m[0]-200):m[0]]
		if i, j := strings.LastIndex(before, "<label"), strings.LastIndex(before, "</label>"); i > j {
			continue
		}
		if strings.Contains(attrs, `class="user-role"`) {
			continue
		}
		t.Errorf("%s: %s has no label", name, src[m[0]:m[1]])
	}
}

// The posts, users and security pages carry the same login form and session panel,
// which session.js drives by their ids; a change to one copy alone would
// break the other page.
func TestSharedBlocksSameOnEveryPage(t *testing.T) {
	for what, block := range map[string]*regexp.Regexp{
		"login section": regexp.MustCompile(`(?s)<section id="login-section".*?</section>`),
		"session panel": regexp.MustCompile(`(?s)<aside id="session-panel".*?</aside>`),
	} {
		var first string
		for _, page := range []string{"index.html", "admin.html", "security.html"} {
			b, err := fs.ReadFile(web.FS(), page)
			if err != nil {
				t.Fatal(err)
			}
			got := block.Find(b)
			if got == nil {
				t.Fatalf("%s has no %s", page, what)
			}
			if first == "" {
				first = string(got)
			} else if string(got) != first {
				t.Errorf("the %s of %s differs from index.html's", what, page)
			}
		}
	}
}
