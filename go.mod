module github.com/jwtgate/jwtgate

go 1.24
