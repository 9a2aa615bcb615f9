module github.com/jwtgate/jwtgate/jwt

go 1.26.0
