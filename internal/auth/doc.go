// Package auth is jwtgate's domain: users, roles, passwords, posts and the
// rules of login and access. It defines the storage interfaces (Store) that
// the sqlite and postgres packages implement and knows nothing of SQL or
// HTTP; httpapi turns requests into calls on Service.
package auth
