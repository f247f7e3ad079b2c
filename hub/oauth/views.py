"""OAuth endpoints on a plain Flask blueprint: form-encoded in, RFC 6749 errors out."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import Blueprint, Response, current_app, jsonify

from hub.oauth.scopes import SCOPES
from hub.signing_algorithms import PARTNER_JWS_ALGORITHMS

bp = Blueprint("oauth", __name__)


def _server() -> Any:
    return current_app.extensions["hub.oauth_server"]


def _answer(respond: Any, *args: str) -> Response:
    """Run an authlib endpoint; an http issuer off loopback is an RFC 6749 error, not a 500."""
    server = _server()
    try:
        return respond(*args)  # type: ignore[no-any-return]
    except InsecureTransportError as error:
        return server.handle_error_response(None, error)  # type: ignore[no-any-return]


@bp.post("/oauth/token")
def token() -> Response:
    """RFC 6749 §4.4 client_credentials; client authentication by RFC 7523 private_key_jwt."""
    return _answer(_server().create_token_response)


@bp.post("/oauth/revoke")
def revoke() -> Response:
    """RFC 7009 token revocation."""
    return _answer(_server().create_endpoint_response, "revocation")


@bp.post("/oauth/introspect")
def introspect() -> Response:
    """RFC 7662 token introspection (a partner may introspect its own tokens)."""
    return _answer(_server().create_endpoint_response, "introspection")


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """RFC 8414 authorization server metadata."""
    issuer = current_app.config["HUB_SETTINGS"].issuer.rstrip("/")
    auth_methods = ["private_key_jwt"]
    algs = list(PARTNER_JWS_ALGORITHMS)
    return jsonify(
        issuer=issuer,
        token_endpoint=f"{issuer}/oauth/token",
        revocation_endpoint=f"{issuer}/oauth/revoke",
        introspection_endpoint=f"{issuer}/oauth/introspect",
        grant_types_supported=["client_credentials"],
        response_types_supported=[],
        scopes_supported=list(SCOPES),
        token_endpoint_auth_methods_supported=auth_methods,
        token_endpoint_auth_signing_alg_values_supported=algs,
        revocation_endpoint_auth_methods_supported=auth_methods,
        revocation_endpoint_auth_signing_alg_values_supported=algs,
        introspection_endpoint_auth_methods_supported=auth_methods,
        introspection_endpoint_auth_signing_alg_values_supported=algs,
        service_documentation=f"{issuer}/openapi.json",
    )
