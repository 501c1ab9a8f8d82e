#!/usr/bin/env bash
# Runs the example against the real auth server and checks what a FastAPI team relies on: a
# token from us is accepted; a tampered, foreign or wrongly signed one is refused; after logout
# (or RFC 7009 revocation) the introspecting route refuses the token at once, and the
# verify-only route (Token Status List) within ttl + 1 s, polled, the time printed.
#
# Needs python3 with requirements.txt installed, and curl. Runs the auth-server binary named by
# AUTH_SERVER_BIN, or builds it with cargo. Everything runs on 127.0.0.1, on free ports, in a
# temporary folder; the processes are stopped and the folder removed at exit. Gives up after
# CHECK_TIMEOUT_SECS (120) and exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
# shellcheck source=../../scripts/lib/server.sh
source "$root/scripts/lib/server.sh"
export SERVER_START_TIMEOUT=${CHECK_TIMEOUT_SECS:-120}

cleanup() {
  stop_servers
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "--- last lines of $(basename "$log")"; tail -n 20 "$log"; } >&2
  done
  exit 1
}

# call METHOD URL [curl options...]: the status code; the body is left in $work/body.
call() {
  curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' -X "$1" "$2" "${@:3}" || echo 000
}

# field NAME: a field of the JSON in $work/body.
field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/body" "$1"
}

# expect WHAT STATUS ACTUAL
expect() {
  [ "$3" = "$2" ] || fail "$1: expected $2, got $3: $(head -c 300 "$work/body")"
  echo "ok: $1 ($3)"
}

bin=${AUTH_SERVER_BIN:-}
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet -p auth-server)
  target=${CARGO_TARGET_DIR:-target}
  case $target in /*) ;; *) target=$root/$target ;; esac
  bin=$target/debug/auth-server
fi
[ -x "$bin" ] || fail "no auth-server binary at $bin"

# --- the auth server: ES256, a throwaway SQLite database, a free port
export AUTH_ENV=test AUTH_CONFIG_DIR=$root/config
export AUTH__DATABASE__URL=sqlite://$work/auth.db AUTH__SERVER__PORT=0 AUTH__JWT__ALGORITHM=ES256
AUTH__JWT__PRIVATE_KEY_FILE=$("$bin" gen-key --algorithm ES256 --out-dir "$work/keys" |
  sed -n 's/^private key[^:]*: *//p')
export AUTH__JWT__PRIVATE_KEY_FILE
[ -f "$AUTH__JWT__PRIVATE_KEY_FILE" ] || fail "gen-key wrote no key"

# The service user whose API key the example uses for /introspect: an admin, created by the
# operator (its password from standard input), who then makes a key.
admin_password="reports service passphrase 7"
printf '%s\n' "$admin_password" |
  "$bin" create-admin --username svc-reports >"$work/create-admin.log" 2>&1 ||
  fail "create-admin failed"

start_server "$work/server.log" "$bin" serve
auth=$SERVER_URL
echo "auth server: $auth"

json_post() { call POST "$auth$1" -H 'Content-Type: application/json' -d "$2" "${@:3}"; }

expect "service admin logs in" 200 \
  "$(json_post /login "{\"username\": \"svc-reports\", \"password\": \"$admin_password\"}")"
admin_token=$(field access_token)
expect "service admin makes an API key" 201 "$(json_post /api-keys \
  "{\"name\": \"fastapi example\", \"current_password\": \"$admin_password\"}" \
  -H "Authorization: Bearer $admin_token")"
introspection_key=$(field key)

alice_password="correct horse battery staple"
expect "alice registers" 201 \
  "$(json_post /register "{\"username\": \"alice\", \"password\": \"$alice_password\"}")"
login_alice() {
  expect "alice logs in" 200 \
    "$(json_post /login "{\"username\": \"alice\", \"password\": \"$alice_password\"}")"
}
login_alice
alice=$(field access_token)

# --- the example
example_app() {
  cd "$here"
  export AUTH_URL=$auth AUTH_INTROSPECTION_KEY=$introspection_key
  exec python3 -m uvicorn app:app --host 127.0.0.1 --port 0
}
READY_PATH= start_server "$work/example.log" example_app
example=$SERVER_URL
echo "example: $example"

bearer() { echo "Authorization: Bearer $1"; }

