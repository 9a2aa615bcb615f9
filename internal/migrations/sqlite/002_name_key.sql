-- Usernames are unique ignoring case in every script. The NOCASE UNIQUE on
-- users.name (001) folds only ASCII, so "Émile" and "émile" could both
-- exist. name_key holds the name folded by the application (nameKey in
-- namekey.go); lookups compare it and a unique index guards it. The column
-- is added rather than the table rebuilt because dropping users would
-- cascade to posts. If two existing names differ only in non-ASCII case,
-- creating the index fails and this migration is rolled back: rename one
-- of them and start again.
ALTER TABLE users ADD COLUMN name_key TEXT;
UPDATE users SET name_key = jwtgate_name_key(name);
CREATE UNIQUE INDEX users_name_key ON users (name_key);

-- ADD COLUMN cannot add NOT NULL without a default; these triggers stand in
-- for it, so a row written by another tool cannot dodge the unique index
-- with a NULL key.
CREATE TRIGGER users_name_key_insert BEFORE INSERT ON users
WHEN NEW.name_key IS NULL
BEGIN
    SELECT RAISE(ABORT, 'NOT NULL constraint failed: users.name_key');
END;
CREATE TRIGGER users_name_key_update BEFORE UPDATE OF name, name_key ON users
WHEN NEW.name_key IS NULL
BEGIN
    SELECT RAISE(ABORT, 'NOT NULL constraint failed: users.name_key');
END;
