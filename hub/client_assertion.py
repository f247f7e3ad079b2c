"""Make an RFC 7523 client assertion: what a partner system signs to get a token.

    python -m hub.client_assertion PARTNER_ID PRIVATE_JWK_PATH [--aud URL] [--lifetime S]

prints a compact JWT signed with the partner's key (ES256 or EdDSA), with a fresh ``jti``,
for ``client_assertion`` at ``POST /oauth/token``. A partner's own system does the same
with any JOSE library; this is for the README tour and for trying the API by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet

from hub.settings import DEFAULT_ISSUER
from hub.signing_algorithms import partner_jws_registry


def make_assertion(
    partner_id: str, private_jwk: dict[str, Any], audience: str, lifetime: int = 60
) -> str:
    """A signed, single-use client assertion for ``partner_id``."""
    jwk = {k: v for k, v in private_jwk.items() if k != "demo_only"}
    key = KeySet.import_key_set({"keys": [jwk]}).keys[0]
    now = int(time.time())
    claims = {
        "iss": partner_id,
        "sub": partner_id,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": jwk.get("alg", "ES256"), "kid": jwk["kid"]}
    return jwt.encode(header, claims, key, registry=partner_jws_registry())


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("partner_id")
    parser.add_argument("private_jwk", type=Path)
    issuer = os.environ.get("HUB_ISSUER") or DEFAULT_ISSUER  # the hub's own default
    parser.add_argument("--aud", default=f"{issuer.rstrip('/')}/oauth/token")
    parser.add_argument("--lifetime", type=int, default=60)
    args = parser.parse_args()
    private = json.loads(args.private_jwk.read_text(encoding="utf-8"))
    print(make_assertion(args.partner_id, private, args.aud, args.lifetime))


if __name__ == "__main__":
    main()
