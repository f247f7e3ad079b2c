"""Protecting ``/api/v1``: bearer tokens, AND-scopes, and problem+json 401/403.

authlib reads a *list* of scopes as OR; :func:`requires` always means "every one of these"
(authlib#432). A token only ever acts as the partner it was issued to: views get the caller
from :func:`current_partner_id`, never from the request body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from hub import counters as hub_counters
from hub import db, errors
from hub.oauth.cache import TOKENS, CachedToken
from hub.oauth.models import AccessToken, token_hash
from hub.oauth.scopes import SCOPES
from hub.partners.models import Partner

F = TypeVar("F", bound=Callable[..., Any])
REALM = "hub"


class OAuthResourceError(HTTPException):
    """An authlib resource error carried to our problem+json handler with its headers."""

    def __init__(self, status: int, error: str, description: str, headers: dict[str, str]):
        super().__init__(description)
        self.code = status
        self.error = error
        self.oauth_headers = headers


class HubBearerTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    """Look a bearer token up by its hash; expiry and revocation are checked by authlib.

    A token of a partner that is no longer active is unknown: deactivation by ``hub sync``
    ends access at once, whatever the token's expiry (sync also revokes them).

    Found tokens are cached per process (:class:`TokenCache`) under the credentials
    counter read at the start of the request (:mod:`hub.counters`): any revocation,
    deactivation or direct edit of a token or partner row moves the counter, in every
    process at once, and the next request looks the token up again.
    """

    def authenticate_token(self, token_string: str) -> CachedToken | None:
        session = db.session()
        counters = hub_counters.current(session)  # before the lookup: see current()
        digest = token_hash(token_string)
        if counters is not None:
            cached = TOKENS.get(digest, counters.credentials)
            if cached is not None:
                return cached
        row = session.scalar(
            select(AccessToken)
            .join(Partner, Partner.id == AccessToken.client_id)
            .where(AccessToken.token_hash == digest, Partner.active.is_(True))
        )
        if row is None:
            return None  # unknown tokens are never cached: no one can fill the cache
        token = CachedToken.of(row)
        if counters is not None and not token.is_revoked():
            TOKENS.put(digest, counters.credentials, token)
        return token


class HubResourceProtector(ResourceProtector):  # type: ignore[misc]
    """Raise :class:`OAuthResourceError` so smorest's generic handler cannot eat the headers."""

    def raise_error_response(self, error: OAuth2Error) -> None:
        """Build the RFC 6750 §3 challenge ourselves: ``Bearer`` cased as the RFC writes it,
        no error code when credentials were simply absent, and one for insufficient scope."""
        code = error.error or "invalid_token"
        challenge = f'Bearer realm="{REALM}"'
        if code != "missing_authorization":
            challenge += f', error="{code}"'
        raise OAuthResourceError(
            error.status_code, code, error.description or "", {"WWW-Authenticate": challenge}
        )


require_oauth = HubResourceProtector()
require_oauth.register_token_validator(HubBearerTokenValidator())

_DETAILS = {
    "missing_authorization": "Send 'Authorization: Bearer <token>' from POST /oauth/token.",
    "invalid_token": "The access token is unknown, expired or revoked; get a new one.",
    "insufficient_scope": "The access token lacks a scope this route needs.",
    "unsupported_token_type": "Only Bearer tokens are accepted.",
}


def render_resource_error(error: OAuthResourceError) -> Response:
    """problem+json with the RFC 6750 ``WWW-Authenticate`` header kept."""
    problem = "forbidden" if error.code == 403 else "unauthorized"
    return errors.problem_response(
        error.code or 401,
        _DETAILS.get(error.error, "Authentication failed."),
        problem=problem,
        headers=error.oauth_headers,
        oauth_error=error.error,
    )


def requires(*scopes: str) -> Callable[[F], F]:
    """Require a valid token holding **all** ``scopes``; documents the security in OpenAPI."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}: add them to hub/oauth/scopes.py")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                # One space-separated string: authlib treats it as AND.
                require_oauth.acquire_token([" ".join(scopes)])
            except OAuth2Error as error:
                require_oauth.raise_error_response(error)
            structlog.contextvars.bind_contextvars(client_id=current_partner_id())
            return view(*args, **kwargs)

        documented = Blueprint.doc(
            security=[{"oauth2": list(scopes)}],
            # Problem responses registered by hub.api.problems (one per status name).
            responses={401: "UNAUTHORIZED", 403: "FORBIDDEN", 503: "SERVICE_UNAVAILABLE"},
        )
        return documented(wrapper)  # type: ignore[no-any-return]

    return decorate


def current_partner_id() -> str:
    """The partner the current token was issued to (the only identity a view may act as)."""
    return str(current_token.client_id)


def current_scopes() -> frozenset[str]:
    """The scopes the current token holds (for routes whose answer depends on one)."""
    return frozenset(str(current_token.get_scope() or "").split())


def init_app(app: Any) -> None:
    """Register the specific handler (Flask picks it over the generic HTTPException one)."""
    app.register_error_handler(OAuthResourceError, render_resource_error)
