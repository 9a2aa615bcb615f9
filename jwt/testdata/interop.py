#!/usr/bin/python3
"""PyJWT side of jwt/interop_test.go.

Reads one JSON request on stdin and prints one JSON response on stdout.

Request members:
  mode        "sign" or "verify"
  alg         JWS algorithm: HS256, ES256, EdDSA, RS256, ...
  secret_hex  the HMAC secret, hex-encoded (HS*)
  key_pem     PKCS#8 private key PEM (sign) or SPKI public key PEM (verify)
  claims      the claims object to sign (sign)
  token       the compact JWT to verify (verify)
  audience    expected aud (verify, optional)
  issuer      expected iss (verify, optional)

Response: {"token": ...} or {"claims": ...}, or {"error": message,
"type": exception class name} when PyJWT refuses. The exit status is 0
unless the request itself cannot be read.

Run it with Debian's interpreter (/usr/bin/python3) and its python3-jwt
and python3-cryptography packages.
"""

import json
import sys

import jwt


def key_for(req):
    if req["alg"].startswith("HS"):
        return bytes.fromhex(req["secret_hex"])
    return req["key_pem"]


def main():
    req = json.loads(sys.stdin.buffer.read())
    try:
        if req["mode"] == "sign":
            token = jwt.encode(req["claims"], key_for(req), algorithm=req["alg"])
            if isinstance(token, bytes):  # PyJWT 1.x
                token = token.decode("ascii")
            out = {"token": token}
        elif req["mode"] == "verify":
            claims = jwt.decode(
                req["token"],
                key_for(req),
                algorithms=[req["alg"]],
                audience=req.get("audience"),
                issuer=req.get("issuer"),
                options={"require": ["exp"]},
            )
            out = {"claims": claims}
        else:
            out = {"error": "unknown mode %r" % req["mode"], "type": "UsageError"}
    except Exception as e:  # every PyJWT refusal is reported, not raised
        out = {"error": str(e), "type": type(e).__name__}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
