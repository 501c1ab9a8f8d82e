-- The record of each user `auth-server import-users` created, written in the same transaction
-- as the user: the hash the source held, and the user's credential generation as the import
-- left it. A later import tells an account it imported (a record) from one someone registered
-- under the same name (none), and `--update-hashes` replaces the hash only while the generation
-- is still the recorded one (the password was not changed here since).
CREATE TABLE user_imports (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    credential_generation BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
