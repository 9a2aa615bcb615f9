-- What the sessions list shows its user: the client's address and user
-- agent at login, and the time of the session's latest refresh (NULL
-- until its first).
ALTER TABLE sessions ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_refreshed_at INTEGER;
