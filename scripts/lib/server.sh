# shellcheck shell=bash
# Starting a server in the background and waiting until it is ready, in one place: sourced by
# every script that runs the real binary (scripts/, .ci/, examples/fastapi-resource-server).
#
#   start_server LOG COMMAND...
#       Runs COMMAND in the background with its output in LOG. Waits until LOG says where the
#       server listens (auth-server's and the bare handler's "listening on http://…", uvicorn's
#       "running on http://…"), then, unless READY_PATH is empty, until GET <url>$READY_PATH
#       (default /health) answers 2xx. Sets SERVER_URL and SERVER_PID; adds the pid to
#       SERVER_PIDS. Call it directly, not in $(…), so that these variables reach the caller.
#       Exits with status 1, printing LOG's last lines, if COMMAND ends first or nothing is ready
#       within SERVER_START_TIMEOUT seconds (default 60).
#   stop_servers
#       Stops every server started so far and waits for each. Safe to call from an EXIT trap.

SERVER_PIDS=()

start_server() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  SERVER_URL=
  local deadline=$((SECONDS + ${SERVER_START_TIMEOUT:-60}))
  local ready_path=${READY_PATH-/health}
  while :; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server ($1) ended before it was ready:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    if [ -z "$SERVER_URL" ]; then
      SERVER_URL=$(grep -oE '(listening|running) on https?://[0-9.]+:[0-9]+' "$log" |
        head -n 1 | sed -E 's/^.* on //') || true
    fi
    if [ -n "$SERVER_URL" ] &&
      { [ -z "$ready_path" ] || curl -fsS -o /dev/null "$SERVER_URL$ready_path" 2>/dev/null; }; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the server ($1) was not ready within ${SERVER_START_TIMEOUT:-60}s:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    sleep 0.05
  done
}

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
