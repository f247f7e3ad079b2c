"""A partner system's side of the API, over real HTTP: client assertion → token → calls.

The scripted demo talks to the hub exactly as a partner's case-management system would:
it signs an RFC 7523 client assertion with the partner's (demo-only) private key, trades it
for a bearer token at ``/oauth/token`` and calls ``/api/v1``. Only the standard library is
used (``http.client``) so the demo needs nothing beyond the hub's own dependencies.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path
from typing import Any

from hub.client_assertion import make_assertion

SHARING_SCOPES = "referrals:write referrals:read log:read"


class HubUnavailable(RuntimeError):
    """The hub did not answer (connection refused, reset, timed out)."""


class TokenRefused(RuntimeError):
    """The token endpoint said no, with its RFC 6749 section 5.2 ``error`` code.

    Carried as data, not buried in a traceback, so ``hub token`` can print the code a
    developer acts on (``invalid_scope``, ``invalid_client``, ...) and exit non-zero.
    """

    def __init__(self, status: int, error: str, description: str) -> None:
        self.status = status
        self.error = error
        self.description = description
        super().__init__(f"{status} {error}: {description}" if description else f"{status} {error}")


@dataclasses.dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, content type and the body (parsed when it is JSON)."""

    status: int
    content_type: str
    body: Any

    @property
    def is_problem(self) -> bool:
        return self.content_type.startswith("application/problem+json")


class PartnerClient:
    """Calls the hub as any demo partner; caches one token per partner and scope set."""

    def __init__(self, base_url: str, issuer: str, keys_dir: Path, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._parts = parts
        self.token_url = f"{issuer.rstrip('/')}/oauth/token"
        self.keys_dir = keys_dir
        self.timeout = timeout
        self._tokens: dict[tuple[str, str], str] = {}

    # -- transport -----------------------------------------------------------------------
    def _connection(self) -> HTTPConnection:
        cls = HTTPSConnection if self._parts.scheme == "https" else HTTPConnection
        return cls(self._parts.hostname or "", self._parts.port, timeout=self.timeout)

    def raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request on a fresh connection and read the whole answer."""
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            content_type = response.getheader("Content-Type", "")
        except OSError as exc:
            raise HubUnavailable(f"{method} {path}: {exc}") from None
        finally:
            connection.close()
        parsed: Any = data.decode("utf-8", "replace")
        if "json" in content_type and data:
            parsed = json.loads(data)
        return Reply(response.status, content_type, parsed)

    # -- OAuth ---------------------------------------------------------------------------
    def private_jwk(self, partner_id: str) -> dict[str, Any]:
        """The partner's demo-only private JWK from ``keys/demo/``."""
        path = self.keys_dir / "demo" / f"{partner_id}.jwk"
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def assertion(self, partner_id: str) -> str:
        """A fresh single-use client assertion (new ``jti``) for ``partner_id``."""
        return make_assertion(partner_id, self.private_jwk(partner_id), audience=self.token_url)

    def exchange(self, assertion: str, scope: str) -> Reply:
        """``client_credentials`` with ``private_key_jwt``: what the partner POSTs."""
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "scope": scope,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.raw("POST", "/oauth/token", form, headers)

    def request_token(
        self, partner_id: str, scope: str, private_jwk: dict[str, Any] | None = None
    ) -> str:
        """Sign a fresh assertion (demo key unless ``private_jwk``) and trade it for a token.

        Raises :class:`TokenRefused` with the endpoint's ``error`` code when it says no.
        """
        jwk = private_jwk if private_jwk is not None else self.private_jwk(partner_id)
        assertion = make_assertion(partner_id, jwk, audience=self.token_url)
        reply = self.exchange(assertion, scope)
        if reply.status == 200 and isinstance(reply.body, dict) and "access_token" in reply.body:
            return str(reply.body["access_token"])
        body = reply.body if isinstance(reply.body, dict) else {}
        raise TokenRefused(
            reply.status,
            str(body.get("error") or "unexpected_response"),
            str(body.get("error_description") or ""),
        )

    def token(self, partner_id: str, scope: str = SHARING_SCOPES) -> str:
        """A bearer token for the partner (cached for the run; tokens live ten minutes)."""
        key = (partner_id, scope)
        if key not in self._tokens:
            self._tokens[key] = self.request_token(partner_id, scope)
        return self._tokens[key]

    # -- API -----------------------------------------------------------------------------
    def call(
        self,
        partner_id: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """An authenticated API call as ``partner_id``; ``body`` is sent as JSON."""
        sent = {"Authorization": f"Bearer {self.token(partner_id)}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        return self.raw(method, path, data, sent)
