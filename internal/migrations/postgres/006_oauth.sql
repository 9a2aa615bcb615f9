-- OAuth clients (OpenID Connect relying parties) and their authorization
-- codes; sessions started by a code belong to its client. URI lists are
-- newline-separated (a valid URI has no newline). Secrets and codes are
-- kept as SHA-256 only.
CREATE TABLE oauth_clients (
    id                        TEXT        PRIMARY KEY,
    name                      TEXT        NOT NULL,
    secret_hash               BYTEA,
    redirect_uris             TEXT        NOT NULL,
    post_logout_redirect_uris TEXT        NOT NULL DEFAULT '',
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_codes (
    hash           BYTEA       PRIMARY KEY,
    client_id      TEXT        NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id     TEXT        NOT NULL,
    redirect_uri   TEXT        NOT NULL,
    scope          TEXT        NOT NULL,
    nonce          TEXT        NOT NULL,
    code_challenge TEXT        NOT NULL,
    auth_time      TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ
);
CREATE INDEX oauth_codes_client ON oauth_codes (client_id);
CREATE INDEX oauth_codes_user ON oauth_codes (user_id);

-- NULL client_id: a session of jwtgate's own login.
ALTER TABLE sessions ADD COLUMN client_id TEXT REFERENCES oauth_clients (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN auth_time TIMESTAMPTZ;
CREATE INDEX sessions_client ON sessions (client_id);
