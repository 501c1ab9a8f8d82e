CREATE TABLE cache_invalidations_old (
    id BIGINT PRIMARY KEY NOT NULL,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
INSERT INTO cache_invalidations_old (id, payload, at)
    SELECT id, payload, at FROM cache_invalidations;
DROP TABLE cache_invalidations;
ALTER TABLE cache_invalidations_old RENAME TO cache_invalidations;
CREATE INDEX cache_invalidations_at_idx ON cache_invalidations (at);
