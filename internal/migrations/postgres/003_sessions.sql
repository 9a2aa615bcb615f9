-- Sessions (refresh-token families), refresh tokens (their SHA-256 only),
-- revocations of access tokens (by jti or sid) and signing keys.
CREATE TABLE sessions (
    id         TEXT        PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash       BYTEA       PRIMARY KEY,
    session_id TEXT        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Kept until the last access token that could carry the id has expired.
CREATE TABLE revocations (
    id         TEXT        PRIMARY KEY,
    until      TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revocations_created ON revocations (created_at);

-- The key without retire_at signs; the others verify until retire_at.
CREATE TABLE signing_keys (
    kid        TEXT        PRIMARY KEY,
    jwk        BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retire_at  TIMESTAMPTZ
);
