package httpapi

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// endSession is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0). With a valid id_token_hint (expired or not) it ends the session
// the ID token was issued in and, if the browser's session is the same
// user's, the browser session too, then returns to
// post_logout_redirect_uri when that is registered exactly for the
// client (with state), else shows a page. Without a hint, a GET only
// asks the user to confirm: a link on another site must not log anyone
// out; the confirmation form posts here from this origin (the
// cross-origin check applies) and ends the browser session.
func (s *server) endSession(w http.ResponseWriter, r *http.Request, issuer string) {
	var q url.Values
	if r.Method == http.MethodPost {
		f, ok := s.parseForm(w, r)
		if !ok {
			return
		}
		q = f
	} else {
		q = r.URL.Query()
	}
	for _, v := range q {
		if len(v) > 1 {
			s.logoutPage(w, http.StatusBadRequest, "The logout request is not valid", "A parameter is repeated.")
			return
		}
	}
	var hint *auth.IDClaims
	if h := q.Get("id_token_hint"); h != "" {
		c, err := s.tokens.VerifyIDTokenHint(h)
		if err != nil {
			s.logoutPage(w, http.StatusBadRequest, "The logout request is not valid", "The application sent an ID token this server did not issue.")
			return
		}
		hint = c
	}
	clientID := q.Get("client_id")
	if hint != nil {
		if clientID != "" && clientID != hint.Audience[0] {
			s.logoutPage(w, http.StatusBadRequest, "The logout request is not valid", "client_id does not match the ID token.")
			return
		}
		clientID = hint.Audience[0]
	}
	var redirect string
	if pl := q.Get("post_logout_redirect_uri"); pl != "" && clientID != "" {
		c, err := s.svc.Client(r.Context(), clientID)
		if err != nil && !errors.Is(err, auth.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if c != nil && c.HasPostLogoutRedirectURI(pl) {
			redirect = pl
		}
	}
	if hint == nil && r.Method != http.MethodPost {
		s.confirmLogout(w, q, redirect)
		return
	}
	if hint != nil && hint.SessionID != "" {
		if err := s.svc.Logout(r.Context(), &auth.Principal{Claims: auth.AccessClaims{SessionID: hint.SessionID}}, false); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if p := s.browserPrincipal(r); p != nil && (hint == nil || hint.Subject == p.Claims.Subject) {
		if err := s.svc.Logout(r.Context(), p, false); err != nil {
			s.fail(w, r, err)
			return
		}
		s.clearCookies(w)
	}
	if redirect != "" {
		if v, ok := q["state"]; ok {
			sep := "?"
			if strings.Contains(redirect, "?") {
				sep = "&"
			}
			redirect += sep + url.Values{"state": v}.Encode()
		}
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	s.logoutPage(w, http.StatusOK, "You are logged out", "You can close this page.")
}

func (s *server) logoutPage(w http.ResponseWriter, status int, title, desc string) {
	code := ""
	if status >= 400 {
		code = oauthInvalidRequest
	}
	writeErrorPage(w, status, code, errorPageData{Title: title, Description: desc})
}

// confirmCSP is the confirmation page's policy. Browsers apply
// form-action to the redirects that follow a submission too, so the
// origin of a registered post-logout redirect URI is allowed beside
// 'self'; without it the way back to the application would be blocked.
func confirmCSP(redirect string) string {
	action := "'self'"
	if o := originOf(redirect); o != "" {
		action += " " + o
	}
	return "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action " + action
}

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log out · jwtgate</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<header class="top"><a class="brand" href="/">jwtgate</a></header>
<main id="main">
  <section class="card narrow" aria-labelledby="logout-title">
    <h1 id="logout-title">Log out of jwtgate?</h1>
    <form method="post" action="logout">
      {{range $k, $v := .}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">
      {{end}}<button type="submit" id="logout-confirm">Log out</button>
    </form>
  </section>
</main>
</body>
</html>
`))

// confirmLogout asks the user to confirm a logout that no ID token vouches
// for; redirect is the registered post-logout URI it leads to, or "".
func (s *server) confirmLogout(w http.ResponseWriter, q url.Values, redirect string) {
	keep := url.Values{}
	for _, k := range []string{"client_id", "post_logout_redirect_uri", "state"} {
		if v, ok := q[k]; ok {
			keep[k] = v
		}
	}
	h := w.Header()
	h.Set("Content-Security-Policy", confirmCSP(redirect))
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	confirmPage.Execute(w, keep)
}
