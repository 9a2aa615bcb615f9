package jwt_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/jwtgate/jwtgate/jwt"
)

// AccessClaims are an application's claims: the registered ones plus a role.
type AccessClaims struct {
	jwt.Claims
	Role string `json:"role"`
}

func Example() {
	// In a real program the secret comes from a secret manager or an
	// environment variable, never from source code.
	secret := []byte("an example secret of at least 32 bytes!")
	key, err := jwt.NewHMACKey(jwt.HS256, secret)
	if err != nil {
		log.Fatal(err)
	}

	now := time.Unix(1_700_000_000, 0)
	token, err := jwt.Sign(key, AccessClaims{
		Claims: jwt.Claims{
			Issuer:    "https://auth.example.com",
			Subject:   "123",
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
		},
		Role: "admin",
	})
	if err != nil {
		log.Fatal(err)
	}

	verifier, err := jwt.NewVerifier([]*jwt.Key{key},
		jwt.WithIssuer("https://auth.example.com"),
		jwt.WithClock(func() time.Time { return now }), // omit in real code
	)
	if err != nil {
		log.Fatal(err)
	}
	var claims AccessClaims
	if err := verifier.Verify(token, &claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Role)
	// Output: 123 admin
}

// Custom claims: embed jwt.Claims in your own struct. Sign encodes every
// field of it and Verify fills every field back.
func Example_customClaims() {
	type MyClaims struct {
		jwt.Claims
		Role   string   `json:"role"`
		Scopes []string `json:"scopes"`
		Tenant int      `json:"tenant"`
	}
	key, err := jwt.NewHMACKey(jwt.HS256, []byte("an example secret of at least 32 bytes!"))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	token, err := jwt.Sign(key, &MyClaims{
		Claims: jwt.Claims{
			Issuer:    "https://auth.example.com",
			Subject:   "123",
			Audience:  jwt.Audience{"api"},
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		Role:   "admin",
		Scopes: []string{"posts:read", "posts:write"},
		Tenant: 7,
	})
	if err != nil {
		log.Fatal(err)
	}
	u, _ := jwt.DecodeUnverified(token) // only to show what was signed
	fmt.Println(string(u.Payload))

	verifier, err := jwt.NewVerifier([]*jwt.Key{key},
		jwt.WithIssuer("https://auth.example.com"),
		jwt.WithAudience("api"),
		jwt.WithClock(func() time.Time { return now }), // omit in real code
	)
	if err != nil {
		log.Fatal(err)
	}
	var claims MyClaims
	if err := verifier.Verify(token, &claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Audience, claims.ExpiresAt.Unix(), claims.Role, claims.Scopes, claims.Tenant)
	// Output:
	// {"iss":"https://auth.example.com","sub":"123","aud":"api","exp":1700000900,"iat":1700000000,"role":"admin","scopes":["posts:read","posts:write"],"tenant":7}
	// 123 [api] 1700000900 admin [posts:read posts:write] 7
}

func ExampleVerifier_Verify_errors() {
	key, _ := jwt.NewHMACKey(jwt.HS256, []byte("an example secret of at least 32 bytes!"))
	issued := time.Unix(1_700_000_000, 0)
	token, _ := jwt.Sign(key, jwt.Claims{Subject: "123", ExpiresAt: jwt.NewNumericDate(issued.Add(time.Minute))})

	later := func() time.Time { return issued.Add(time.Hour) }
	verifier, _ := jwt.NewVerifier([]*jwt.Key{key}, jwt.WithClock(later))
	err := verifier.Verify(token, nil)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		fmt.Println("expired: ask the client to refresh")
	case err != nil:
		fmt.Println("invalid:", err)
	}
	// Output: expired: ask the client to refresh
}

func ExampleNewSigningKey() {
	key, err := jwt.GenerateKey(jwt.EdDSA) // or load one with jwt.ParsePEMKey
	if err != nil {
		log.Fatal(err)
	}
	token, _ := jwt.Sign(key, jwt.Claims{Subject: "svc-a", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))})

	// Verifiers only need the public half, e.g. published as a JWKS.
	verifier, _ := jwt.NewVerifier([]*jwt.Key{key.Public()})
	var c jwt.Claims
	fmt.Println(verifier.Verify(token, &c), c.Subject)
	// Output: <nil> svc-a
}

func ExampleDecodeUnverified() {
	token := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc"
	u, err := jwt.DecodeUnverified(token) // NOT a proof of anything
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Algorithm, string(u.Payload))
	// Output: HS256 {"user_id":123,"role":"admin"}
}

func ExampleNewInsecureWeakHMACKey() {
	// The teaching example's secret is far too short for real use; the
	// strict constructor refuses it.
	_, err := jwt.NewHMACKey(jwt.HS256, []byte("my_super_secret_key"))
	fmt.Println(errors.Is(err, jwt.ErrWeakKey))

	key, _ := jwt.NewInsecureWeakHMACKey(jwt.HS256, []byte("my_super_secret_key"))
	v, _ := jwt.NewVerifier([]*jwt.Key{key}, jwt.AllowMissingExp())
	var claims struct {
		UserID int    `json:"user_id"`
		Role   string `json:"role"`
	}
	err = v.Verify("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc", &claims)
	fmt.Println(err, claims.UserID, claims.Role)
	// Output:
	// true
	// <nil> 123 admin
}
