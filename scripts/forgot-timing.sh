#!/usr/bin/env bash
# Does POST /password/forgot tell, by its time, whether an account exists? Measures its latency
# against the real binary (SQLite, file transport, rate limits off) for five kinds of name, in
# interleaved rounds (each round asks once for each kind, in a random order), and prints the
# median and 90th percentile of each kind and its median's ratio to an unknown name's:
#
#   unknown        no such account
#   no_email       an active account without an address
#   disabled       a disabled account with an address
#   sent           an active account with an address, asked for the first time: a message goes out
#   over_limit     the same account again at once: over mail.min_interval_secs, nothing goes out
#
# Usage: scripts/forgot-timing.sh [ROUNDS]   (default 300; AUTH_SERVER_BIN, default
#        target/release/auth-server if built, else target/debug/auth-server)
# A measurement, not a test: docs/account-recovery.md records its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-300}
server=${AUTH_SERVER_BIN:-}
if [ -z "$server" ]; then
  server=target/release/auth-server
  [ -x "$server" ] || server=target/debug/auth-server
fi
[ -x "$server" ] || { echo "build the server first: cargo build --release -p auth-server" >&2; exit 1; }
echo "binary: $server"

source scripts/lib/server.sh
work=$(mktemp -d)
trap 'stop_servers; rm -rf "$work"' EXIT
export AUTH_ENV=test AUTH_CONFIG_DIR="$PWD/config"
export AUTH__DATABASE__URL="sqlite://$work/auth.db"
export AUTH__JWT__SECRET_FILE="$work/jwt-secret"
export AUTH__PASSWORD__BCRYPT_COST=4
export AUTH__SECURITY__RATE_LIMIT_PER_MINUTE=0
export AUTH__MAIL__TRANSPORT=file AUTH__MAIL__OUTBOX_DIR="$work/outbox"
export RUST_LOG=warn
start_server "$work/server.log" env AUTH__SERVER__PORT=0 RUST_LOG=info "$server"
echo "server at $SERVER_URL"

python3 - "$SERVER_URL" "$rounds" "$server" "$work" <<'PY'
import http.client, json, random, statistics, subprocess, sys, time, urllib.parse

url, rounds, server, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(host.hostname, host.port)
password = "timing horse battery staple"

def post(path, body):
    start = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    reply = conn.getresponse()
    data = reply.read()
    return time.perf_counter() - start, reply.status, data

def register(name, email):
    body = {"username": name, "password": password}
    if email:
        body["email"] = f"{name}@example.com"
    _, status, data = post("/register", body)
    assert status == 201, (status, data)

random.seed(1)
for i in range(rounds):
    register(f"sent{i}", True)
for i in range(20):
    register(f"noemail{i}", False)
    register(f"disabled{i}", True)
    subprocess.run([server, "users", "disable", f"disabled{i}"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

kinds = ["unknown", "no_email", "disabled", "sent", "over_limit"]
times = {k: [] for k in kinds}
answers = set()
# Warm up the connection and the server's caches.
for i in range(50):
    post("/password/forgot", {"username": f"warmup{i}"})
for r in range(rounds):
    order = kinds[:]
    random.shuffle(order)
    # over_limit must follow sent (the same account, asked again at once).
    order.remove("over_limit")
    order.insert(order.index("sent") + 1, "over_limit")
    for kind in order:
        name = {
            "unknown": f"nobody{r}",
            "no_email": f"noemail{r % 20}",
            "disabled": f"disabled{r % 20}",
            "sent": f"sent{r}",
            "over_limit": f"sent{r}",
        }[kind]
        elapsed, status, data = post("/password/forgot", {"username": name})
        answers.add((status, data))
        times[kind].append(elapsed * 1e6)

assert len(answers) == 1, f"the answers differ: {answers}"
base = statistics.median(times["unknown"])
print(f"{rounds} rounds; every answer identical: {answers.pop()[0]}")
print(f"{'kind':<12} {'median µs':>10} {'p90 µs':>10} {'ratio':>7}")
for kind in kinds:
    t = sorted(times[kind])
    med = statistics.median(t)
    p90 = t[int(len(t) * 0.9)]
    print(f"{kind:<12} {med:>10.0f} {p90:>10.0f} {med / base:>7.2f}")
PY
