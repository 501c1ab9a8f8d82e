-- Per-client request budgets shared by every instance (security.rate_limit_store = "database"):
-- one row per client key holding its GCRA "theoretical arrival time" in microseconds since the
-- epoch. A request is one upsert that moves it on, or leaves it when the budget is spent.
--
-- This file is PostgreSQL's: UNLOGGED, since the rows are worth nothing after a crash (an
-- emptied table is a full budget for everyone) and need no WAL on every limited request.
-- SQLite runs up.sqlite.sql instead (crates/auth-diesel/src/connection/migrations.rs).
CREATE UNLOGGED TABLE rate_limits (
    client_key TEXT PRIMARY KEY NOT NULL,
    tat_micros BIGINT NOT NULL
);
