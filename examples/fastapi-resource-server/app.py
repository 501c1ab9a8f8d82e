"""A FastAPI service that accepts the access tokens of our auth server.

`get_current_user` verifies a token here, with the server's published keys, and looks up its
bit in the Token Status List the token references (fetched from the auth server, verified with
the same keys, cached for its `ttl`): no call to the auth server per request, and a token whose
session ended is refused within `ttl` (2 s by default) plus a fetch. `get_current_user_now` also asks the auth server (`POST /introspect`),
for the routes that must refuse a token as soon as its session ends (logout, password change,
a disabled user).

Settings (environment):
  AUTH_URL                 where the auth server is, e.g. https://auth.example.com
  AUTH_ISSUER, AUTH_AUDIENCE  its jwt.issuer and jwt.audience (both "auth-server" by default)
  AUTH_INTROSPECTION_KEY   an API key of an admin service user, for get_current_user_now
  AUTH_STATUS_LIST_PREFIX  where the lists tokens reference may be (default {AUTH_URL}/statuslists/)
  AUTH_STATUS_MAX_STALE    seconds a list may go unrefreshed before tokens are refused with 503
                           (default 20: ten times the server's default ttl)
"""

import base64
import os
import threading
import time
import zlib

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:8000").rstrip("/")
ISSUER = os.environ.get("AUTH_ISSUER", "auth-server")
AUDIENCE = os.environ.get("AUTH_AUDIENCE", "auth-server")
INTROSPECTION_KEY = os.environ.get("AUTH_INTROSPECTION_KEY", "")
# The server signs with ES256 or EdDSA. Pin the algorithms here, never take them from the
# token: that is how "alg: none" and HMAC-with-the-public-key forgeries get in.
ALGORITHMS = ["ES256", "EdDSA"]

# Fetches /.well-known/jwks.json, keeps it 5 minutes, picks the key by the token's `kid`, and
# fetches again when it sees a `kid` it does not know: a rotated key is picked up by itself.
STATUS_LIST_PREFIX = os.environ.get("AUTH_STATUS_LIST_PREFIX", f"{AUTH_URL}/statuslists/")
MAX_STALE = float(os.environ.get("AUTH_STATUS_MAX_STALE", "20"))
jwks = jwt.PyJWKClient(f"{AUTH_URL}/.well-known/jwks.json", cache_keys=True, lifespan=300)
auth_server = httpx.Client(base_url=AUTH_URL, timeout=5)
bearer = HTTPBearer(auto_error=False)

app = FastAPI()


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def access_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
    if credentials is None:
        raise unauthorized("Not authenticated")
    return credentials.credentials


class StatusListUnavailable(Exception):
    """The list could not be fetched and the cached one (if any) is older than MAX_STALE."""


