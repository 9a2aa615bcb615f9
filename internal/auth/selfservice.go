package auth

import (
	"context"
	"errors"
	"fmt"
)

// errOwnLoginOnly refuses account changes by tokens issued to OAuth
// clients: an application a user signed in to must not be able to end
// the user's sessions or change their password.
var errOwnLoginOnly = fmt.Errorf("%w: account settings need a login to jwtgate itself, not a token issued to an OAuth client", ErrForbidden)

// ChangeOwnPassword replaces the password of p's user, who gives the
// current one, and ends every other session of the user; p's own session
// stays. The current password is checked as Login checks it, with the
// same rate limits from clientIP, so the form cannot serve to guess it
// faster than the login form; a wrong one is ErrForbidden (the caller's
// session is valid: it is not asked to log in again). The new password
// follows ValidatePassword and is checked first, spending nothing.
func (s *Service) ChangeOwnPassword(ctx context.Context, p *Principal, clientIP, current, next string) (*User, error) {
	if p.Claims.ClientID != "" {
		return nil, errOwnLoginOnly
	}
	if current == "" {
		return nil, invalid("current_password is required")
	}
	if err := ValidatePassword(next); err != nil {
		return nil, err
	}
	u, err := s.Login(ctx, clientIP, p.Name, current)
	if errors.Is(err, ErrUnauthorized) || err == nil && u.ID != p.UserID {
		return nil, fmt.Errorf("%w: the current password is wrong", ErrForbidden)
	}
	if errors.Is(err, ErrInvalid) { // the current password is over-long
		return nil, fmt.Errorf("%w: the current password is wrong", ErrForbidden)
	}
	if err != nil {
		return nil, err
	}
	h, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return nil, err
	}
	end, err := s.endSessions(ctx, s.now())
	if err != nil {
		return nil, err
	}
	end.KeepSessionID = p.Claims.SessionID
	return s.updateUser(ctx, u.Name, UserUpdate{PasswordHash: &h, EndSessions: end})
}

// OwnSessions returns the live sessions of p's user, newest first.
func (s *Service) OwnSessions(ctx context.Context, p *Principal) ([]*Session, error) {
	if p.Claims.ClientID != "" {
		return nil, errOwnLoginOnly
	}
	return s.Store.UserSessions(ctx, p.UserID, s.now())
}

// EndOwnSession ends one live session of p's user, refusing its access
// tokens. A session of another user, or one that already ended, is
// ErrNotFound: the answer does not tell whether an id exists.
func (s *Service) EndOwnSession(ctx context.Context, p *Principal, id string) error {
	if p.Claims.ClientID != "" {
		return errOwnLoginOnly
	}
	sessions, err := s.Store.UserSessions(ctx, p.UserID, s.now())
	if err != nil {
		return err
	}
	for _, sess := range sessions {
		if sess.ID == id {
			return s.revoke(ctx, Revoke{SessionID: id}, s.now())
		}
	}
	return fmt.Errorf("session %w", ErrNotFound)
}

// EndOtherSessions ends every session of p's user but p's own: "log out
// everywhere else".
func (s *Service) EndOtherSessions(ctx context.Context, p *Principal) error {
	if p.Claims.ClientID != "" {
		return errOwnLoginOnly
	}
	return s.revoke(ctx, Revoke{UserID: p.UserID, KeepSessionID: p.Claims.SessionID}, s.now())
}
