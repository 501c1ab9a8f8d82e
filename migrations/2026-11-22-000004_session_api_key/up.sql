-- A session opened by exchanging an API key remembers the key: it has the key's limits (it
-- cannot manage keys, sessions or the password) and ends when the key is revoked.
ALTER TABLE sessions ADD COLUMN api_key_id TEXT;
CREATE INDEX sessions_api_key_id_idx ON sessions (api_key_id);
