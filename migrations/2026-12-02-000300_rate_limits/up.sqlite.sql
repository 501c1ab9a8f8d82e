-- SQLite's variant of up.sql (crates/auth-diesel/src/connection/migrations.rs runs it instead):
-- SQLite has no UNLOGGED tables; the same columns in an ordinary one.
CREATE TABLE rate_limits (
    client_key TEXT PRIMARY KEY NOT NULL,
    tat_micros BIGINT NOT NULL
);
