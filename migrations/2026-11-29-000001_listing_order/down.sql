CREATE INDEX audit_events_at_idx ON audit_events (at);
DROP INDEX audit_events_at_id_idx;
DROP INDEX users_created_at_id_idx;
