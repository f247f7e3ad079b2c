"""The partner API (``/api/v1``): flask-smorest with problem+json errors.

Views here are thin: parse, authorise, call one service, serialise. flask-smorest's
app-wide ``HTTPException`` handler is overridden so every error, including routing
404/405 and webargs 422s, is rendered by :mod:`hub.errors` (flask-smorest#310).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from hub import errors
from hub.api.catalogue_schema import COMPONENT as MESSAGE_DATA_COMPONENT
from hub.api.catalogue_schema import message_data_schema
from hub.api.problems import ProblemSchema, register_problem_responses
from hub.oauth.scopes import SCOPES

if TYPE_CHECKING:
    from flask import Flask, Response

log = structlog.get_logger("hub.api")


class HubApi(Api):  # type: ignore[misc]
    """flask-smorest ``Api`` whose error handler speaks problem+json."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all ``default``: each operation declares every status it can return, so a
    # conformance run notices an undeclared one.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        """Error responses as ``application/problem+json`` (smorest says application/json)."""
        register_problem_responses(self.spec, self.ERROR_SCHEMA)

    def register_blueprint(self, blp: Any, **options: Any) -> None:
        """Register, and exempt from the console's CSRF check: the API takes bearer tokens.

        A browser never attaches a bearer token by itself, so cross-site request forgery
        has nothing to ride on here; the console (cookies) keeps the check.
        """
        super().register_blueprint(blp, **options)
        exempt = self._app.extensions.get("hub.csrf_exempt")
        if exempt is not None:
            exempt(blp)

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Render any HTTP error as problem+json; never leak exception text on 5xx."""
        status = error.code or 500
        data: dict[str, Any] = getattr(error, "data", None) or {}
        headers = dict(data.get("headers") or {})
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if status >= 500:
            original = getattr(error, "original_exception", None)
            if isinstance(error, InternalServerError) and original is not None:
                log.error("unhandled_exception", exc_type=type(original).__name__)
            return errors.problem_response(
                status, "The hub could not complete the request; quote the request_id."
            )
        messages = data.get("messages") or data.get("errors")
        if messages:
            return errors.problem_response(
                422 if status in (400, 422) else status,
                "The request does not match the API schema; see errors.",
                problem="validation" if status in (400, 422) else None,
                errors=errors.pointer_errors(messages),
                headers=headers,
            )
        detail = data.get("message") or _safe_description(error)
        return errors.problem_response(status, detail, headers=headers)


def _safe_description(error: HTTPException) -> str | None:
    """Werkzeug's stock descriptions are generic and safe; custom ones are ours."""
    return error.description if isinstance(error.description, str) else None


def init_app(app: Flask) -> None:
    """Configure OpenAPI 3.1, the OAuth security scheme and register the v1 blueprints."""
    from hub.api import docs, guards, platform

    settings = app.config["HUB_SETTINGS"]
    app.config.update(
        API_TITLE="hub partner API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Multi-agency information sharing under signed agreements. Every "
                    "/api/v1 route needs a bearer token from POST /oauth/token "
                    "(client_credentials, private_key_jwt). Errors are RFC 9457 "
                    "application/problem+json. Human-readable: GET /docs."
                )
            },
            "servers": [{"url": settings.issuer.rstrip("/"), "description": "This hub"}],
        },
    )
    api = HubApi(app)
    app.extensions["hub.api"] = api
    api.spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "client_credentials with private_key_jwt client authentication",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth/token",
                    "scopes": dict(SCOPES),
                }
            },
        },
    )
    api.spec.components.schema(
        MESSAGE_DATA_COMPONENT, message_data_schema(app.extensions["hub.catalogues"].fields)
    )
    # flask-smorest's pagination schema: the hub paginates with cursors and never uses it.
    api.spec.components.schemas.pop("PaginationMetadata", None)
    app.register_error_handler(errors.HubError, errors.from_hub_error)
    guards.init_app(app)
    from hub.api.ledger import TileConverter, tile_parameter_schema

    app.url_map.converters["tile"] = TileConverter
    api.register_converter(TileConverter, tile_parameter_schema)
    for blueprint in api_blueprints():
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    platform.document(app)
    docs.init_app(app)


def api_blueprints() -> tuple[Any, ...]:
    """The v1 blueprints (the console exempts them from CSRF: they take bearer tokens)."""
    from hub.api import (
        agreements,
        alerts,
        consents,
        corrections,
        ledger,
        marac,
        partners,
        referrals,
    )

    return (
        partners.blp,
        agreements.blp,
        referrals.blp,
        alerts.blp,
        corrections.blp,
        ledger.blp,
        consents.blp,
        marac.blp,
    )
