-- An admin who sets a user's password marks it to be changed: the user
-- chooses their own at the next login.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
-- Admin search and paging compare name_key in byte order (COLLATE "C"),
-- as SQLite's BINARY index does; the index of 002 has the database's
-- collation, which serves neither prefix ranges nor that order unless the
-- database's collation is C.
CREATE INDEX users_name_key_bytes ON users (name_key COLLATE "C");
