#!/usr/bin/env bash
# Times the admin listing calls against a (grown) database, as docs/performance.md records them.
#
#   cargo build --release -p auth-server
#   scripts/grow.sh 1000000 sqlite:///tmp/big.db      # after `auth-server migrate` on it
#   scripts/admin-listing-bench.sh sqlite:///tmp/big.db [runs, default 5]
#
# Migrates DATABASE_URL with the server binary (AUTH_SERVER, default
# target/release/auth-server), timed: on a grown database that builds the new indexes. Then
# starts the server on a free loopback port over it, creates the admin
# `benchadmin` with `auth-server create-admin` (password on standard input), logs in, and calls
# each listing once to warm the caches and then `runs` times, printing the median and every
# time (curl's time_total, in ms). The later-page calls take their cursor from the `next` of a
# page fetched (untimed) by offset; a server without cursors prints "-" for them.
# Needs curl, jq and bc. Nothing but loopback is contacted; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: $0 DATABASE_URL [runs]}
runs=${2:-5}
server=${AUTH_SERVER:-target/release/auth-server}
[ -x "$server" ] || { echo "no $server: cargo build --release -p auth-server" >&2; exit 1; }
command -v jq >/dev/null || { echo "needs jq: apt-get install -y jq" >&2; exit 1; }

source scripts/lib/server.sh
work=$(mktemp -d)
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT
export AUTH__DATABASE__URL=$url AUTH__JWT__SECRET_FILE=$work/jwt-secret
export AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn,auth_server=info
password='bench admin passphrase, long enough'

# Migrating a grown database builds the new indexes: say how long that takes.
start=$(date +%s.%N)
"$server" migrate 2>/dev/null
printf 'migrate: %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
echo "$password" | "$server" create-admin --username benchadmin >/dev/null 2>&1
start_server "$work/log" env AUTH__SERVER__PORT=0 "$server"
base=$SERVER_URL
token=$(curl -fsS -X POST "$base/login" -H 'Content-Type: application/json' \
  -d "{\"username\": \"benchadmin\", \"password\": \"$password\"}" | jq -r .access_token)
get() { curl -fsS -H "Authorization: Bearer $token" "$base$1"; }

# Cursors for the later pages, from untimed calls (null with a server that has no cursors).
deep_user=$(get '/admin/users?limit=50&offset=499950&total=false' | jq -r '.next // empty')
search_next=$(get '/admin/users?q=grown&limit=50' | jq -r '.next // empty')
# grown99999 is the 99,999th user; the next users starting with grown99 are the 990,000th on.
gap=$(get '/admin/users?q=grown99999&limit=1' | jq -r '.next // empty')
deep_event=$(get '/admin/audit?limit=50&offset=499950&total=false' | jq -r '.next // empty')
someone=$(get '/admin/users?q=grown500000&limit=1' | jq -r '.users[0].id')
users=$(get '/admin/users?limit=1&total=true' | jq -r '.total')

# Prints: the call, the median and every time in ms, and what came back.
measure() {
  local path=$1 times=() out status
  if [[ $path == *'after=&'* || $path == *'after=' ]]; then
    printf '%-58s %9s\n' "$path<next>" "-"
    return
  fi
  get "$path" >/dev/null # warm
  for _ in $(seq 1 "$runs"); do
    out=$(curl -sS -o "$work/body" -w '%{http_code} %{time_total}' \
      -H "Authorization: Bearer $token" "$base$path")
    status=${out% *}
    [ "$status" = 200 ] || { echo "$path: HTTP $status: $(cat "$work/body")" >&2; exit 1; }
    times+=("$(echo "${out#* } * 1000" | bc)")
  done
  local sorted median items
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(sed -n "$(((runs + 1) / 2))p" <<<"$sorted")
  items=$(jq -r '"\((.users // .events) | length) items, total \(.total), next \(if .next then "yes" else "null" end)"' "$work/body")
  printf '%-58s %6.0f ms  [%s]  %s\n' "${path//after=?????????????????????????????????????????????????/after=<next>}" "$median" \
    "$(printf '%.0f ' "${times[@]}" | sed 's/ $//')" "$items"
}

echo "server: $server; database: ${url%%://*}; users: $users; runs: $runs (median, then each)"
measure '/admin/users?limit=50'
measure '/admin/users?limit=50&total=true'
measure "/admin/users?limit=50&after=$deep_user"
measure '/admin/users?limit=50&offset=500000'
measure '/admin/users?q=grown99999'
measure '/admin/users?q=bench'
measure '/admin/users?q=grown&limit=50'
measure "/admin/users?q=grown&limit=50&after=$search_next"
measure '/admin/users?q=grown&limit=50&total=true'
measure '/admin/users?q=grown5&limit=50'
measure '/admin/users?q=grown99&limit=50'
measure "/admin/users?q=grown99&limit=50&after=$gap"
measure '/admin/audit?limit=50'
measure '/admin/audit?limit=50&total=true'
measure "/admin/audit?limit=50&after=$deep_event"
measure '/admin/audit?limit=50&offset=500000'
measure "/admin/audit?user=$someone&limit=50"
