package guard

import "github.com/jwtgate/jwtgate/jwt"

// Claims are the claims of a jwtgate access token. Subject is the user id
// (a string), Name the user name, Role admin, editor or reader, and
// SessionID the login session the token belongs to. AMR says how the
// user authenticated (RFC 8176: "pwd", "otp", "hwk", "swk", "mfa"), ACR is
// "urn:jwtgate:mfa" when a second factor was used, and MFAEnroll marks a
// token that may only enrol a second factor, which every handler of
// Guard refuses.
//
// It mirrors auth.AccessClaims on purpose rather than importing it: a
// service that imports guard should not compile jwtgate's domain and its
// password hashing. TestAgainstJwtgate checks that the two agree.
type Claims struct {
	jwt.Claims
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	SessionID string   `json:"sid,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	ACR       string   `json:"acr,omitempty"`
	MFAEnroll bool     `json:"mfa_enroll,omitempty"`
}

// ACRMFA is the acr of a login with a second factor.
const ACRMFA = "urn:jwtgate:mfa"

// HasAMR reports whether the token's amr has every one of methods.
func (c *Claims) HasAMR(methods ...string) bool {
	for _, m := range methods {
		found := false
		for _, a := range c.AMR {
			if a == m {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
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
	case "amr":
		err = v.Decode(&c.AMR)
	case "acr":
		c.ACR, err = v.String()
	case "mfa_enroll":
		c.MFAEnroll, err = v.Bool()
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
	if len(c.AMR) > 0 {
		dst = append(dst, `,"amr":[`...)
		for i, a := range c.AMR {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jwt.AppendJSONString(dst, a)
		}
		dst = append(dst, ']')
	}
	if c.ACR != "" {
		dst = append(dst, `,"acr":`...)
		dst = jwt.AppendJSONString(dst, c.ACR)
	}
	if c.MFAEnroll {
		dst = append(dst, `,"mfa_enroll":true`...)
	}
	return append(dst, '}')
}
