-- Usernames are unique ignoring case in every script: name_key holds the
-- name case-folded by the application (the same function as SQLite's), and
-- a unique index guards it. lower() fills rows written before this
-- migration; it folds the same as the application for all but a few
-- scripts' special cases.
ALTER TABLE users ADD COLUMN name_key TEXT;
UPDATE users SET name_key = lower(name);
ALTER TABLE users ALTER COLUMN name_key SET NOT NULL;
CREATE UNIQUE INDEX users_name_key ON users (name_key);
