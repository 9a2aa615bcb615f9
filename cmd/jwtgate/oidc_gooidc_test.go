package main

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// TestOIDCGoOIDC signs in a Go web app written with go-oidc and
// golang.org/x/oauth2, as their documentation shows: discovery, the code
// flow with PKCE and a nonce, ID token verification, userinfo and refresh,
// for a confidential client and for a public one.
func TestOIDCGoOIDC(t *testing.T) {
	s := startOIDCServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// NewProvider checks that the discovery document's issuer is the URL
	// it was given.
	provider, err := oidc.NewProvider(ctx, s.base)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	const redirect = "http://127.0.0.1:9/callback"
	other, _ := s.addClient(t, auth.ClientSpec{Name: "Other app", RedirectURIs: []string{redirect}})
	for _, public := range []bool{false, true} {
		name := map[bool]string{false: "confidential", true: "public"}[public]
		t.Run(name, func(t *testing.T) {
			id, secret := s.addClient(t, auth.ClientSpec{Name: "Go app " + name, RedirectURIs: []string{redirect}, Public: public})
			if public != (secret == "") {
				t.Fatalf("public %v client got secret %q", public, secret)
			}
			conf := oauth2.Config{
				ClientID:     id,
				ClientSecret: secret,
				Endpoint:     provider.Endpoint(),
				RedirectURL:  redirect,
				Scopes:       []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess},
			}
			if public {
				// No secret: the client id goes in the form (auth method none).
				conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			}
			verifier := oauth2.GenerateVerifier()
			state, nonce := rand.Text(), rand.Text()
			authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

			cb := follow(t, s.browser(t), authURL, redirect).Query()
			if cb.Get("state") != state || cb.Get("iss") != s.base || cb.Get("code") == "" {
				t.Fatalf("callback %v: want the code, state %q and iss %q", cb, state, s.base)
			}
			tok, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			verify := provider.Verifier(&oidc.Config{ClientID: id}).Verify
			idt := checkIDToken(ctx, t, verify, tok, nonce)
			// The tokens are this client's: another client's verifier
			// refuses the ID token (aud), and jwtgate's own API the access
			// token.
			if _, err := provider.Verifier(&oidc.Config{ClientID: other}).Verify(ctx, tok.Extra("id_token").(string)); err == nil {
				t.Error("another client's verifier accepted the ID token")
			}
			if code, _, m := call(t, "GET", s.base+"/me", tok.AccessToken, "", ""); code != http.StatusUnauthorized {
				t.Errorf("jwtgate's /me with a client's access token: %d %v, want 401", code, m)
			}

			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var uic struct {
				PreferredUsername string `json:"preferred_username"`
			}
			if err := ui.Claims(&uic); err != nil {
				t.Fatal(err)
			}
			if ui.Subject != idt.Subject || uic.PreferredUsername != oidcUser {
				t.Errorf("userinfo sub %q preferred_username %q, want %q %q", ui.Subject, uic.PreferredUsername, idt.Subject, oidcUser)
			}

			// x/oauth2 refreshes a token once it has expired.
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token for offline_access")
			}
			expired := *tok
			expired.Expiry = time.Now().Add(-time.Minute)
			fresh, err := conf.TokenSource(ctx, &expired).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
				t.Errorf("refresh gave the same tokens or no new refresh token")
			}
			if _, ok := fresh.Extra("id_token").(string); ok {
				if again := checkIDToken(ctx, t, verify, fresh, ""); again.Subject != idt.Subject {
					t.Errorf("refreshed ID token for %q, want %q", again.Subject, idt.Subject)
				}
			}
			if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err != nil || ui.Subject != idt.Subject {
				t.Errorf("userinfo with the refreshed token: %v %v", ui, err)
			}

			// The spent refresh token is refused with an error x/oauth2
			// understands (RFC 6749 section 5.2).
			_, err = conf.TokenSource(ctx, &expired).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Errorf("second use of a refresh token: %v, want invalid_grant", err)
			}
		})
	}
}

// checkIDToken verifies tok's ID token with go-oidc (signature, issuer,
// audience, expiry) and checks its claims; nonce "" skips the nonce, which
// a refreshed ID token need not carry.
func checkIDToken(ctx context.Context, t *testing.T, verify func(context.Context, string) (*oidc.IDToken, error), tok *oauth2.Token, nonce string) *oidc.IDToken {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatalf("no id_token in the token response")
	}
	idt, err := verify(ctx, raw)
	if err != nil {
		t.Fatalf("verifying the ID token: %v", err)
	}
	var c struct {
		PreferredUsername string `json:"preferred_username"`
		Name              string `json:"name"`
		AuthTime          int64  `json:"auth_time"`
		SID               string `json:"sid"`
		AZP               string `json:"azp"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if nonce != "" && idt.Nonce != nonce {
		t.Errorf("ID token nonce %q, want %q", idt.Nonce, nonce)
	}
	// go-oidc checks at_hash against the access token issued with it.
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken + "x"); err == nil {
		t.Error("at_hash matches another access token")
	}
	if idt.Subject == "" || c.PreferredUsername != oidcUser || c.AuthTime == 0 || c.SID == "" {
		t.Errorf("ID token sub %q, preferred_username %q, auth_time %d, sid %q: want all set, the name %q",
			idt.Subject, c.PreferredUsername, c.AuthTime, c.SID, oidcUser)
	}
	return idt
}
