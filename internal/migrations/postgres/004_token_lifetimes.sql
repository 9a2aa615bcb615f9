-- What each server instance records about the access tokens it issues
-- (lifetime and leeway, in milliseconds), so that revocations made by the
-- command line or another instance last as long as any server accepts the
-- tokens. Kept until the last token the instance may have issued under
-- the record stops being accepted.
CREATE TABLE token_lifetimes (
    instance   TEXT        PRIMARY KEY,
    access_ttl BIGINT      NOT NULL CHECK (access_ttl > 0),
    leeway     BIGINT      NOT NULL CHECK (leeway >= 0),
    until      TIMESTAMPTZ NOT NULL
);
CREATE INDEX token_lifetimes_until ON token_lifetimes (until);
