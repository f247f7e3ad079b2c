"""Access tokens with ``private_key_jwt`` (RFC 7523 client assertions), cached until near expiry.

The partner signs a short JWT with its private key: ``iss`` = ``sub`` = its client id,
``aud`` = the hub's token endpoint (``<issuer>/oauth/token``; the hub refuses any other
audience), a fresh ``jti`` (each assertion works once) and an ``exp`` a minute away. The
hub answers with a bearer token that lives ``expires_in`` seconds; :class:`TokenSource`
keeps it until ``refresh_margin`` seconds before then, one token per scope set.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSRegistry

__all__ = ["ASSERTION_TYPE", "TokenError", "TokenSource", "load_private_jwk", "make_assertion"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# What the hub accepts from partners: EC P-256 (ES256) or Ed25519 (EdDSA) keys.
_ALGORITHMS = ("ES256", "EdDSA")


class TokenError(Exception):
    """The token endpoint refused: ``status``, the RFC 6749 ``error`` and its description."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(f"{status} {error}: {description}".rstrip(": "))
        self.status = status
        self.error = error
        self.description = description


class _PartnerRegistry(JWSRegistry):
    """ES256 and EdDSA only; EdDSA without joserfc's RFC 9864 warning (the key is Ed25519)."""

    def get_alg(self, name: str):  # type: ignore[no-untyped-def]
        if name not in _ALGORITHMS:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return JWSRegistry.algorithms[name]


def load_private_jwk(path: str | Path) -> dict[str, Any]:
    """Read a private JWK file (as ``hub keys generate`` writes it)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "d" not in data or "kid" not in data:
        raise ValueError(f"{path}: not a private JWK with a kid")
    return data


def _import_key(private_jwk: Mapping[str, Any]) -> tuple[ECKey | OKPKey, str]:
    jwk = {k: v for k, v in private_jwk.items() if k != "demo_only"}
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return ECKey.import_key(jwk), "ES256"
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        return OKPKey.import_key(jwk), "EdDSA"
    raise ValueError("the hub accepts EC P-256 or Ed25519 partner keys only")


def make_assertion(
    client_id: str,
    private_jwk: Mapping[str, Any],
    audience: str,
    *,
    lifetime: int = 60,
    now: float | None = None,
) -> str:
    """A signed, single-use RFC 7523 client assertion (fresh ``jti``, ``exp`` soon)."""
    key, alg = _import_key(private_jwk)
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": alg, "kid": private_jwk["kid"]}
    return jwt.encode(header, claims, key, registry=_PartnerRegistry(algorithms=[alg]))


@dataclass
class _Cached:
    token: str
    expires_at: float


class TokenSource:
    """Bearer tokens for one partner, fetched with ``private_key_jwt`` and cached.

    ``issuer`` is the hub's ``HUB_ISSUER`` (the assertion's audience is
    ``<issuer>/oauth/token``); ``token_url`` defaults to the same URL. Thread-safe.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        private_jwk: Mapping[str, Any],
        *,
        token_url: str | None = None,
        session: requests.Session | None = None,
        refresh_margin: float = 30.0,
        assertion_lifetime: int = 60,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.audience = f"{self.issuer}/oauth/token"
        self.token_url = token_url or self.audience
        self._key = dict(private_jwk)
        _import_key(self._key)  # refuse an unusable key now, not at the first request
        self._session = session or requests.Session()
        self._margin = refresh_margin
        self._lifetime = assertion_lifetime
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[frozenset[str], _Cached] = {}
        self._lock = threading.Lock()
        self.requests_made = 0  # tokens fetched from the hub so far (not cache hits)

    def token(self, scopes: Iterable[str] | str) -> str:
        """A bearer token for ``scopes``: the cached one unless it is about to expire."""
        wanted = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
        with self._lock:
            cached = self._cache.get(wanted)
            if cached is not None and self._clock() < cached.expires_at - self._margin:
                return cached.token
            fresh = self._fetch(wanted)
            self._cache[wanted] = fresh
            return fresh.token

    def invalidate(self, scopes: Iterable[str] | str | None = None) -> None:
        """Forget a cached token (all of them without ``scopes``), e.g. after a 401."""
        with self._lock:
            if scopes is None:
                self._cache.clear()
            else:
                wanted = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
                self._cache.pop(wanted, None)

    def _fetch(self, scopes: frozenset[str]) -> _Cached:
        started = self._clock()  # the cache's clock; the assertion is dated by the real one
        assertion = make_assertion(
            self.client_id, self._key, self.audience, lifetime=self._lifetime
        )
        response = self._session.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "scope": " ".join(sorted(scopes)),
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
            timeout=self._timeout,
        )
        self.requests_made += 1
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or "access_token" not in body:
            raise TokenError(
                response.status_code,
                str(body.get("error", "invalid_response")),
                str(body.get("error_description", "")),
            )
        lifetime = float(body.get("expires_in", 0))
        return _Cached(str(body["access_token"]), started + lifetime)
