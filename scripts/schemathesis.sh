#!/usr/bin/env bash
# Property-based contract test: schemathesis generates requests from GET /openapi.json (valid
# ones, and invalid ones: wrong types, huge values, odd unicode, missing fields) and checks
# every answer against the document: never a 5xx, every status documented, every body matching
# its schema, the right content type, 405 with Allow for undocumented methods, auth enforced.
#
# The real binary (debug build) runs on a free port with a fresh SQLite database in a temporary
# folder, with:
#   AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0        thousands of requests come from one address;
#   AUTH__SECURITY__MAX_FAILED_LOGINS(_PER_USER)   generated wrong passwords (at /login, /token,
#                                                  and current_password at /profile, /api-keys)
#                                                  would otherwise lock the test account out;
#   AUTH__METRICS__ENABLED=true                    so that GET /metrics is served, not a 404.
# Lockout and rate limiting have their own tests (crates/auth-server/tests/api).
#
# Usage: scripts/schemathesis.sh            (SCHEMATHESIS_MAX_EXAMPLES, default 100 per operation;
#                                            SCHEMATHESIS_SEED, default 1; SCHEMATHESIS_TIMEOUT,
#                                            default 480: seconds for all the runs together, after
#                                            the build; AUTH_SERVER_BIN, a prebuilt binary: then
#                                            cargo is not run)
# Exits non-zero on any failure. Needs python3 (3.9+), curl and jq. The server's log and the
# reports are left in <target dir>/schemathesis-results.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
seed=${SCHEMATHESIS_SEED:-1}
budget=${SCHEMATHESIS_TIMEOUT:-480}
password='schemathesis passphrase 7'
# The accounts' password, for scripts/schemathesis.toml (`current_password` of some operations).
export SCHEMATHESIS_PASSWORD=$password

if [ -n "${AUTH_SERVER_BIN:-}" ]; then
  server=$AUTH_SERVER_BIN
  target_dir=$(dirname "$(dirname "$server")")
else
  target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
  cargo build -q -p auth-server
  server="$target_dir/debug/auth-server"
fi
venv="$target_dir/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -x "$venv/bin/schemathesis" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" || { rm -rf "$venv"; exit 1; }
fi
"$venv/bin/schemathesis" --version

