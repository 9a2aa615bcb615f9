// Package passkey runs jwtgate's WebAuthn ceremonies with
// github.com/go-webauthn/webauthn: registering passkeys and security keys,
// and checking their assertions as a second factor after the password or
// alone (passwordless, with a discoverable credential).
//
// The relying party is the server's public URL (--public-url): its host
// is the RP ID, scheme://host[:port] the one accepted origin. A server
// without a public URL has no passkeys: a browser binds a credential to
// the RP ID, which must not change with the Host header a request came in
// with.
//
// Ceremony state lives in the database (auth.PasskeyStore), keyed by the
// SHA-256 of the challenge the response signs, and is taken once: a
// ceremony begun on one instance finishes on any other, and a replayed
// response finds nothing.
package passkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// ErrDisabled is returned (wrapped, with the reason) by New for a server
// whose public URL cannot name a relying party: none, or an IP address.
var ErrDisabled = errors.New("passkeys are off")

// RP is the server as a WebAuthn relying party.
type RP struct {
	svc    *auth.Service
	store  auth.PasskeyStore
	wa     *webauthn.WebAuthn
	rpID   string
	origin string
}

// New returns the relying party of publicURL, or ErrDisabled if it is
// empty or its host an IP address (an RP ID is a domain name: browsers
// refuse an address). Its host is the RP ID; displayName is what
// authenticators show.
func New(svc *auth.Service, publicURL, displayName string) (*RP, error) {
	if publicURL == "" {
		return nil, fmt.Errorf("%w: they need --public-url, whose host is the WebAuthn relying party id", ErrDisabled)
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("passkey: the public URL %q is not an http(s) URL with a host", publicURL)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, fmt.Errorf("%w: the host of --public-url is an IP address, and a WebAuthn relying party id must be a domain name", ErrDisabled)
	}
	store, err := svc.PasskeyStore()
	if err != nil {
		return nil, err
	}
	rp := &RP{svc: svc, store: store, rpID: u.Hostname(), origin: u.Scheme + "://" + u.Host}
	if displayName == "" {
		displayName = "jwtgate"
	}
	rp.wa, err = webauthn.New(&webauthn.Config{
		RPID:          rp.rpID,
		RPDisplayName: displayName,
		RPOrigins:     []string{rp.origin},
		// Attestation is not asked for: jwtgate trusts no particular
		// maker of authenticators, and "none" reveals nothing of the
		// user's device.
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: auth.CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: auth.CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return rp, nil
}

// RPID is the relying party id: the public URL's host.
func (rp *RP) RPID() string { return rp.rpID }

// Origin is the one origin whose responses are accepted.
func (rp *RP) Origin() string { return rp.origin }

// user is an auth.User as go-webauthn sees it.
type user struct {
	u      *auth.User
	handle []byte
	keys   []auth.Passkey
}

func (w *user) WebAuthnID() []byte          { return w.handle }
func (w *user) WebAuthnName() string        { return w.u.Name }
func (w *user) WebAuthnDisplayName() string { return w.u.Name }
func (w *user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(w.keys))
	for i := range w.keys {
		out[i] = credential(&w.keys[i])
	}
	return out
}

func (w *user) key(id []byte) *auth.Passkey {
	for i := range w.keys {
		if bytes.Equal(w.keys[i].ID, id) {
			return &w.keys[i]
		}
	}
	return nil
}

func credential(p *auth.Passkey) webauthn.Credential {
	c := webauthn.Credential{
		ID:                p.ID,
		PublicKey:         p.PublicKey,
		AttestationType:   p.AttestationType,
		AttestationFormat: p.AttestationFormat,
		Flags:             webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(p.Flags)),
		Authenticator: webauthn.Authenticator{
			AAGUID:     p.AAGUID,
			SignCount:  p.SignCount,
			Attachment: protocol.AuthenticatorAttachment(p.Attachment),
		},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

// load returns u with its handle and its passkeys under this RP ID.
func (rp *RP) load(ctx context.Context, u *auth.User) (*user, error) {
	h, err := rp.svc.WebAuthnHandle(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	keys, err := rp.store.Passkeys(ctx, u.ID, rp.rpID)
	if err != nil {
		return nil, err
	}
	return &user{u: u, handle: h, keys: keys}, nil
}

func challengeKey(challenge string) []byte {
	h := sha256.Sum256([]byte(challenge))
	return h[:]
}

// save stores a ceremony's session data under its challenge.
func (rp *RP) save(ctx context.Context, kind string, userID int64, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	return rp.store.SaveCeremony(ctx, &auth.Ceremony{Key: challengeKey(sd.Challenge), Kind: kind, UserID: userID, Data: data,
		ExpiresAt: rp.svc.Time().Add(auth.CeremonyTTL)})
}

// take returns the session data of the ceremony whose challenge the
// response signs, once.
func (rp *RP) take(ctx context.Context, kind, challenge string) (*auth.Ceremony, *webauthn.SessionData, error) {
	c, err := rp.store.TakeCeremony(ctx, challengeKey(challenge), kind, rp.svc.Time())
	if errors.Is(err, auth.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: no such passkey ceremony: it expired or was finished", auth.ErrUnauthorized)
	}
	if err != nil {
		return nil, nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, nil, fmt.Errorf("passkey: stored ceremony: %w", err)
	}
	return c, &sd, nil
}

// refused wraps a failed verification as kind (auth.ErrInvalid for a
// registration, auth.ErrUnauthorized for a login), with the library's
// reason.
func refused(kind, err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return fmt.Errorf("%w: passkey: %s", kind, pe.Details)
	}
	return fmt.Errorf("%w: passkey: %w", kind, err)
}

// BeginRegistration starts registering a passkey for u: the options for
// navigator.credentials.create ({"publicKey": ...}). Resident keys and
// user verification are preferred, so the credential can also sign in
// without a password; the user's passkeys are excluded, so one
// authenticator is not registered twice.
func (rp *RP) BeginRegistration(ctx context.Context, u *auth.User) (json.RawMessage, error) {
	w, err := rp.load(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(w.keys) >= auth.MaxPasskeys {
		return nil, fmt.Errorf("%w: at most %d passkeys per user", auth.ErrConflict, auth.MaxPasskeys)
	}
	exclude := make([]protocol.CredentialDescriptor, len(w.keys))
	for i := range w.keys {
		c := credential(&w.keys[i])
		exclude[i] = c.Descriptor()
	}
	opts, sd, err := rp.wa.BeginRegistration(w,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	if err := rp.save(ctx, auth.CeremonyRegister, u.ID, sd); err != nil {
		return nil, err
	}
	return json.Marshal(opts)
}

// FinishRegistration verifies the authenticator's response (the
// PublicKeyCredential as JSON) to a registration u began, and stores the
// credential under name. actor is who asked (u, on the Security page).
func (rp *RP) FinishRegistration(ctx context.Context, actor *auth.Principal, u *auth.User, name string, response []byte) (*auth.Passkey, error) {
	if _, err := auth.CleanPasskeyName(name); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refused(auth.ErrInvalid, err)
	}
	c, sd, err := rp.take(ctx, auth.CeremonyRegister, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	if c.UserID != u.ID {
		return nil, fmt.Errorf("%w: passkey: the registration was begun by another user", auth.ErrUnauthorized)
	}
	w, err := rp.load(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := rp.wa.CreateCredential(w, *sd, parsed)
	if err != nil {
		return nil, refused(auth.ErrInvalid, err)
	}
	p := &auth.Passkey{
		ID:                cred.ID,
		RPID:              rp.rpID,
		Name:              name,
		PublicKey:         cred.PublicKey,
		AttestationType:   cred.AttestationType,
		AttestationFormat: cred.AttestationFormat,
		AAGUID:            cred.Authenticator.AAGUID,
		Attachment:        string(cred.Authenticator.Attachment),
		SignCount:         cred.Authenticator.SignCount,
		Flags:             byte(cred.Flags.ProtocolValue()),
	}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	if err := rp.svc.AddPasskey(ctx, actor, u, p); err != nil {
		return nil, err
	}
	return p, nil
}

// BeginLogin starts an assertion by one of u's passkeys, as the second
// factor after u's password: the options for navigator.credentials.get,
// and the state FinishLogin needs, which the caller keeps (with its
// mfa_token) server-side. User verification is preferred: the password
// was the first factor. No passkey: auth.ErrNotFound.
func (rp *RP) BeginLogin(ctx context.Context, u *auth.User) (options, state []byte, err error) {
	w, err := rp.load(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if len(w.keys) == 0 {
		return nil, nil, fmt.Errorf("%w: %s has no passkey", auth.ErrNotFound, u.Name)
	}
	opts, sd, err := rp.wa.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	if state, err = json.Marshal(sd); err != nil {
		return nil, nil, err
	}
	if options, err = json.Marshal(opts); err != nil {
		return nil, nil, err
	}
	return options, state, nil
}

// FinishLogin checks an assertion (the PublicKeyCredential as JSON)
// against the state of BeginLogin for u, and records the credential's
// use. It returns the credential's RFC 8176 method, "hwk" or "swk" (see
// auth.Passkey.AMR).
func (rp *RP) FinishLogin(ctx context.Context, u *auth.User, state, assertion []byte) (amr string, err error) {
	var sd webauthn.SessionData
	if err := json.Unmarshal(state, &sd); err != nil {
		return "", fmt.Errorf("passkey: stored ceremony: %w", err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return "", refused(auth.ErrUnauthorized, err)
	}
	w, err := rp.load(ctx, u)
	if err != nil {
		return "", err
	}
	cred, err := rp.wa.ValidateLogin(w, sd, parsed)
	if err != nil {
		return "", refused(auth.ErrUnauthorized, err)
	}
	p, err := rp.used(ctx, w, cred, parsed)
	if err != nil {
		return "", err
	}
	return p.AMR(), nil
}

// Enrolled reports whether u has a passkey under this RP ID.
func (rp *RP) Enrolled(ctx context.Context, u *auth.User) (bool, error) {
	keys, err := rp.store.Passkeys(ctx, u.ID, rp.rpID)
	return len(keys) > 0, err
}

// Reset does nothing: the store's ResetMFA deletes the user's passkeys
// in its transaction.
func (rp *RP) Reset(context.Context, *auth.User) error { return nil }

var _ auth.WebAuthnVerifier = (*RP)(nil)

// BeginPasswordless starts a sign-in with a discoverable credential: no
// user is named, the authenticator offers the passkeys it holds for this
// RP ID. User verification is required: the passkey is the only factor,
// and its PIN or biometric stands for the password.
func (rp *RP) BeginPasswordless(ctx context.Context) (json.RawMessage, error) {
	opts, sd, err := rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	if err := rp.save(ctx, auth.CeremonyPasswordless, 0, sd); err != nil {
		return nil, err
	}
	return json.Marshal(opts)
}

// FinishPasswordless checks the assertion of a passwordless sign-in and
// returns the user whose passkey signed it, and the passkey. A disabled
// user is refused like an unknown credential.
func (rp *RP) FinishPasswordless(ctx context.Context, assertion []byte) (*auth.User, *auth.Passkey, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return nil, nil, refused(auth.ErrUnauthorized, err)
	}
	_, sd, err := rp.take(ctx, auth.CeremonyPasswordless, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, nil, err
	}
	var w *user
	var lookupErr error
	handler := func(rawID, handle []byte) (webauthn.User, error) {
		u, err := rp.store.UserByWebAuthnHandle(ctx, handle)
		if err == nil && u.Disabled {
			err = auth.ErrAccountDisabled
		}
		if err != nil {
			lookupErr = err
			return nil, err
		}
		if w, err = rp.load(ctx, u); err != nil {
			lookupErr = err
			return nil, err
		}
		return w, nil
	}
	_, cred, err := rp.wa.ValidatePasskeyLogin(handler, *sd, parsed)
	if err != nil {
		if lookupErr != nil && !errors.Is(lookupErr, auth.ErrNotFound) && !errors.Is(lookupErr, auth.ErrUnauthorized) {
			return nil, nil, lookupErr // the store failed
		}
		return nil, nil, refused(auth.ErrUnauthorized, err)
	}
	p, err := rp.used(ctx, w, cred, parsed)
	if err != nil {
		return nil, nil, err
	}
	return w.u, p, nil
}

// used records a verified assertion of cred: a signature counter that
// went back refuses it (auth.ErrSignCount).
func (rp *RP) used(ctx context.Context, w *user, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) (*auth.Passkey, error) {
	p := w.key(cred.ID)
	if p == nil {
		return nil, fmt.Errorf("%w: passkey: unknown credential", auth.ErrUnauthorized)
	}
	if err := rp.svc.UsePasskey(ctx, w.u, p, parsed.Response.AuthenticatorData.Counter, byte(cred.Flags.ProtocolValue())); err != nil {
		return nil, err
	}
	return p, nil
}
