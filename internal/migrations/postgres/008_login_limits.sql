-- Login rate limits shared by the instances on one database: a token
-- bucket per key. A key is a limit's name and a keyed hash (HMAC-SHA-256
-- with login_limit_salt's salt) of what it limits, a client address or a
-- username, so neither is stored in clear. tokens were left at
-- updated_at; full_at is when the bucket is full again, after which the
-- row means nothing and is purged.
CREATE TABLE login_limits (
    key        TEXT             PRIMARY KEY CHECK (length(key) <= 64),
    tokens     DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ      NOT NULL,
    full_at    TIMESTAMPTZ      NOT NULL
);
CREATE INDEX login_limits_full_at ON login_limits (full_at);
-- The key of the hashes, made by the first server that needs it.
CREATE TABLE login_limit_salt (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    salt BYTEA   NOT NULL
);
