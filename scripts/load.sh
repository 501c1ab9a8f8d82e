#!/usr/bin/env bash
# Load figures for the bundled server, as ratios against a baseline measured in the same run
# (this machine is shared and noisy, so absolute numbers mean little):
#   - GET /health            baseline: one trivial database query
#   - GET /users/me          JWT verification + one session-and-user lookup
#   - POST /login            bcrypt at the configured cost (default 12), on the blocking pool;
#                            one account, whose attempts are checked one at a time by design
# Usage: scripts/load.sh [seconds per run, default 10]. Needs wrk (apt-get install wrk), curl, jq.
# Only loopback is targeted; every run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

source scripts/lib/server.sh
work=$(mktemp -d)
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

cargo build -q --release -p auth-server
start_server "$work/log" env AUTH__SERVER__PORT=0 AUTH__DATABASE__URL="sqlite://$work/auth.db" \
  AUTH__JWT__SECRET_FILE="$work/jwt-secret" AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0 \
  RUST_LOG=warn,auth_server=info target/release/auth-server
base=$SERVER_URL

curl -fsS -X POST "$base/register" -H 'Content-Type: application/json' \
  -d '{"username": "loadtest", "password": "correct horse battery"}' >/dev/null
token=$(curl -fsS -X POST "$base/login" -H 'Content-Type: application/json' \
  -d '{"username": "loadtest", "password": "correct horse battery"}' | jq -r .access_token)
cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username": "loadtest", "password": "correct horse battery"}'
LUA

# Requests per second, refusing a run in which any response was not a success.
rate() {
  local out
  out=$(wrk -t2 -c16 -d"${seconds}s" "$@")
  if grep -q 'Non-2xx' <<<"$out"; then echo "non-2xx responses in: $*" >&2; echo "$out" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}
echo "cores: $(nproc); ${seconds}s per run; 2 threads, 16 connections"
health=$(rate "$base/health")
me=$(rate -H "Authorization: Bearer $token" "$base/users/me")
login=$(rate -s "$work/login.lua" "$base/login")
printf '%-12s %10s req/s  (baseline)\n' "/health" "$health"
printf '%-12s %10s req/s  ratio to /health: %s\n' "/users/me" "$me" "$(echo "scale=3; $me / $health" | bc)"
printf '%-12s %10s req/s  = %s ms per login of one account (bcrypt cost 12; attempts on one username run one at a time)\n' "/login" "$login" "$(echo "scale=0; 1000 / $login" | bc)"