source scripts/lib/server.sh
work=$(mktemp -d)
# The server's log and schemathesis' reports (JUnit, and NDJSON events) are kept here.
results="$target_dir/schemathesis-results"
rm -rf "$results" && mkdir -p "$results"
cleanup() {
  stop_servers
  cp "$work/server.log" "$results/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export AUTH_ENV=test AUTH_CONFIG_DIR="$PWD/config"
export AUTH__DATABASE__URL="sqlite://$work/auth.db"
export AUTH__JWT__SECRET_FILE="$work/jwt-secret"
export AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0
export AUTH__SECURITY__MAX_FAILED_LOGINS=1000000
export AUTH__SECURITY__MAX_FAILED_LOGINS_PER_USER=1000000
# GET /metrics answers (Prometheus text) only when metrics are on; off, it is a JSON 404.
export AUTH__METRICS__ENABLED=true
export RUST_LOG=warn

start_server "$work/server.log" env AUTH__SERVER__PORT=0 RUST_LOG=info "$server"
addr=$SERVER_URL
echo "server at $addr"

# Accounts are made and logged in right before the run that uses them (see the runs below).
login() { # username
  curl -fsS -X POST "$addr/login" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$password\"}" | jq -r .access_token
}
admin() { # username: an admin, as `auth-server create-admin` makes one
  printf '%s\n' "$password" | "$server" create-admin --username "$1" >/dev/null
}
user() { # username
  curl -fsS -o /dev/null -X POST "$addr/register" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$password\"}"
}
api_key() { # token
  curl -fsS -X POST "$addr/api-keys" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' \
    -d "{\"name\": \"schemathesis\", \"current_password\": \"$password\"}" | jq -r .key
}

# One run of schemathesis with the settings of scripts/schemathesis.toml. One worker: Python
# 3.11 before 3.11.8 can fail parsing in parallel threads ("AST constructor recursion depth
# mismatch"), which hypothesis does to describe its strategies.
deadline=$((SECONDS + budget))
run() {
  local name=$1 left=$((deadline - SECONDS))
  shift
  echo
  echo "== schemathesis: $name"
  if [ "$left" -le 0 ]; then
    echo "out of time (SCHEMATHESIS_TIMEOUT=$budget s for all runs)" >&2
    return 1
  fi
  timeout --signal=INT --kill-after=30 "$left" \
    "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$addr/openapi.json" \
    --checks all \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 1 \
    --generation-database none \
    --report junit,ndjson --report-dir "$results/$name" \
    --no-color \
    "$@"
}

# Some operations end the caller's session, after which every request of the run could only
# test the 401: POST /logout, DELETE /sessions/{id} (schemathesis reuses ids it has seen, such as
# the caller's own session from GET /sessions) and DELETE /admin/users/{id}/sessions (the
# caller's own id from GET /profile). Each runs on its own, as an account of its own; the main
# runs leave them out. The main account is the only admin, so that the admin API is exercised
# (not only refused) and yet cannot demote, disable or delete it (409 `last_admin`); it stays
# the only one because PATCH /admin/users/{id} never sends `"role": "admin"`
# (scripts/schemathesis.toml). It has an API key, so that the key-only route and the "key ok"
# routes see a real key.
session_enders=(--exclude-operation-id logout --exclude-operation-id delete_session
  --exclude-operation-id end_user_sessions)
status=0
admin st-admin
token=$(login st-admin)
key=$(api_key "$token")
# 1. Every other operation, generated one by one: examples, coverage (boundaries and each
#    kind of invalid value), fuzzing.
run stateless -H "Authorization: Bearer $token" -H "X-API-Key: $key" \
  --phases examples,coverage,fuzzing "${session_enders[@]}" || status=1
# 2. The same operations chained through the links schemathesis infers from the responses.
run stateful -H "Authorization: Bearer $token" -H "X-API-Key: $key" \
  --phases stateful "${session_enders[@]}" || status=1
# 3-5. The session enders, each as a new account (run 5 as a second admin: it is the last run).
user st-logout
run logout -H "Authorization: Bearer $(login st-logout)" --include-operation-id logout || status=1
user st-sessions
run delete-session -H "Authorization: Bearer $(login st-sessions)" \
  --include-operation-id delete_session || status=1
admin st-admin-2
run end-user-sessions -H "Authorization: Bearer $(login st-admin-2)" \
  --include-operation-id end_user_sessions || status=1

# What ran: generated requests per operation and phase, from the runs' NDJSON reports.
"$venv/bin/python" - "$results" <<'PY'
import collections, glob, json, os, sys

per_operation = collections.defaultdict(collections.Counter)
stateful = 0
for report in glob.glob(os.path.join(sys.argv[1], "*", "ndjson-*.ndjson")):
    for line in open(report, encoding="utf-8"):
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        cases = len(finished["recorder"].get("cases", {}))
        if finished["phase"] == "stateful":
            stateful += cases
        else:
            per_operation[finished["recorder"]["label"]][finished["phase"]] += cases
print("\n== generated requests per operation (examples + coverage + fuzzing)")
for label, phases in sorted(per_operation.items(), key=lambda item: item[0].split()[1]):
    detail = ", ".join(f"{phase} {count}" for phase, count in sorted(phases.items()))
    print(f"{sum(phases.values()):6d}  {label:36s} ({detail})")
total = sum(sum(phases.values()) for phases in per_operation.values())
print(f"{len(per_operation)} operations, {total} requests one by one, {stateful} in stateful scenarios")
PY

if grep -q 'panicked' "$work/server.log"; then
  echo "the server panicked:" >&2; grep -A5 'panicked' "$work/server.log" >&2; status=1
fi
if grep -q ' status=5[0-9][0-9] ' "$work/server.log"; then
  echo "the server answered 5xx:" >&2; grep ' status=5[0-9][0-9] ' "$work/server.log" >&2; status=1
fi
[ "$status" = 0 ] && echo "schemathesis: no failures" || echo "schemathesis: FAILED" >&2
exit "$status"
