-- The audit trail: security events (auth.AuditEvent). No foreign keys:
-- an event outlives the user, session or client it names. Never a
-- password, secret or token. user_key and actor_key are auth.NameKey of
-- user and actor, what a search by user matches.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    event      TEXT    NOT NULL,
    actor      TEXT    NOT NULL DEFAULT '',
    actor_key  TEXT    NOT NULL DEFAULT '',
    username   TEXT    NOT NULL DEFAULT '',
    user_key   TEXT    NOT NULL DEFAULT '',
    user_id    INTEGER NOT NULL DEFAULT 0,
    client_ip  TEXT    NOT NULL DEFAULT '',
    session_id TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL DEFAULT '',
    key_id     TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user ON audit_events (user_key, id);
CREATE INDEX audit_events_actor ON audit_events (actor_key, id);
