-- Passkeys and security keys (WebAuthn credential records). A user's
-- webauthn_handle is the WebAuthn user handle its credentials carry: 32
-- random bytes made on first use, never the user id. A credential id is
-- unique across users: the authenticator chose it at random. flags is the
-- authenticator data flags byte (UP 0x01, UV 0x04, BE 0x08, BS 0x10);
-- transports a comma-separated list. Nothing here is secret.
ALTER TABLE users ADD COLUMN webauthn_handle BYTEA;
CREATE UNIQUE INDEX users_webauthn_handle ON users (webauthn_handle);

CREATE TABLE webauthn_credentials (
    id                 BYTEA       PRIMARY KEY,
    user_id                BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rp_id              TEXT        NOT NULL,
    name               TEXT        NOT NULL,
    public_key         BYTEA       NOT NULL,
    attestation_type   TEXT        NOT NULL DEFAULT '',
    attestation_format TEXT        NOT NULL DEFAULT '',
    aaguid             BYTEA,
    transports         TEXT        NOT NULL DEFAULT '',
    attachment         TEXT        NOT NULL DEFAULT '',
    sign_count         BIGINT      NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
    flags              SMALLINT    NOT NULL DEFAULT 0 CHECK (flags BETWEEN 0 AND 255),
    created_at         TIMESTAMPTZ NOT NULL,
    last_used_at       TIMESTAMPTZ
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id, created_at);

-- The state of a registration or passwordless login between its two
-- steps, keyed by the SHA-256 of its challenge; taken (deleted) once.
-- Kept here rather than in the client so any instance can finish it.
CREATE TABLE webauthn_ceremonies (
    challenge_hash BYTEA       PRIMARY KEY,
    kind           TEXT        NOT NULL,
    user_id        BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    data           BYTEA       NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
