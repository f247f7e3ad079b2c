"""Verify the hub's webhook pushes: ``Hub-Signature``, a detached JWS over the exact body.

The header is ``BASE64URL(protected) + ".." + BASE64URL(signature)`` (RFC 7515 Appendix F);
the protected header has ``alg: EdDSA`` (Ed25519), ``kid`` (a key at the hub's
``/.well-known/jwks.json``), ``typ: hub-webhook+jws`` and ``iat`` (seconds). A receiver
re-attaches the body it received as the payload and verifies an ordinary compact JWS.
Anything else is refused: another algorithm (no algorithm confusion), another ``typ``, an
unknown ``kid``, a signature that does not cover these bytes, or an ``iat`` outside
``max_age`` seconds (a stale replay).

Use :func:`verify_webhook` on headers and body, or wrap a WSGI app (Flask's
``app.wsgi_app``) in :class:`WebhookVerifier`, which answers 401 to anything unsigned and
passes verified requests on with ``environ["hub.webhook"]`` set to the protected header.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

__all__ = [
    "SIGNATURE_HEADER",
    "JWKSCache",
    "WebhookSignatureError",
    "WebhookVerifier",
    "verify_webhook",
]

SIGNATURE_HEADER = "Hub-Signature"
WEBHOOK_ALG = "EdDSA"
WEBHOOK_TYP = "hub-webhook+jws"
DEFAULT_MAX_AGE = 300
MAX_BODY = 4_000_000


class WebhookSignatureError(ValueError):
    """Do not trust this push. ``code``: ``missing``, ``malformed``, ``wrong_alg``,
    ``wrong_typ``, ``unknown_kid``, ``bad_signature``, ``stale``, ``too_large``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


class _Registry(JWSRegistry):
    """EdDSA only (the key is checked to be Ed25519), ``iat`` understood, big bodies."""

    max_payload_length = MAX_BODY

    def get_alg(self, name: str):  # type: ignore[no-untyped-def]
        if name != WEBHOOK_ALG:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return JWSRegistry.algorithms[name]


def _registry() -> _Registry:
    return _Registry(
        header_registry={"iat": HeaderParameter("Issued at (seconds)", "int", True)},
        algorithms=[WEBHOOK_ALG],
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _header(signature: str) -> dict[str, Any]:
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        raise WebhookSignatureError("malformed", "not a detached compact JWS (header..signature)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        raise WebhookSignatureError("malformed", "the protected header does not decode") from None
    if not isinstance(header, dict):
        raise WebhookSignatureError("malformed", "the protected header is not an object")
    return header


def _key(jwks: Mapping[str, Any], kid: object) -> OKPKey:
    for jwk in jwks.get("keys", []):
        if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
            continue
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" in jwk:
            raise WebhookSignatureError("unknown_kid", "that key is not an Ed25519 public key")
        return OKPKey.import_key(dict(jwk))
    raise WebhookSignatureError("unknown_kid", "no key the hub publishes has that kid")


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    jwks: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    *,
    max_age: int | None = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> dict[str, Any]:
    """Raise :class:`WebhookSignatureError` unless the hub signed exactly ``body``.

    ``headers`` is any case-insensitive or plain mapping; ``jwks`` the hub's JWK Set, or a
    callable returning it (e.g. a :class:`JWKSCache`). Returns the protected header.
    """
    signature = next((v for k, v in headers.items() if k.lower() == "hub-signature"), None)
    if not signature:
        raise WebhookSignatureError("missing", f"no {SIGNATURE_HEADER} header")
    if len(body) > MAX_BODY:
        raise WebhookSignatureError("too_large", "the body is larger than any push")
    header = _header(signature)
    if header.get("alg") != WEBHOOK_ALG:
        raise WebhookSignatureError("wrong_alg", f"expected alg {WEBHOOK_ALG}")
    if header.get("typ") != WEBHOOK_TYP:
        raise WebhookSignatureError("wrong_typ", f"expected typ {WEBHOOK_TYP}")
    key_set = jwks() if callable(jwks) else jwks
    key = _key(key_set, header.get("kid"))
    protected, _, sig = signature.split(".")
    try:
        jws.deserialize_compact(f"{protected}.{_b64url(body)}.{sig}", key, registry=_registry())
    except (JoseError, ValueError) as exc:
        raise WebhookSignatureError("bad_signature", type(exc).__name__) from None
    iat = header.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise WebhookSignatureError("malformed", "iat must be an integer")
    if max_age is not None and abs((time.time() if now is None else now) - iat) > max_age:
        raise WebhookSignatureError("stale", f"signed at {iat}, more than {max_age}s away")
    return header


class JWKSCache:
    """The hub's ``/.well-known/jwks.json``, fetched once and again after ``ttl`` seconds."""

    def __init__(
        self, url: str, *, ttl: float = 3600.0, session: requests.Session | None = None
    ) -> None:
        self.url = url
        self._ttl = ttl
        self._session = session or requests.Session()
        self._jwks: dict[str, Any] | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        with self._lock:
            if self._jwks is None or time.monotonic() - self._fetched > self._ttl:
                response = self._session.get(self.url, timeout=30)
                response.raise_for_status()
                self._jwks = response.json()
                self._fetched = time.monotonic()
            return self._jwks


_Start = Callable[[str, list[tuple[str, str]]], Any]
_WSGIApp = Callable[[dict[str, Any], _Start], Iterable[bytes]]


class WebhookVerifier:
    """WSGI middleware: only pushes the hub signed reach ``app`` (others get 401).

    Flask: ``app.wsgi_app = WebhookVerifier(app.wsgi_app, JWKSCache(hub + "/.well-known/
    jwks.json"), paths={"/hooks/hub"})``. ``paths`` limits it to those paths (default all).
    The body is read once, verified, and handed on unchanged as ``wsgi.input``.
    """

    def __init__(
        self,
        app: _WSGIApp,
        jwks: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        *,
        paths: Iterable[str] | None = None,
        max_age: int | None = DEFAULT_MAX_AGE,
    ) -> None:
        self.app = app
        self.jwks = jwks
        self.paths = None if paths is None else frozenset(paths)
        self.max_age = max_age

    def __call__(self, environ: dict[str, Any], start_response: _Start) -> Iterable[bytes]:
        if self.paths is not None and environ.get("PATH_INFO", "") not in self.paths:
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return _refuse(start_response, "malformed")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-"): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        try:
            environ["hub.webhook"] = verify_webhook(headers, body, self.jwks, max_age=self.max_age)
        except WebhookSignatureError as exc:
            return _refuse(start_response, exc.code)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _refuse(start_response: _Start, code: str) -> list[bytes]:
    body = json.dumps(
        {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": code}
    ).encode()
    start_response(
        "401 Unauthorized",
        [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))],
    )
    return [body]
