-- An admin who sets a user's password marks it to be changed: the user
-- chooses their own at the next login. (Admin search and paging use the
-- users_name_key index of 005: name_key's BINARY collation is byte order.)
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
