"""Partner keys: generate key pairs, read JWKS files, spot demo-only keys.

Partners hold their private keys; the hub only ever stores public JWKS. The demo
partnership's private keys are committed under ``keys/demo/`` so the tour works offline;
they are public knowledge, so production mode refuses any key whose thumbprint matches one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet, OKPKey

SUPPORTED_ALGS = ("ES256", "EdDSA")


class KeyFileError(ValueError):
    """A key file that cannot be used; the message names the file and the problem."""


def generate_private_jwk(alg: str = "ES256") -> dict[str, Any]:
    """A new private JWK for ``alg`` with an RFC 7638 thumbprint as its ``kid``."""
    if alg == "ES256":
        key: ECKey | OKPKey = ECKey.generate_key("P-256", private=True, auto_kid=True)
    elif alg == "EdDSA":
        key = OKPKey.generate_key("Ed25519", private=True, auto_kid=True)
    else:
        raise KeyFileError(f"unsupported algorithm {alg!r}; use one of {', '.join(SUPPORTED_ALGS)}")
    data = key.as_dict(private=True)
    data.update(alg=alg, use="sig")
    return data


def public_jwks(private_jwk: dict[str, Any]) -> dict[str, Any]:
    """The public JWK Set for a private JWK (private members removed)."""
    key = KeySet.import_key_set({"keys": [private_jwk]}).keys[0]
    public = key.as_dict(private=False)
    for member in ("alg", "use", "kid"):
        if member in private_jwk:
            public[member] = private_jwk[member]
    return {"keys": [public]}


def read_jwks(path: Path) -> dict[str, Any]:
    """Read and check a public JWKS file: asymmetric signing keys only, no private parts."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"{path}: not readable JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise KeyFileError(f"{path}: expected a JWK Set with a non-empty 'keys' list")
    for number, jwk in enumerate(data["keys"]):
        if not isinstance(jwk, dict):
            raise KeyFileError(f"{path}: keys[{number}] is not an object")
        if jwk.get("kty") not in {"EC", "OKP"}:
            # Only asymmetric keys: an "oct" key would open HS256 algorithm confusion.
            raise KeyFileError(f"{path}: keys[{number}] has kty {jwk.get('kty')!r}; use EC or OKP")
        if "d" in jwk:
            raise KeyFileError(
                f"{path}: keys[{number}] holds a private key; register public keys only"
            )
        if not jwk.get("kid"):
            raise KeyFileError(f"{path}: keys[{number}] has no 'kid'")
    try:
        KeySet.import_key_set(data)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - joserfc raises several types for bad keys
        raise KeyFileError(f"{path}: not a valid JWK Set ({exc.__class__.__name__})") from None
    return data


def thumbprints(jwks: dict[str, Any]) -> set[str]:
    """RFC 7638 thumbprints of every key in a JWK Set."""
    return {k.thumbprint() for k in KeySet.import_key_set(jwks).keys}  # type: ignore[arg-type]


def demo_thumbprints(keys_dir: Path) -> set[str]:
    """Thumbprints of the committed demo private keys (``keys/demo/*.jwk``)."""
    found: set[str] = set()
    for path in sorted((keys_dir / "demo").glob("*.jwk")):
        private = json.loads(path.read_text(encoding="utf-8"))
        found |= thumbprints(public_jwks(private))
    return found
