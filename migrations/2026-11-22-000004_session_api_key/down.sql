DROP INDEX sessions_api_key_id_idx;
ALTER TABLE sessions DROP COLUMN api_key_id;
