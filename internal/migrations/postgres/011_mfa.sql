-- Second factors. A TOTP secret is stored encrypted (AES-GCM under a key
-- kept outside the database: a dump alone reveals no secret); last_step is
-- the newest time step a code was accepted for, so no code counts twice.
CREATE TABLE mfa_totp (
    user_id      BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_enc   BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    last_step    BIGINT      NOT NULL DEFAULT 0
);

-- Recovery codes, as SHA-256 only; a used one keeps its row until the
-- codes are regenerated, so that it stays refused.
CREATE TABLE mfa_recovery (
    user_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BYTEA       NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, hash)
);

-- Challenges: the second step of a login (mfa_token) and WebAuthn
-- ceremonies, by the SHA-256 of their token, so that any instance on the
-- database can answer one another issued. user_id is NULL for a
-- ceremony that names no user yet (a passwordless sign-in).
CREATE TABLE mfa_challenges (
    hash       BYTEA       PRIMARY KEY,
    user_id    BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    client_ip  TEXT        NOT NULL DEFAULT '',
    kind       TEXT        NOT NULL,
    data       BYTEA       NOT NULL,
    attempts   INTEGER     NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);

-- How a session's user authenticated (the amr claim, space-separated), so
-- that refreshed tokens keep it.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
-- An authorization code carries the browser session's amr to the
-- client's session.
ALTER TABLE oauth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '';
