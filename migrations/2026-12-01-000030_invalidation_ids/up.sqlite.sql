-- SQLite's variant of up.sql (crates/auth-diesel/src/connection/migrations.rs runs it instead):
-- rebuilds cache_invalidations with INTEGER PRIMARY KEY AUTOINCREMENT, whose next id comes from
-- sqlite_sequence (never lowered by a delete), not from the rows left. The rows are kept, and
-- copying them sets the sequence to their highest id; a rebuild of a table a prune has already
-- emptied starts at 0 like the old one would, and every process reads the newest id again when
-- it starts (which it does after this migration).
CREATE TABLE cache_invalidations_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
INSERT INTO cache_invalidations_new (id, payload, at)
    SELECT id, payload, at FROM cache_invalidations ORDER BY id;
DROP TABLE cache_invalidations;
ALTER TABLE cache_invalidations_new RENAME TO cache_invalidations;
CREATE INDEX cache_invalidations_at_idx ON cache_invalidations (at);
