#!/usr/bin/env bash
# Grows a migrated database to N users in total, quickly, for measuring at scale: each new user
# (grown<i>, email grown<i>@grown.example) gets an active session, its refresh token and a
# `register` audit event, as a real registration and login would leave them.
#
#   scripts/grow.sh N DATABASE_URL
#   scripts/grow.sh 1000000 sqlite://data/big.db
#   scripts/grow.sh 1000000 postgres://postgres@127.0.0.1:5432/big
#
# - Stop the server first (SQLite allows one writer; a running server would also cache users).
# - The schema must exist: start the server once, or run `auth-server migrate`.
# - Every new user has the password "grown users password", as one bcrypt hash (cost 12)
#   computed once and reused: hashing a million passwords would take days.
# - Users are created one second apart, ending a minute before now, so they are older than any
#   user registered afterwards. SQLite times are written in the exact text form diesel writes
#   ("YYYY-MM-DD HH:MM:SS" for whole seconds), because SQLite compares times as text.
# - Needs sqlite3 (Debian: apt-get install -y sqlite3) or psql (postgresql-client).
# - PostgreSQL: ends with VACUUM ANALYZE, as autovacuum would soon do. SQLite: no ANALYZE, as a
#   real deployment has none (the queries must not depend on statistics).
# Here (2 cores): 37 s for a million users on SQLite (a 1.27 GB file), 73 s on PostgreSQL.
set -euo pipefail
if [ $# -ne 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 N DATABASE_URL   (sqlite://PATH or postgres://...)" >&2
  exit 2
fi
target=$1
url=$2
# bcrypt (cost 12) of "grown users password", made once with the server's own hasher.
hash='$2b$12$fgqi6YqHUnf9SNBGt.Ekjuk8u7wGGafArD8LaH/iNvEI256Ng6qT.'

case "$url" in
sqlite://*)
  db=${url#sqlite://}
  [ -f "$db" ] || { echo "no database at $db: run auth-server migrate first" >&2; exit 1; }
  command -v sqlite3 >/dev/null || { echo "needs sqlite3: apt-get install -y sqlite3" >&2; exit 1; }
  have=$(sqlite3 "$db" 'SELECT count(*) FROM users;')
  ;;
postgres://* | postgresql://*)
  command -v psql >/dev/null || { echo "needs psql: apt-get install -y postgresql-client" >&2; exit 1; }
  have=$(psql "$url" -XAtq -v ON_ERROR_STOP=1 -c 'SELECT count(*) FROM users;')
  ;;
*)
  echo "unsupported DATABASE_URL: use sqlite://PATH or postgres://..." >&2
  exit 2
  ;;
esac
if [ "$have" -ge "$target" ]; then
  echo "already $have users (>= $target): nothing to do"
  exit 0
fi
first=$((have + 1))
echo "adding users grown$first..grown$target ($((target - have)) users) to $have"
start=$(date +%s)

case "$url" in
sqlite://*)
  # A UUID v4 in SQL: random hex with the version and variant digits set.
  uuid="lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2)
        || '-' || hex(randomblob(6)))"
  # Times: whole seconds, the last user a minute before now.
  sqlite3 -bail "$db" >/dev/null <<SQL
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
PRAGMA temp_store = MEMORY;
BEGIN;
CREATE TEMP TABLE grow (i INTEGER PRIMARY KEY, user_id TEXT, session_id TEXT, at INTEGER);
WITH RECURSIVE n(i) AS (SELECT $first UNION ALL SELECT i + 1 FROM n WHERE i < $target)
INSERT INTO grow SELECT i, $uuid, $uuid, CAST(strftime('%s', 'now') AS INTEGER) - 60 - ($target - i) FROM n;
INSERT INTO users (id, username, username_normalized, email, email_normalized, password_hash,
                   role, is_active, created_at, updated_at)
SELECT user_id, 'grown' || i, 'grown' || i, 'grown' || i || '@grown.example',
       'grown' || i || '@grown.example', '$hash', 'user', 1,
       datetime(at, 'unixepoch'), datetime(at, 'unixepoch')
FROM grow ORDER BY i;
INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, expires_at,
                      revoked_at, user_agent, ip, api_key_id)
SELECT session_id, user_id, datetime(at, 'unixepoch'), datetime(at, 'unixepoch'),
       datetime(at + 14 * 86400, 'unixepoch'), datetime(at + 90 * 86400, 'unixepoch'),
       NULL, 'grow.sh', '127.0.0.1', NULL
FROM grow ORDER BY i;
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, superseded_at)
SELECT lower(hex(randomblob(32))), session_id, datetime(at, 'unixepoch'), NULL FROM grow ORDER BY i;
INSERT INTO audit_events (id, at, action, outcome, actor_id, target_id, ip, detail)
SELECT $uuid, datetime(at, 'unixepoch'), 'register', 'success', user_id, user_id, '127.0.0.1', NULL
FROM grow ORDER BY i;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  ;;
*)
  psql "$url" -XAtq -v ON_ERROR_STOP=1 <<SQL
BEGIN;
CREATE TEMP TABLE grow ON COMMIT DROP AS
SELECT i, gen_random_uuid()::text AS user_id, gen_random_uuid()::text AS session_id,
       date_trunc('second', now() AT TIME ZONE 'UTC') - (60 + $target - i) * interval '1 second' AS at
FROM generate_series($first, $target) AS i;
INSERT INTO users (id, username, username_normalized, email, email_normalized, password_hash,
                   role, is_active, created_at, updated_at)
SELECT user_id, 'grown' || i, 'grown' || i, 'grown' || i || '@grown.example',
       'grown' || i || '@grown.example', '$hash', 'user', true, at, at
FROM grow ORDER BY i;
INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, expires_at,
                      revoked_at, user_agent, ip, api_key_id)
SELECT session_id, user_id, at, at, at + interval '14 days', at + interval '90 days',
       NULL, 'grow.sh', '127.0.0.1', NULL
FROM grow ORDER BY i;
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, superseded_at)
SELECT encode(sha256(session_id::bytea), 'hex'), session_id, at, NULL FROM grow ORDER BY i;
INSERT INTO audit_events (id, at, action, outcome, actor_id, target_id, ip, detail)
SELECT gen_random_uuid()::text, at, 'register', 'success', user_id, user_id, '127.0.0.1', NULL
FROM grow ORDER BY i;
COMMIT;
VACUUM ANALYZE users;
VACUUM ANALYZE sessions;
VACUUM ANALYZE refresh_tokens;
VACUUM ANALYZE audit_events;
SQL
  ;;
esac
echo "done in $(($(date +%s) - start)) s: $target users"
