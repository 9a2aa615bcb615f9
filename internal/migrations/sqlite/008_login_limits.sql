-- Login rate limits shared by the instances on one database (see the
-- PostgreSQL migration). SQLite serves one process, which keeps its limits
-- in memory: the tables stay empty, and exist so that both schemas, and
-- the purge of expired rows, are the same.
CREATE TABLE login_limits (
    key        TEXT    PRIMARY KEY CHECK (length(key) <= 64),
    tokens     REAL    NOT NULL,
    updated_at INTEGER NOT NULL,
    full_at    INTEGER NOT NULL
);
CREATE INDEX login_limits_full_at ON login_limits (full_at);
CREATE TABLE login_limit_salt (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    salt BLOB    NOT NULL
);
