// Package passkeytest is a software WebAuthn authenticator for tests: it
// answers registration and login options as a browser and an ES256
// authenticator would (attestation "none"), and every part of its
// answers (RP ID, origin, challenge, counter, flags) can be changed to
// test refusals.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Authenticator signs as a browser at Origin would, for RPID.
type Authenticator struct {
	RPID   string
	Origin string
	// Flags are sent besides AT on registration: by default UP and UV.
	Flags byte
	// NoCounter makes it send 0 as its signature counter, as synced
	// passkeys do.
	NoCounter bool
}

// Flags of the authenticator data.
const (
	UP byte = 0x01
	UV byte = 0x04
	BE byte = 0x08
	BS byte = 0x10
	AT byte = 0x40
)

// Credential is a key the authenticator made.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	UserHandle []byte
	SignCount  uint32
	Flags      byte
}

var b64 = base64.RawURLEncoding

// New returns an authenticator for the relying party at origin.
func New(rpID, origin string) *Authenticator {
	return &Authenticator{RPID: rpID, Origin: origin, Flags: UP | UV}
}

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

// Challenge returns the challenge of registration or login options.
func Challenge(opts []byte) (string, error) {
	var o options
	if err := json.Unmarshal(opts, &o); err != nil {
		return "", err
	}
	return o.PublicKey.Challenge, nil
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) authData(flags byte, count uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(a.RPID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

// Create answers registration options (navigator.credentials.create's
// JSON) with a new ES256 credential, and returns the
// PublicKeyCredential as JSON.
func (a *Authenticator) Create(opts []byte) ([]byte, *Credential, error) {
	var o options
	if err := json.Unmarshal(opts, &o); err != nil {
		return nil, nil, err
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user.id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: make([]byte, 32), Key: key, UserHandle: handle, Flags: a.Flags}
	rand.Read(c.ID)
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, nil, err
	}
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, // P-256
		XCoord:        pub[1:33],
		YCoord:        pub[33:],
	})
	if err != nil {
		return nil, nil, err
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(c.ID)))
	attested = append(attested, c.ID...)
	attested = append(attested, cose...)
	if !a.NoCounter {
		c.SignCount = 1
	}
	att, err := webauthncbor.Marshal(map[string]any{
		"fmt":      "none",
		"attStmt":  map[string]any{},
		"authData": a.authData(a.Flags|AT, c.SignCount, attested),
	})
	if err != nil {
		return nil, nil, err
	}
	resp, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
	return resp, c, err
}

// Get answers login options with an assertion by c, which counts one
// more use (unless the authenticator keeps no counter), and returns the
// PublicKeyCredential as JSON.
func (a *Authenticator) Get(opts []byte, c *Credential) ([]byte, error) {
	challenge, err := Challenge(opts)
	if err != nil {
		return nil, err
	}
	if !a.NoCounter {
		c.SignCount++
	}
	return a.Sign(challenge, c, c.SignCount)
}

// Sign makes an assertion by c of challenge with the counter count.
func (a *Authenticator) Sign(challenge string, c *Credential, count uint32) ([]byte, error) {
	cd := a.clientData("webauthn.get", challenge)
	ad := a.authData(c.Flags, count, nil)
	h := sha256.Sum256(cd)
	signed := sha256.Sum256(append(append([]byte{}, ad...), h[:]...)) // ES256 signs the SHA-256 of authData || hash(clientData)
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, signed[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
	})
}
