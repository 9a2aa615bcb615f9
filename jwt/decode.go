package jwt

import (
	"encoding/json"
	"fmt"
)

// Unverified is a token taken apart WITHOUT checking its signature or
// claims. Nothing in it can be trusted: use it to inspect or debug a token,
// never to make an access decision. Use a Verifier for that.
type Unverified struct {
	Header    json.RawMessage // the decoded JOSE header, as sent
	Payload   json.RawMessage // the decoded claims, as sent
	Signature []byte          // the decoded signature bytes
	Algorithm string          // the header's alg, whatever it claims to be
	KeyID     string          // the header's kid, if any
}

// DecodeUnverified parses a compact JWT with the same strict rules as
// Verify (size limit, three segments, unpadded base64url, header and
// payload JSON objects without duplicate members, well-typed registered
// claims) but checks neither signature nor times. An unknown alg or a crit
// header is reported in Algorithm rather than refused, so that such a token
// can still be inspected.
func DecodeUnverified(token string) (*Unverified, error) {
	var buf []byte
	var seg segments
	if err := split(token, DefaultMaxSize, &buf, &seg); err != nil {
		return nil, err
	}
	h, err := seg.decodeHeader()
	if err != nil {
		return nil, err
	}
	var rc scanned
	if err := scanClaims(seg.payload, &rc); err != nil {
		return nil, err
	}
	return &Unverified{
		Header:    seg.header,
		Payload:   seg.payload,
		Signature: seg.sig,
		Algorithm: string(h.alg),
		KeyID:     string(h.kid),
	}, nil
}

// Claims decodes the unverified payload into dst with encoding/json. dst
// must be a non-nil pointer, else the error is an *InvalidTargetError.
func (u *Unverified) Claims(dst any) error {
	if dst == nil {
		return &InvalidTargetError{}
	}
	if err := checkTarget(dst); err != nil {
		return err
	}
	if err := json.Unmarshal(u.Payload, dst); err != nil {
		return fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return nil
}
