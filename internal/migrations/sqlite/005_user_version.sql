-- Users get a version, which advances with every change that ends their
-- sessions (a password, role or disabled change): a session is stored only
-- for the version its login read. And user ids are never reused: a plain
-- INTEGER PRIMARY KEY takes max(id) + 1, which hands a deleted user's id
-- (the sub of their tokens) to the next user, where AUTOINCREMENT keeps
-- the highest id ever given in sqlite_sequence.
--
-- SQLite cannot add AUTOINCREMENT to a table, so users is rebuilt. The
-- migration runs with foreign keys off (posts and sessions go on referring
-- to "users" by name) and foreign_key_check must pass before it commits.
-- name_key is NOT NULL here, which the triggers of 002 stood in for; they
-- go with the old table. A user deleted before this migration whose id
-- was the highest can have that id given once more: it is recorded nowhere.
CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'reader')),
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    name_key      TEXT    NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
INSERT INTO users_new (id, name, role, password_hash, disabled, created_at, updated_at, name_key)
    SELECT id, name, role, password_hash, disabled, created_at, updated_at, name_key FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_name_key ON users (name_key);
