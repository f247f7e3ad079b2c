"""Webhook signatures: a detached compact JWS (RFC 7515 Appendix F) over the exact body.

Why JWS and not RFC 9421 HTTP Message Signatures: partners already verify the hub's JOSE
objects (agreement signatures, client assertions) with off-the-shelf JOSE libraries, and a
detached JWS over the body bytes needs no HTTP-component canonicalisation that proxies could
disturb. The ``Hub-Signature`` header carries ``BASE64URL(header) + ".." + BASE64URL(sig)``;
a receiver re-attaches ``BASE64URL(body)`` as the payload and verifies an ordinary compact
JWS. The protected header holds ``alg: EdDSA`` (Ed25519), ``kid`` (the RFC 7638 thumbprint
of the key published at ``/.well-known/jwks.json``), ``typ`` (explicit typing, RFC 8725
§3.11, so this JWS cannot be mistaken for another kind) and ``iat`` (seconds; signed, so a
receiver can refuse stale replays).

The key is the hub's own Ed25519 webhook key, separate from the ledger checkpoint key: one
key, one purpose, and rotating one never disturbs the other.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from joserfc.registry import HeaderParameter

from hub.signing_algorithms import PartnerJWSRegistry

WEBHOOK_ALG = "EdDSA"
WEBHOOK_TYP = "hub-webhook+jws"
# Receivers refuse a signature older (or further in the future) than this by default.
DEFAULT_MAX_AGE = 300

__all__ = [
    "DEFAULT_MAX_AGE",
    "WEBHOOK_ALG",
    "WEBHOOK_TYP",
    "WebhookKeyError",
    "WebhookSignatureError",
    "decode_signature_header",
    "ensure_webhook_key",
    "load_webhook_key",
    "public_jwks",
    "sign_webhook",
    "verify_webhook",
]


class WebhookKeyError(ValueError):
    """The webhook key file is missing or does not hold an Ed25519 private JWK."""


class WebhookSignatureError(ValueError):
    """A webhook signature that must not be trusted; ``code`` says why (machine-readable).

    Codes: ``malformed``, ``wrong_alg``, ``wrong_typ``, ``unknown_kid``, ``bad_signature``,
    ``stale``.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


class _WebhookJWSRegistry(PartnerJWSRegistry):
    """EdDSA/ES256 without joserfc's EdDSA warning, ``iat`` understood, room for big bodies."""

    max_payload_length = 4_000_000


