package guard_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/jwt"
)

// A service that trusts jwtgate's tokens, knowing only its JWKS URL.
func Example() {
	g, err := guard.New(guard.Config{JWKSURL: "https://auth.example.com/.well-known/jwks.json"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /reports", g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := guard.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "reports for %s (%s)\n", c.Name, c.Role)
	})))
	mux.Handle("DELETE /reports/{id}", g.RequireRole("admin", http.NotFoundHandler()))
	_ = http.ListenAndServe("127.0.0.1:9000", mux) // in a real service: log.Fatal(...)
}

// With a fixed key instead of a JWKS URL (here the public half of an
// EdDSA key, as `jwtgate key jwks` prints it), and the claims in the
// request context.
func ExampleGuard_RequireRole() {
	signer, _ := jwt.GenerateKey(jwt.EdDSA) // jwtgate's key; the service has only its public half
	g, err := guard.New(guard.Config{Keys: []*jwt.Key{signer.Public()}})
	if err != nil {
		log.Fatal(err)
	}
	h := g.RequireRole("editor", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := guard.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %s, user %s, role %s", c.Name, c.Subject, c.Role)
	}))

	for _, role := range []string{"admin", "reader"} {
		now := time.Now()
		tok, _ := jwt.Sign(signer, &guard.Claims{
			Claims: jwt.Claims{Issuer: "jwtgate", Audience: jwt.Audience{"jwtgate"}, Subject: "7",
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute))},
			Name: "ada", Role: role,
		})
		req := httptest.NewRequest("GET", "/drafts", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 hello ada, user 7, role admin
	// 403 {"type":"urn:jwtgate:problem:forbidden","title":"Forbidden","status":403,"detail":"this operation needs the editor role or higher","code":"forbidden"}
}
