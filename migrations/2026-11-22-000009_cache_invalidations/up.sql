-- SQLite has no NOTIFY: every change that makes a cached credential invalid is also written
-- here, in the transaction that makes it, and every process that serves the file reads what is
-- new (the server while `auth-server users disable` runs beside it, say). PostgreSQL announces
-- the same changes with NOTIFY instead, and leaves this table empty.
CREATE TABLE cache_invalidations (
    id BIGINT PRIMARY KEY NOT NULL,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX cache_invalidations_at_idx ON cache_invalidations (at);