def _registry() -> _WebhookJWSRegistry:
    return _WebhookJWSRegistry(
        header_registry={"iat": HeaderParameter("Issued at (seconds)", "int", True)},
        algorithms=[WEBHOOK_ALG],
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- the key ------------------------------------------------------------------------------


def ensure_webhook_key(path: str | os.PathLike[str]) -> OKPKey:
    """Load the webhook key, creating it (mode 0600, a private JWK) if absent.

    Created with ``O_EXCL`` so two processes starting at once cannot both write one; the
    loser loads the winner's key.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = OKPKey.generate_key("Ed25519", private=True)
        data = key.as_dict(private=True)
        data.update(kid=key.thumbprint(), alg=WEBHOOK_ALG, use="sig")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2)
                handle.write("\n")
    return load_webhook_key(path)


def load_webhook_key(path: str | os.PathLike[str]) -> OKPKey:
    """Read the private webhook JWK; refuse anything but an Ed25519 private key."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WebhookKeyError(f"{path}: not a readable JWK ({type(exc).__name__})") from None
    if not isinstance(data, dict) or (data.get("kty"), data.get("crv")) != ("OKP", "Ed25519"):
        raise WebhookKeyError(f"{path}: expected an Ed25519 private JWK")
    if "d" not in data:
        raise WebhookKeyError(f"{path}: holds a public key; the worker needs the private one")
    try:
        return OKPKey.import_key(data)
    except (ValueError, JoseError) as exc:
        raise WebhookKeyError(f"{path}: not a valid JWK ({type(exc).__name__})") from None


def public_jwks(key: OKPKey) -> dict[str, Any]:
    """The JWK Set receivers fetch from ``/.well-known/jwks.json`` (public members only)."""
    public = key.as_dict(private=False)
    public.update(kid=key.thumbprint(), alg=WEBHOOK_ALG, use="sig")
    return {"keys": [public]}


# -- signing and verifying ----------------------------------------------------------------


def sign_webhook(body: bytes, key: OKPKey, *, iat: int | None = None) -> str:
    """The ``Hub-Signature`` value: a detached compact JWS over exactly ``body``."""
    header = {
        "alg": WEBHOOK_ALG,
        "kid": key.thumbprint(),
        "typ": WEBHOOK_TYP,
        "iat": int(time.time()) if iat is None else iat,
    }
    token = jws.serialize_compact(header, body, key, registry=_registry())
    protected, _payload, signature = token.split(".")
    return f"{protected}..{signature}"


def decode_signature_header(signature: str) -> dict[str, Any]:
    """Decode a ``Hub-Signature``'s protected header (unverified: for routing only)."""
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise WebhookSignatureError("malformed", "not a detached compact JWS (header..signature)")
    try:
        header = json.loads(_b64url_decode(parts[0]))
    except (ValueError, binascii.Error) as exc:
        raise WebhookSignatureError("malformed", f"header does not decode ({exc})") from None
    if not isinstance(header, dict):
        raise WebhookSignatureError("malformed", "protected header is not a JSON object")
    return header


def verify_webhook(
    body: bytes,
    signature_header: str,
    jwks: Mapping[str, Any],
    *,
    max_age: int | None = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> None:
    """Raise :class:`WebhookSignatureError` unless the hub signed exactly ``body``.

    The reference verifier for receivers: ``jwks`` is the hub's published JWK Set. Only
    ``EdDSA`` with an Ed25519 key and the webhook ``typ`` are accepted (no algorithm
    confusion); ``iat`` must be within ``max_age`` seconds of ``now`` (``None`` skips the
    check, e.g. when replaying a stored delivery).
    """
    header = decode_signature_header(signature_header)
    if header.get("alg") != WEBHOOK_ALG:
        raise WebhookSignatureError("wrong_alg", f"expected alg {WEBHOOK_ALG}")
    if header.get("typ") != WEBHOOK_TYP:
        raise WebhookSignatureError("wrong_typ", f"expected typ {WEBHOOK_TYP}")
    key = _find_key(jwks, header.get("kid"))
    protected, _, signature = signature_header.split(".")
    compact = f"{protected}.{_b64url(body)}.{signature}"
    try:
        jws.deserialize_compact(compact, key, registry=_registry())
    except (JoseError, ValueError) as exc:
        raise WebhookSignatureError("bad_signature", type(exc).__name__) from None
    iat = header.get("iat")
    if not isinstance(iat, int):
        raise WebhookSignatureError("malformed", "iat must be an integer")
    if max_age is not None and abs((time.time() if now is None else now) - iat) > max_age:
        raise WebhookSignatureError("stale", f"signed at {iat}, outside {max_age}s")


def _find_key(jwks: Mapping[str, Any], kid: object) -> OKPKey:
    """The published Ed25519 key with ``kid``; never any other kind of key."""
    for jwk in jwks.get("keys", []):
        if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
            continue
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" in jwk:
            raise WebhookSignatureError("unknown_kid", f"key {kid!r} is not an Ed25519 public key")
        key = KeySet.import_key_set({"keys": [dict(jwk)]}).keys[0]
        if not isinstance(key, OKPKey):
            raise WebhookSignatureError("unknown_kid", f"key {kid!r} is not an OKP key")
        return key
    raise WebhookSignatureError("unknown_kid", f"no published key has kid {kid!r}")
