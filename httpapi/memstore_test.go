package httpapi

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/auth"
)

// memStore is an in-memory auth.Store for tests. It keeps the interface's
// contracts (copies in and out, ErrNotFound, ErrConflict, posts deleted
// with their author) and can pretend the database is down.
type memStore struct {
	down atomic.Bool // every call fails with ErrUnavailable

	mu       sync.Mutex
	users    map[string]*auth.User
	posts    map[int64]*auth.Post
	lastUser int64
	lastPost int64
}

var _ auth.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{users: map[string]*auth.User{}, posts: map[int64]*auth.Post{}}
}

func (m *memStore) check(ctx context.Context) error {
	if m.down.Load() {
		return fmt.Errorf("memstore: connection refused: %w", auth.ErrUnavailable)
	}
	return ctx.Err()
}

func copyUser(u *auth.User) *auth.User { c := *u; return &c }
func copyPost(p *auth.Post) *auth.Post { c := *p; return &c }

func (m *memStore) CreateUser(ctx context.Context, u *auth.User) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[u.Name]; ok {
		return fmt.Errorf("memstore: user %q: %w", u.Name, auth.ErrConflict)
	}
	m.lastUser++
	now := time.Now().UTC()
	u.ID, u.CreatedAt, u.UpdatedAt = m.lastUser, now, now
	m.users[u.Name] = copyUser(u)
	return nil
}

func (m *memStore) UserByName(ctx context.Context, name string) (*auth.User, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[name]
	if !ok {
		return nil, fmt.Errorf("memstore: user %q: %w", name, auth.ErrNotFound)
	}
	return copyUser(u), nil
}

func (m *memStore) UserByID(ctx context.Context, id int64) (*auth.User, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.users {
		if u.ID == id {
			return copyUser(u), nil
		}
	}
	return nil, fmt.Errorf("memstore: user %d: %w", id, auth.ErrNotFound)
}

func (m *memStore) ListUsers(ctx context.Context) ([]*auth.User, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*auth.User, 0, len(m.users))
	for _, u := range m.users {
		out = append(out, copyUser(u))
	}
	slices.SortFunc(out, func(a, b *auth.User) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

func (m *memStore) UpdateUser(ctx context.Context, name string, upd auth.UserUpdate) (*auth.User, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[name]
	if !ok {
		return nil, fmt.Errorf("memstore: user %q: %w", name, auth.ErrNotFound)
	}
	if upd.Role != nil {
		u.Role = *upd.Role
	}
	if upd.Disabled != nil {
		u.Disabled = *upd.Disabled
	}
	if upd.PasswordHash != nil {
		u.PasswordHash = *upd.PasswordHash
	}
	u.UpdatedAt = time.Now().UTC()
	return copyUser(u), nil
}

func (m *memStore) DeleteUser(ctx context.Context, name string) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[name]
	if !ok {
		return fmt.Errorf("memstore: user %q: %w", name, auth.ErrNotFound)
	}
	delete(m.users, name)
	for id, p := range m.posts {
		if p.AuthorID == u.ID {
			delete(m.posts, id)
		}
	}
	return nil
}

func (m *memStore) CountUsers(ctx context.Context) (int, error) {
	if err := m.check(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.users), nil
}

func (m *memStore) CreatePost(ctx context.Context, p *auth.Post) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var author *auth.User
	for _, u := range m.users {
		if u.ID == p.AuthorID {
			author = u
		}
	}
	if author == nil {
		return fmt.Errorf("memstore: author %d: %w", p.AuthorID, auth.ErrNotFound)
	}
	m.lastPost++
	p.ID, p.Author, p.CreatedAt = m.lastPost, author.Name, time.Now().UTC()
	m.posts[p.ID] = copyPost(p)
	return nil
}

func (m *memStore) Post(ctx context.Context, id int64) (*auth.Post, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.posts[id]
	if !ok {
		return nil, fmt.Errorf("memstore: post %d: %w", id, auth.ErrNotFound)
	}
	return copyPost(p), nil
}

func (m *memStore) ListPosts(ctx context.Context, limit int, before int64) ([]*auth.Post, error) {
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*auth.Post
	for _, p := range m.posts {
		if before == 0 || p.ID < before {
			out = append(out, copyPost(p))
		}
	}
	slices.SortFunc(out, func(a, b *auth.Post) int { return int(b.ID - a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) DeletePost(ctx context.Context, id int64) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.posts[id]; !ok {
		return fmt.Errorf("memstore: post %d: %w", id, auth.ErrNotFound)
	}
	delete(m.posts, id)
	return nil
}

func (m *memStore) Ping(ctx context.Context) error { return m.check(ctx) }
func (m *memStore) Close() error                   { return nil }
