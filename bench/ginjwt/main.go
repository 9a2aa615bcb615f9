// Command ginjwt is the comparison server for bench/server.sh: the same
// protected GET /me built the usual way with gin and appleboy/gin-jwt
// (HS256), plus an unauthenticated GET /healthz. It prints one token for
// the load generator on stdout, then serves on the loopback address given.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	jwt "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18182", "listen address (loopback)")
	flag.Parse()
	gin.SetMode(gin.ReleaseMode)
	mw, err := jwt.New(&jwt.GinJWTMiddleware{
		Realm:       "bench",
		Key:         []byte(os.Getenv("GINJWT_SECRET")),
		Timeout:     15 * time.Minute,
		IdentityKey: "sub",
		PayloadFunc: func(data any) jwt.MapClaims {
			return jwt.MapClaims{"sub": "1", "name": "bench", "role": "editor", "iss": "jwtgate", "aud": "jwtgate"}
		},
		Authenticator: func(c *gin.Context) (any, error) { return nil, jwt.ErrFailedAuthentication },
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, _, err := mw.TokenGenerator(struct{}{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok)
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	auth := r.Group("/", mw.MiddlewareFunc())
	auth.GET("/me", func(c *gin.Context) {
		claims := jwt.ExtractClaims(c)
		c.JSON(http.StatusOK, gin.H{"sub": claims["sub"], "name": claims["name"], "role": claims["role"], "exp": claims["exp"], "iat": claims["orig_iat"], "iss": claims["iss"], "aud": claims["aud"]})
	})
	log.Fatal(http.ListenAndServe(*addr, r))
}
