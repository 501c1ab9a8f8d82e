#!/usr/bin/env bash
# The HTTP figure of docs/performance.md "Token Status Lists": the axum example verifier
# (examples/axum-resource-server, release) under wrk, on three routes of the same process:
#   /bare             no token at all (the framework's own cost: the baseline)
#   /items/unchecked  TokenVerifier::verify without a status checker
#   /items            the same verifier with a StatusChecker (the list cached: a bit lookup)
# Rounds interleave the three routes; each prints req/s, and the end prints the medians, the
# ratio checked / unchecked of the medians and the median of the per-round ratios (goal >= 0.95). The auth server (any build; it only issues the
# token and serves the list every ttl) runs on a fresh SQLite database, HS256.
#
# Usage: scripts/bench-status-list.sh [seconds per run, default 5] [rounds, default 3]
# Needs wrk and curl; AUTH_SERVER_BIN (default target/debug/auth-server) must exist.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
source scripts/lib/server.sh
work=$(mktemp -d)
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

cargo build -q --release -p axum-resource-server
secret="a benchmark secret of at least thirty-two bytes"
serve_auth() {
  exec env AUTH_ENV=test AUTH_CONFIG_DIR=config AUTH__SERVER__PORT=0 \
    AUTH__DATABASE__URL="sqlite://$work/auth.db" AUTH__JWT__SECRET="$secret" \
    AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn,auth_server=info \
    "${AUTH_SERVER_BIN:-target/debug/auth-server}"
}
start_server "$work/auth.log" serve_auth
auth=$SERVER_URL
curl -fsS -X POST "$auth/register" -H 'Content-Type: application/json' \
  -d '{"username": "bench", "password": "correct horse battery"}' >/dev/null
token=$(curl -fsS -X POST "$auth/login" -H 'Content-Type: application/json' \
  -d '{"username": "bench", "password": "correct horse battery"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

serve_verifier() {
  exec env AUTH_URL="$auth" AUTH_HMAC_SECRET="$secret" BIND=127.0.0.1:0 \
    target/release/axum-resource-server
}
READY_PATH=/health start_server "$work/verifier.log" serve_verifier
verifier=$SERVER_URL
for path in /items /items/unchecked; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$verifier$path")
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
done

rate() { # PATH: req/s of one wrk run
  wrk -t2 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" "$verifier$1" |
    awk '/^Requests\/sec/ {print $2}'
}
declare -A runs
ratios=""
for round in $(seq 1 "$rounds"); do
  declare -A this=()
  for path in /bare /items/unchecked /items; do
    r=$(rate "$path")
    this[$path]=$r
    runs[$path]+="$r "
    echo "round $round $path: $r req/s"
  done
  ratios+="$(echo "${this[/items]} ${this[/items/unchecked]}" | awk '{printf "%.3f", $1 / $2}') "
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
bare=$(echo "${runs[/bare]}" | median)
unchecked=$(echo "${runs[/items/unchecked]}" | median)
checked=$(echo "${runs[/items]}" | median)
echo "medians: bare $bare, unchecked $unchecked, checked $checked req/s"
echo "checked / unchecked: $(echo "$checked $unchecked" | awk '{printf "%.3f", $1 / $2}') (of the medians)"
# The two routes run back to back in each round, so their ratio is less exposed to the host's
# drift than the ratio of medians taken minutes apart.
echo "checked / unchecked per round: $ratios-> median $(echo "$ratios" | median)"
echo "unchecked / bare: $(echo "$unchecked $bare" | awk '{printf "%.3f", $1 / $2}')"
