"""A FastAPI service that accepts the access tokens of our auth server.

`get_current_user` verifies a token here, with the server's published keys: no call to the
auth server per request. `get_current_user_now` also asks the auth server (`POST /introspect`),
for the routes that must refuse a token as soon as its session ends (logout, password change,
a disabled user).

Settings (environment):
  AUTH_URL                 where the auth server is, e.g. https://auth.example.com
  AUTH_ISSUER, AUTH_AUDIENCE  its jwt.issuer and jwt.audience (both "auth-server" by default)
  AUTH_INTROSPECTION_KEY   an API key of an admin service user, for get_current_user_now
"""

import os

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


def get_current_user(token: str = Depends(access_token)) -> dict:
    """The token's claims, once its signature, type, issuer, audience and times check out.
    `sub` is the user id; `username` and `role` are as they were when the token was issued."""
    try:
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise unauthorized("Not an access token")
        key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(
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
