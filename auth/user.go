package auth

import (
	"context"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role decides what a user may do. Roles are ordered: admin can do all an
// editor can, an editor all a reader can.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleEditor Role = "editor"
	RoleReader Role = "reader"
)

// ParseRole accepts exactly one of the three role names.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleEditor, RoleReader:
		return r, nil
	}
	return "", invalid("role must be admin, editor or reader")
}

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleEditor:
		return 2
	case RoleReader:
		return 1
	}
	return 0
}

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// User is an account. PasswordHash is a PHC string (argon2id) or a bcrypt
// hash for imported users; it never leaves the server.
type User struct {
	ID           int64
	Name         string
	Role         Role
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Version advances with every change that ends the user's sessions
	// (UserUpdate.EndSessions). A session is only stored for the Version
	// its login read (Session.UserVersion), so a login that raced such a
	// change cannot outlive it.
	Version int64
}

// UserUpdate changes some fields of a user; nil fields stay as they are.
type UserUpdate struct {
	Role         *Role
	Disabled     *bool
	PasswordHash *string
	// EndSessions, if set, revokes every session of the user and advances
	// their Version in the same transaction (Revoke.UserID is filled in by
	// the store).
	EndSessions *Revoke
}

// Post is a piece of content behind authentication.
type Post struct {
	ID        int64
	AuthorID  int64
	Author    string // the author's username, filled by the store
	Title     string
	Body      string
	CreatedAt time.Time
}

// Limits on user input, shared by every entry point.
const (
	MinUsernameLen = 1
	MaxUsernameLen = 64
	MinPasswordLen = 8
	MaxPasswordLen = 1024
	MaxTitleLen    = 200
	MaxBodyLen     = 32 << 10
	MaxPageSize    = 100
)

// ValidateUsername allows 1–64 bytes of letters, digits and . _ - @.
func ValidateUsername(name string) error {
	if len(name) < MinUsernameLen || len(name) > MaxUsernameLen {
		return invalid("username must be 1 to %d bytes", MaxUsernameLen)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' && r != '@' {
			return invalid("username may contain only letters, digits and . _ - @")
		}
	}
	return nil
}

// ValidatePassword requires 8–1024 bytes of valid UTF-8.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return invalid("password must be %d to %d bytes", MinPasswordLen, MaxPasswordLen)
	}
	if !utf8.ValidString(pw) {
		return invalid("password must be valid UTF-8")
	}
	return nil
}

// UserStore keeps users. Implementations return errors wrapping
// ErrNotFound, ErrConflict (duplicate name) or ErrUnavailable (the
// database cannot be reached), and never leave a half-done write.
//
// A store keeps at least one enabled admin once it has one: UpdateUser
// and DeleteUser refuse with ErrLastAdmin, changing nothing, to demote,
// disable or delete the only enabled admin, checked in their transaction
// so that concurrent calls cannot together remove every admin.
type UserStore interface {
	// CreateUser inserts u and sets its ID, CreatedAt, UpdatedAt and
	// Version. IDs are never reused, even those of deleted users: an ID
	// is the sub of access tokens and the author of posts.
	CreateUser(ctx context.Context, u *User) error
	UserByName(ctx context.Context, name string) (*User, error)
	UserByID(ctx context.Context, id int64) (*User, error)
	// ListUsers returns all users ordered by name.
	ListUsers(ctx context.Context) ([]*User, error)
	// UpdateUser applies upd atomically and returns the updated user.
	UpdateUser(ctx context.Context, name string, upd UserUpdate) (*User, error)
	// DeleteUser removes the user, their posts and sessions, recording
	// end (if not nil) for their sessions in the same transaction.
	DeleteUser(ctx context.Context, name string, end *Revoke) error
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int, error)
}

// PostStore keeps posts.
type PostStore interface {
	// CreatePost inserts p and sets its ID, Author and CreatedAt.
	CreatePost(ctx context.Context, p *Post) error
	Post(ctx context.Context, id int64) (*Post, error)
	// ListPosts returns up to limit posts, newest first, with IDs below
	// before (0 means from the newest).
	ListPosts(ctx context.Context, limit int, before int64) ([]*Post, error)
	DeletePost(ctx context.Context, id int64) error
}

// Store is everything jwtgate keeps in its database.
type Store interface {
	UserStore
	PostStore
	SessionStore
	KeyStore
	// Ping reports whether the database is reachable (ErrUnavailable).
	Ping(ctx context.Context) error
	Close() error
}
