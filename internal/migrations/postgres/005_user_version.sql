-- Users get a version, which advances with every change that ends their
-- sessions (a password, role or disabled change): a session is stored only
-- for the version its login read. (User ids come from an identity column,
-- whose sequence never gives an id twice; SQLite's 005 makes its ids so.)
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