expect "our token is accepted" 200 "$(call GET "$example/items" -H "$(bearer "$alice")")"
[ "$(field owner)" = alice ] || fail "the example saw $(field owner), not alice"
expect "no token is refused" 401 "$(call GET "$example/items")"

# Forgeries, made with PyJWT from the real token: each changes one thing.
forge() {
  python3 - "$1" "$alice" "$AUTH__JWT__PRIVATE_KEY_FILE" <<'PY'
import base64, hashlib, hmac, json, sys
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

how, token, our_key_file = sys.argv[1:]
header = jwt.get_unverified_header(token)
claims = jwt.decode(token, options={"verify_signature": False})
if how == "tampered":  # the payload changed, the signature kept
    head, _, signature = token.split(".")
    claims["username"] = "mallory"
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    print(f"{head}.{payload}.{signature}")
elif how in ("foreign", "foreign-kid"):  # signed by a key that is not ours
    key = ec.generate_private_key(ec.SECP256R1())
    kid = header["kid"] if how == "foreign" else "not-our-kid"
    print(jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid, "typ": "at+jwt"}))
elif how == "hs256-with-public-key":  # the classic algorithm confusion
    private = serialization.load_pem_private_key(open(our_key_file, "rb").read(), None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, claims))
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    print(signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
elif how == "wrong-typ":  # a JWT of ours, but not an access token
    print(jwt.encode(claims, open(our_key_file).read(), algorithm="ES256",
                     headers={"kid": header["kid"], "typ": "JWT"}))
PY
}
for how in tampered foreign foreign-kid hs256-with-public-key wrong-typ; do
  forged=$(forge "$how") || fail "could not forge a $how token"
  expect "a $how token is refused" 401 "$(call GET "$example/items" -H "$(bearer "$forged")")"
done

# Introspection: a live session is accepted, with the current role.
expect "introspected route accepts a live token" 200 \
  "$(call POST "$example/transfers" -H "$(bearer "$alice")")"
expect "alice is no admin" 403 "$(call GET "$example/admin/report" -H "$(bearer "$alice")")"
expect "the service admin is" 200 "$(call GET "$example/admin/report" -H "$(bearer "$admin_token")")"

# Logout: the introspecting route refuses at once; the verify-only route once its cached
# status list is refreshed: within the list's ttl (2 s) plus a fetch, checked against 3 s.
expect "alice logs out" 204 "$(call POST "$auth/logout" -H "$(bearer "$alice")")"
logged_out=$(date +%s%N)
expect "introspected route refuses the logged-out token" 401 \
  "$(call POST "$example/transfers" -H "$(bearer "$alice")")"
# until_refused SINCE_NS URL TOKEN LIMIT_MS: polls URL until it answers 401; prints the
# milliseconds since SINCE_NS (fails past LIMIT_MS).
until_refused() {
  local since=$1 now code
  while :; do
    code=$(call GET "$2" -H "$(bearer "$3")")
    now=$(date +%s%N)
    [ "$code" = 401 ] && break
    [ "$code" = 200 ] || fail "while waiting for 401: $code: $(head -c 300 "$work/body")"
    [ $(((now - since) / 1000000)) -le "$4" ] || fail "still accepted $(((now - since) / 1000000)) ms after"
    sleep 0.05
  done
  echo $(((now - since) / 1000000))
}
took=$(until_refused "$logged_out" "$example/items" "$alice" 3000)
echo "ok: the verify-only route refuses the logged-out token after $took ms (status list; bound: ttl 2 s + 1 s)"
grep -q "revoked" "$work/body" || fail "401 without the reason: $(cat "$work/body")"

# RFC 7009: revoking the refresh token ends that session's access token too.
login_alice
alice=$(field access_token)
refresh=$(field refresh_token)
expect "introspected route accepts the new session" 200 \
  "$(call POST "$example/transfers" -H "$(bearer "$alice")")"
expect "the refresh token is revoked" 200 "$(call POST "$auth/revoke" --data-urlencode "token=$refresh")"
revoked=$(date +%s%N)
expect "introspected route refuses the revoked session" 401 \
  "$(call POST "$example/transfers" -H "$(bearer "$alice")")"
took=$(until_refused "$revoked" "$example/items" "$alice" 3000)
echo "ok: the verify-only route refuses the revoked token after $took ms"

echo "all checks passed"
