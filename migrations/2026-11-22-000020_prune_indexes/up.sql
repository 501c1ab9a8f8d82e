-- Pruning (`auth-server prune`, and the server every maintenance.prune_interval_secs) finds
-- ended sessions and quiet login-throttle rows by these columns, a batch at a time.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_idle_expires_at_idx ON sessions (idle_expires_at);
CREATE INDEX login_throttles_updated_at_idx ON login_throttles (updated_at);
