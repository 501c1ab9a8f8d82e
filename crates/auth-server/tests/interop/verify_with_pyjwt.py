"""Verifies tokens issued by auth-server with PyJWT, an implementation independent of ours.

Reads a JSON list of cases on stdin: {"alg", "token", "issuer", "audience", "sub", and either
"jwks" (the server's /.well-known/jwks.json, for asymmetric keys) or "secret" (HMAC)}.
Prints a JSON object {alg: "ok" | "error: ..."}.
"""
import json
import sys

import jwt

results = {}
for case in json.load(sys.stdin):
    alg = case["alg"]
    try:
        header = jwt.get_unverified_header(case["token"])
        assert header["typ"] == "at+jwt", f"typ is {header.get('typ')!r}"
        assert header["alg"] == alg, f"alg is {header.get('alg')!r}"
        if "jwks" in case:
            # Only the published JWKS: find the key by kid, as any verifier would.
            key = jwt.PyJWKSet.from_dict(case["jwks"])[header["kid"]].key
        else:
            key = case["secret"]
        claims = jwt.decode(
            case["token"],
            key,
            algorithms=[alg],
            audience=case["audience"],
            issuer=case["issuer"],
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
        )
        assert claims["sub"] == case["sub"], "sub differs"
        results[alg] = "ok"
    except Exception as error:  # report every failure, keep checking the others
        results[alg] = f"error: {type(error).__name__}: {error}"
print(json.dumps(results))