class StatusLists:
    """Token Status Lists (draft-ietf-oauth-status-list, docs/revocation.md): each list a
    token references, fetched on first sight and again once its `ttl` has passed, kept only
    after its signature, `typ`, `iss`, `sub` (the URL fetched), `exp` and `iat` check out."""

    MAX_BYTES = 16 << 20  # the decompressed list: a zip bomb stops here

    def __init__(self) -> None:
        self.lists: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.http = httpx.Client(timeout=5, follow_redirects=False)

    def fetch(self, uri: str) -> dict:
        answer = self.http.get(uri, headers={"Accept": "application/statuslist+jwt"})
        if answer.status_code != 200:
            raise ValueError(f"status {answer.status_code}")
        if answer.headers.get("content-type", "").split(";")[0] != "application/statuslist+jwt":
            raise ValueError("not a Status List Token")
        token = answer.text
        if jwt.get_unverified_header(token).get("typ") != "statuslist+jwt":
            raise ValueError("not a Status List Token")
        claims = jwt.decode(
            token,
            jwks.get_signing_key_from_jwt(token),
            algorithms=ALGORITHMS,
            issuer=ISSUER,
            leeway=5,
            options={"require": ["exp", "iat", "iss", "sub"]},
        )
        if claims["sub"] != uri:
            raise ValueError("the list is not the one referenced")
        bits = claims["status_list"]["bits"]
        if bits not in (1, 2, 4, 8):
            raise ValueError("bad bits")
        lst = claims["status_list"]["lst"]
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)), self.MAX_BYTES)
        if inflate.unconsumed_tail:
            raise ValueError("the list is too large")
        ttl = max(1, int(claims.get("ttl", 60)))
        return {"bits": bits, "data": data, "iat": claims["iat"], "ttl": ttl}

    def status(self, uri: str, idx: int) -> int:
        """The value of entry `idx`: 0 VALID, 1 INVALID, 2 SUSPENDED."""
        now = time.monotonic()
        with self.lock:
            cached = self.lists.get(uri)
            if cached is None or now >= cached["fetched"] + cached["ttl"]:
                try:
                    fresh = self.fetch(uri)
                    if cached is not None and fresh["iat"] < cached["iat"]:
                        raise ValueError("an older list than the one cached")
                    cached = self.lists[uri] = {**fresh, "fetched": now}
                except (httpx.HTTPError, jwt.PyJWTError, ValueError, KeyError, TypeError, zlib.error):
                    if cached is None or now >= cached["fetched"] + MAX_STALE:
                        raise StatusListUnavailable(uri)
        bits, data = cached["bits"], cached["data"]
        byte, shift = divmod(idx * bits, 8)
        if byte >= len(data):
            return 3  # beyond the list: no statement, refuse
        return (data[byte] >> shift) & ((1 << bits) - 1)


status_lists = StatusLists()


def check_status(claims: dict) -> None:
    """Refuses a token without a `status` claim, one that references a list elsewhere than
    STATUS_LIST_PREFIX, and one whose entry is not VALID."""
    try:
        entry = claims["status"]["status_list"]
        uri, idx = entry["uri"], entry["idx"]
    except (KeyError, TypeError):
        raise unauthorized("Invalid token")
    if (
        not isinstance(uri, str)
        or not uri.startswith(STATUS_LIST_PREFIX)
        or not uri[len(STATUS_LIST_PREFIX):].isdigit()
        or not isinstance(idx, int)
        or idx < 0
    ):
        raise unauthorized("Invalid token")
    try:
        value = status_lists.status(uri, idx)
    except StatusListUnavailable:
        raise HTTPException(503, "The token's status cannot be checked", headers={"Retry-After": "1"})
    if value != 0:
        raise unauthorized("The token has been revoked")


def get_current_user(token: str = Depends(access_token)) -> dict:
    """The token's claims, once its signature, type, issuer, audience and times check out and
    its status list entry is VALID. `sub` is the user id; `username` and `role` are as they
    were when the token was issued (a role or username change sets the bit)."""
    try:
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise unauthorized("Not an access token")
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=5,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "sid"]},
        )
    except jwt.PyJWKClientConnectionError:
        raise HTTPException(503, "The auth server cannot be reached")
    except jwt.PyJWTError:
        raise unauthorized("Invalid token")
    check_status(claims)
    return claims


def get_current_user_now(
    claims: dict = Depends(get_current_user), token: str = Depends(access_token)
) -> dict:
    """`get_current_user`, and the auth server confirms the session is live right now. The
    answer carries the user's current username and role."""
    try:
        answer = auth_server.post(
            "/introspect", data={"token": token}, headers={"X-API-Key": INTROSPECTION_KEY}
        )
    except httpx.HTTPError:
        raise HTTPException(503, "The auth server cannot be reached")
    if answer.status_code != 200:
        raise HTTPException(503, "The auth server refused to introspect")
    current = answer.json()
    if not current.get("active"):
        raise unauthorized("The session has ended")
    return {**claims, "username": current["username"], "role": current["role"]}


@app.get("/items")
def list_items(user: dict = Depends(get_current_user)):
    return {"owner": user["username"], "items": ["apple", "pear"]}


@app.post("/transfers")
def make_transfer(user: dict = Depends(get_current_user_now)):
    return {"from": user["username"], "status": "accepted"}


@app.get("/admin/report")
def admin_report(user: dict = Depends(get_current_user_now)):
    if user["role"] != "admin":
        raise HTTPException(403, "Forbidden")
    return {"report": "all good"}
