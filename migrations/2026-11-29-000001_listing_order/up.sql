-- The admin listings read their pages in index order: users oldest first by (created_at, id),
-- audit events newest first by (at, id) (an index serves either direction). A page after a
-- cursor is then one range read of `limit` entries, however deep; the id orders equal times.
-- Prefix search (on username_normalized and email_normalized) uses the unique indexes the
-- first migration made.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX audit_events_at_id_idx ON audit_events (at, id);
-- Served by the new index, whose first column it is.
DROP INDEX audit_events_at_idx;
