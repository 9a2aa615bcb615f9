package guard

import "github.com/jwtgate/jwtgate/jwt"

// Claims are the claims of a jwtgate access token. Subject is the user id
// (a string), Name the user name, Role admin, editor or reader, and
// SessionID the login session the token belongs to.
//
// It mirrors auth.AccessClaims on purpose rather than importing it: a
// service that imports guard should not compile jwtgate's domain and its
// password hashing. TestAgainstJwtgate checks that the two agree.
type Claims struct {
	jwt.Claims
	Name      string `json:"name"`
	Role      string `json:"role"`
	SessionID string `json:"sid,omitempty"`
}

// DecodeClaim implements jwt.ClaimDecoder, so verification fills Claims
// without reflection. Other members are ignored.
func (c *Claims) DecodeClaim(name string, v jwt.Value) error {
	var err error
	switch name {
	case "name":
		c.Name, err = v.String()
	case "role":
		c.Role, err = v.String()
	case "sid":
		c.SessionID, err = v.String()
	}
	return err
}

// AppendJSON implements jwt.ClaimAppender. Without it the embedded
// jwt.Claims' method would be promoted and jwt.Sign would drop name, role
// and sid (tests and tools sign Claims too).
func (c *Claims) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst, comma := c.Claims.AppendMembers(dst, false)
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, `"name":`...)
	dst = jwt.AppendJSONString(dst, c.Name)
	dst = append(dst, `,"role":`...)
	dst = jwt.AppendJSONString(dst, c.Role)
	if c.SessionID != "" {
		dst = append(dst, `,"sid":`...)
		dst = jwt.AppendJSONString(dst, c.SessionID)
	}
	return append(dst, '}')
}
