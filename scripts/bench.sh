#!/usr/bin/env bash
# The figures of docs/performance.md, each as a ratio against a baseline measured in the same
# run (this machine is shared and noisy, so absolute numbers mean little):
#
#   1. GET /profile req/s, 32 connections, against a bare actix handler (examples/bare.rs)
#      goal: >= 0.5 x the bare handler
#   2. logins/s, 8 connections over 16 accounts, bcrypt cost 12, against
#      cores / (one sequential login's time)                       goal: >= 0.9
#   3. GET /profile p99 while those logins saturate the CPU        goal: <= 20 ms
#   4. the slowest GET /profile during a flood of 600 concurrent logins from 20 client
#      addresses, bcrypt cost 10                                    goal: < 250 ms
#
# Usage: scripts/bench.sh [seconds per run, default 10]. Needs wrk (installed if missing),
# curl, jq, bc. Builds the release binaries. Only loopback is targeted; every run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
for tool in wrk jq bc; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool"; }
done

source scripts/lib/server.sh
work=$(mktemp -d)
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

cargo build -q --release -p auth-server --bin auth-server --example bare
cores=$(nproc)

# start NAME COMMAND...: runs it in the background until it is ready; sets SERVER_URL.
start() {
  local name=$1; shift
  start_server "$work/$name.log" "$@"
}

# server NAME COST: the release server on a fresh SQLite database with bcrypt at COST.
server() {
  exec env AUTH__SERVER__PORT=0 AUTH__DATABASE__URL="sqlite://$work/$1.db" \
    AUTH__JWT__SECRET_FILE="$work/$1-jwt-secret" AUTH__PASSWORD__BCRYPT_COST="$2" \
    AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0 AUTH__SECURITY__MAX_FAILED_LOGINS=1000000 \
    AUTH__SERVER__TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn,auth_server=info \
    target/release/auth-server
}

register_accounts() { # BASE N
  for i in $(seq 1 "$2"); do
    curl -fsS -X POST "$1/register" -H 'Content-Type: application/json' \
      -d "{\"username\": \"bench$i\", \"password\": \"correct horse battery $i\"}" >/dev/null
  done
}

token_of() { # BASE
  curl -fsS -X POST "$1/login" -H 'Content-Type: application/json' \
    -d '{"username": "bench1", "password": "correct horse battery 1"}' | jq -r .access_token
}

# A wrk script: logins over ACCOUNTS accounts, from CLIENTS addresses (X-Forwarded-For).
login_script() { # ACCOUNTS CLIENTS
  cat <<LUA
local n = 0
request = function()
  n = n + 1
  local account = (n % $1) + 1
  local client = (n % $2) + 1
  local body = '{"username": "bench' .. account .. '", "password": "correct horse battery ' .. account .. '"}'
  return wrk.format("POST", "/login", {["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = "198.51.100." .. client}, body)
end
LUA
}

field() { awk -v k="$1" '$1 == k {print $2}'; }
rate_of() { awk '/Requests\/sec/ {print $2}'; }
ms() { # a wrk latency like 812.00us, 3.20ms, 1.02s -> milliseconds
  awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
         else if (v ~ /ms$/) { sub(/ms$/, "", v) }
         else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } ; printf "%.2f\n", v }'
}

echo "cores: $cores; ${seconds}s per run"

# 1. Authenticated reads against the bare handler.
PORT=0 READY_PATH=/profile start bare target/release/examples/bare
bare=$SERVER_URL
start main server main 12
main=$SERVER_URL
register_accounts "$main" 16
token=$(token_of "$main")
curl -fsS "$main/profile" -H "Authorization: Bearer $token" >/dev/null
bare_rate=$(wrk -t2 -c32 -d"${seconds}s" "$bare/profile" | rate_of)
profile_rate=$(wrk -t2 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" "$main/profile" | rate_of)
printf '1. GET /profile: %s req/s; bare handler %s req/s; ratio %s (goal >= 0.5)\n' \
  "$profile_rate" "$bare_rate" "$(echo "scale=3; $profile_rate / $bare_rate" | bc)"

# 2. Login throughput against cores / one sequential login's time.
login_script 16 1 >"$work/logins.lua"
sequential=$(wrk -t1 -c1 -d"${seconds}s" -s "$work/logins.lua" "$main/login" | rate_of)
parallel=$(wrk -t2 -c8 -d"${seconds}s" -s "$work/logins.lua" "$main/login" | rate_of)
printf '2. logins/s: %s with 8 connections; one at a time %s (%s ms each); ratio to %s cores / that: %s (goal >= 0.9)\n' \
  "$parallel" "$sequential" "$(echo "scale=1; 1000 / $sequential" | bc)" "$cores" \
  "$(echo "scale=3; $parallel / ($cores * $sequential)" | bc)"

# 3. Reads while logins saturate the CPU.
wrk -t1 -c8 -d"$((seconds + 2))s" -s "$work/logins.lua" "$main/login" >"$work/busy.out" &
busy=$!
sleep 1
reads=$(wrk -t1 -c32 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$main/profile")
wait "$busy"
p99=$(grep -E '^ +99%' <<<"$reads" | awk '{print $2}' | ms)
printf '3. GET /profile p99 while logins saturate the CPU: %s ms at %s req/s; logins meanwhile: %s/s (goal p99 <= 20 ms)\n' \
  "$p99" "$(rate_of <<<"$reads")" "$(rate_of <"$work/busy.out")"

# 4. A flood of 600 concurrent logins from 20 clients at cost 10; the slowest read meanwhile.
start flood server flood 10
flood=$SERVER_URL
register_accounts "$flood" 16
flood_token=$(token_of "$flood")
login_script 16 20 >"$work/flood.lua"
wrk -t2 -c600 -d"$((seconds + 2))s" -s "$work/flood.lua" "$flood/login" >"$work/flood.out" 2>&1 &
storm=$!
sleep 1
reads=$(wrk -t1 -c4 -d"${seconds}s" --latency -H "Authorization: Bearer $flood_token" "$flood/profile")
wait "$storm"
slowest=$(grep -E '^ +Latency +[0-9]' <<<"$reads" | awk '{print $4}' | ms)
shed=$(grep -oE 'Non-2xx or 3xx responses: [0-9]+' "$work/flood.out" | awk '{print $NF}')
printf '4. slowest GET /profile during 600 concurrent logins from 20 clients: %s ms (goal < 250 ms); logins %s/s, %s answered 503/429 (shed)\n' \
  "$slowest" "$(rate_of <"$work/flood.out")" "${shed:-0}"
