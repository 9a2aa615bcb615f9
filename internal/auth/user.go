package auth

import (
	"context"
	"maps"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
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
	// MustChangePassword is set when an admin gave the user a password:
	// the user must choose their own at the next login. Any later
	// password change clears it (see UserUpdate.MustChangePassword).
	MustChangePassword bool
}

// UserUpdate changes some fields of a user; nil fields stay as they are.
type UserUpdate struct {
	Role         *Role
	Disabled     *bool
	PasswordHash *string
	// MustChangePassword sets or clears User.MustChangePassword. When nil,
	// an update with a PasswordHash clears it.
	MustChangePassword *bool
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

// ValidateUsername allows 1–64 bytes of letters (with their combining
// marks), digits and . _ - @ that the PRECIS profile UsernameCaseMapped
// (RFC 8265) accepts, and refuses names that mix scripts, such as "аdmin"
// with a Cyrillic а, which would pass for "admin". Digits, . _ - @ and
// other characters common to all scripts go with any script; beyond one
// script only the mixes of Unicode's "highly restrictive" level (UTS #39)
// are allowed: Latin with Han, Hiragana and Katakana (Japanese), with Han
// and Bopomofo (Chinese), or with Han and Hangul (Korean). Width variants
// ("ａｄｍｉｎ"), case and normalisation are not refused here: NameKey maps
// them to one name, which the store keeps unique.
func ValidateUsername(name string) error {
	if len(name) < MinUsernameLen || len(name) > MaxUsernameLen {
		return invalid("username must be 1 to %d bytes", MaxUsernameLen)
	}
	if !utf8.ValidString(name) {
		return invalid("username must be valid UTF-8")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' && r != '@' {
			return invalid("username may contain only letters, digits and . _ - @")
		}
	}
	if _, err := precis.UsernameCaseMapped.String(name); err != nil {
		return invalid("username is not valid under RFC 8265 (PRECIS): it has compatibility characters (such as ligatures), or mixes right-to-left text wrongly")
	}
	if a, b, mixed := mixedScripts(name); mixed {
		return invalid("username must not mix scripts (it has %s and %s letters): write it in one script; digits and . _ - @ go with any", a, b)
	}
	return nil
}

// scripts are the Unicode scripts but Common and Inherited, the most used
// first: a rune's script is the first that has it.
var scripts = func() []script {
	first := []string{"Latin", "Cyrillic", "Greek", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Hebrew"}
	var out []script
	for _, n := range first {
		out = append(out, script{n, unicode.Scripts[n]})
	}
	rest := slices.Sorted(maps.Keys(unicode.Scripts))
	for _, n := range rest {
		if n != "Common" && n != "Inherited" && !slices.Contains(first, n) {
			out = append(out, script{n, unicode.Scripts[n]})
		}
	}
	return out
}()

type script struct {
	name  string
	table *unicode.RangeTable
}

// scriptMixes are the sets of scripts one name may combine (UTS #39,
// highly restrictive).
var scriptMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// mixedScripts reports whether name's letters come from scripts no one
// name may combine, and names two of them.
func mixedScripts(name string) (a, b string, mixed bool) {
	var seen []string
	for _, r := range name {
		if r < utf8.RuneSelf && !unicode.IsLetter(r) {
			continue
		}
		for _, sc := range scripts {
			if unicode.Is(sc.table, r) {
				if !slices.Contains(seen, sc.name) {
					seen = append(seen, sc.name)
				}
				break
			}
		}
	}
	// A set no mix contains has a pair no mix contains.
	for i, a := range seen {
		for _, b := range seen[i+1:] {
			if !slices.ContainsFunc(scriptMixes, func(mix []string) bool {
				return slices.Contains(mix, a) && slices.Contains(mix, b)
			}) {
				return a, b, true
			}
		}
	}
	return "", "", false
}

// CanonicalUsername is the form in which a valid username is stored and
// shown (in tokens' name claim too): RFC 8265's UsernameCasePreserved
// enforcement, which maps fullwidth and halfwidth characters to their
// ordinary forms and applies NFC, keeping case. So "ｔａｒｏ" is stored as
// "taro" and a decomposed "E\u0301mile" as "Émile". A name that
// ValidateUsername refuses is returned as it is.
func CanonicalUsername(name string) string {
	if c, err := precis.UsernameCasePreserved.String(name); err == nil {
		return c
	}
	return name
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
	// UsersPage returns up to limit users whose NameKey starts with
	// prefix and sorts after after (a NameKey, "" for the first page), in
	// byte order of NameKey: keyset paging, as fast on the last page as
	// on the first.
	UsersPage(ctx context.Context, prefix, after string, limit int) ([]*User, error)
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
