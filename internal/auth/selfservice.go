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
	u, err := s.checkOwnPassword(ctx, p, clientIP, current)
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
	u, err = s.updateUser(ctx, u.Name, UserUpdate{PasswordHash: &h, EndSessions: end})
	if err != nil {
		return nil, err
	}
	s.auditUser(ctx, AuditPasswordChange, p, u, u.Name, "own")
	return u, nil
}

// checkOwnPassword checks current, the password p's user typed, as Login
// checks it, with the same rate limits from clientIP and the same audit
// of a failure. A wrong one is ErrForbidden: the caller's session is
// valid and is not asked to log in again.
func (s *Service) checkOwnPassword(ctx context.Context, p *Principal, clientIP, current string) (*User, error) {
	u, err := s.Login(ctx, clientIP, p.Name, current)
	if errors.Is(err, ErrUnauthorized) || err == nil && u.ID != p.UserID {
		return nil, errWrongPassword
	}
	if errors.Is(err, ErrInvalid) { // the current password is over-long
		return nil, errWrongPassword
	}
	return u, err
}

var errWrongPassword = fmt.Errorf("%w: the current password is wrong", ErrForbidden)

// confirmOwnPassword is the proof an operation that weakens p's account
// (removing a second factor, replacing its recovery codes) asks for: the
// current password, checked as ChangeOwnPassword checks it. A missing one
// is refused as a wrong one is, without spending a login attempt.
func (s *Service) confirmOwnPassword(ctx context.Context, p *Principal, clientIP, current string) error {
	if p == nil || p.Claims.ClientID != "" {
		return errOwnLoginOnly
	}
	if current == "" {
		return fmt.Errorf("%w: the current password is required: send it as current_password", ErrForbidden)
	}
	_, err := s.checkOwnPassword(ctx, p, clientIP, current)
	return err
}

// OwnSessions returns the live sessions of p's user, newest first.
func (s *Service) OwnSessions(ctx context.Context, p *Principal) ([]*Session, error) {
	if p.Claims.ClientID != "" {
		return nil, errOwnLoginOnly
	}
	return s.Store.UserSessions(ctx, p.UserID, s.now())
}

// EndOwnSession ends one live session of p's user, refusing its access
// tokens (see endSessionOf).
func (s *Service) EndOwnSession(ctx context.Context, p *Principal, id string) error {
	if p.Claims.ClientID != "" {
		return errOwnLoginOnly
	}
	return s.endSessionOf(ctx, p.UserID, id, AuditEvent{Kind: AuditLogout, Actor: p.Name, User: p.Name})
}

// endSessionOf ends the live session id of user userID and records e
// (given the user id and session). A session of another user, or one that
// already ended, is ErrNotFound: the answer does not tell whether an id
// exists.
func (s *Service) endSessionOf(ctx context.Context, userID int64, id string, e AuditEvent) error {
	sessions, err := s.Store.UserSessions(ctx, userID, s.now())
	if err != nil {
		return err
	}
	for _, sess := range sessions {
		if sess.ID == id {
			if err := s.revoke(ctx, Revoke{SessionID: id}, s.now()); err != nil {
				return err
			}
			e.UserID, e.SessionID = userID, id
			s.audit(ctx, e)
			return nil
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
	if err := s.revoke(ctx, Revoke{UserID: p.UserID, KeepSessionID: p.Claims.SessionID}, s.now()); err != nil {
		return err
	}
	s.audit(ctx, AuditEvent{Kind: AuditLogoutOthers, Actor: p.Name, User: p.Name, UserID: p.UserID, SessionID: p.Claims.SessionID})
	return nil
}

// UserSessions returns the live sessions of the user called name, newest
// first: an admin's view.
func (s *Service) UserSessions(ctx context.Context, name string) ([]*Session, error) {
	u, err := s.Store.UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.Store.UserSessions(ctx, u.ID, s.now())
}

// EndUserSession ends one live session of the user called name, as an
// admin; a session of another user, or one that ended, is ErrNotFound.
func (s *Service) EndUserSession(ctx context.Context, name, id string) error {
	u, err := s.Store.UserByName(ctx, name)
	if err != nil {
		return err
	}
	return s.endSessionOf(ctx, u.ID, id, AuditEvent{Kind: AuditSessionsEnd, Actor: actorName(ctx, nil), User: u.Name})
}
