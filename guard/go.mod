module github.com/jwtgate/jwtgate/guard

go 1.26.0

require github.com/jwtgate/jwtgate/jwt v0.0.0

replace github.com/jwtgate/jwtgate/jwt => ../jwt
