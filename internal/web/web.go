package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strconv"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every response of Handler: the
// pages run only scripts and styles served from this origin (no inline
// code), and may connect only to this origin.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// pages maps the URL path of each page to its file under static/.
var pages = map[string]string{
	"/":         "index.html",
	"/admin":    "admin.html",
	"/inspect":  "inspect.html",
	"/security": "security.html",
}

// contentTypes are the asset types Handler serves; other files are not
// served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

type file struct {
	body  []byte
	ctype string
}

// FS returns the embedded files: the pages at the root, assets under ui/.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// Handler returns the handler of the browser UI, for httpapi.Config.UI:
// GET / (and exactly /), /admin, /inspect, /security and /ui/<asset>. Anything else
// is 404. It sets Content-Type and replaces any Content-Security-Policy
// already set with CSP.
func Handler() http.Handler {
	files := map[string]file{} // by URL path
	fsys := FS()
	for p, name := range pages {
		files[p] = load(fsys, name)
	}
	err := fs.WalkDir(fsys, "ui", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := contentTypes[path.Ext(name)]; ok {
			files["/"+name] = load(fsys, name)
		}
		return nil
	})
	if err != nil {
		panic("web: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", f.ctype)
		h.Set("Content-Length", strconv.Itoa(len(f.body)))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(f.body)
		}
	})
}

func load(fsys fs.FS, name string) file {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		panic("web: " + err.Error())
	}
	return file{body: b, ctype: contentTypes[path.Ext(name)]}
}
