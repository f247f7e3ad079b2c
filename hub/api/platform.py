"""The routes outside ``/api/v1`` in the document: OAuth, ``/.well-known`` and the probes.

They are plain Flask views (OAuth speaks form bodies and RFC 6749 errors, not smorest's
JSON), so their operations are added to the spec here with ``spec.path``. Their schemas are
marshmallow classes like the rest, resolved into ``components/schemas`` by apispec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import marshmallow as ma
from apispec import APISpec

from hub.api.problems import ProblemSchema
from hub.errors import PROBLEM_MEDIA_TYPE
from hub.oauth.scopes import SCOPES
from hub.signing_algorithms import PARTNER_JWS_ALGORITHMS

if TYPE_CHECKING:
    from flask import Flask

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Issuer of the examples; the document's ``servers`` names the real one.
_ISSUER = "https://hub.example.gov.uk"
_ASSERTION = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtlbnQtY3NjLTIwMjYifQ.eyJpc3MiOiJrZW50LWNzYyJ9.c2ln"
_TOKEN = "hubat_EXAMPLE-not-a-real-token-Vh3tXj9QbTq5mB2oK8"  # noqa: S105 - documentation


class ClientAssertionSchema(ma.Schema):
    """RFC 7523 private_key_jwt: a short JWT signed with the partner's registered key."""

    client_assertion_type = ma.fields.String(
        required=True, validate=ma.validate.OneOf([ASSERTION_TYPE])
    )
    client_assertion = ma.fields.String(
        required=True,
        metadata={
            "description": "Compact JWS (ES256 or EdDSA): iss = sub = partner id, aud = the "
            "issuer or this endpoint's URL, a fresh jti (each assertion works once), exp "
            "within the hub's maximum lifetime"
        },
    )
    client_id = ma.fields.String(metadata={"description": "Optional; must equal iss"})


class TokenRequestSchema(ClientAssertionSchema):
    grant_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["client_credentials"]))
    scope = ma.fields.String(
        metadata={
            "description": "Space-separated scopes, all registered for the partner: "
            + ", ".join(SCOPES)
        }
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True, metadata={"description": "Opaque bearer"})
    token_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["Bearer"]))
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds"})
    scope = ma.fields.String(required=True)


class OAuthErrorSchema(ma.Schema):
    """RFC 6749 §5.2 error body (the OAuth endpoints do not speak problem+json)."""

    class Meta:
        unknown = ma.INCLUDE

    error = ma.fields.String(required=True, metadata={"description": "e.g. invalid_client"})
    error_description = ma.fields.String()


class TokenActionSchema(ClientAssertionSchema):
    token = ma.fields.String(required=True)
    token_type_hint = ma.fields.String(metadata={"description": "access_token"})


class IntrospectionSchema(ma.Schema):
    """RFC 7662 §2.2; only ``active`` when the token is unknown, expired or not yours."""

    active = ma.fields.Boolean(required=True)
    client_id = ma.fields.String()
    sub = ma.fields.String()
    scope = ma.fields.String()
    token_type = ma.fields.String()
    iat = ma.fields.Integer()
    exp = ma.fields.Integer()
    iss = ma.fields.String()


class RevocationSchema(ma.Schema):
    """RFC 7009 §2.2: an empty object, whether or not the token existed."""


class ServerMetadataSchema(ma.Schema):
    """RFC 8414 authorization server metadata."""

    class Meta:
        unknown = ma.INCLUDE

    issuer = ma.fields.String(required=True)
    token_endpoint = ma.fields.String(required=True)
    revocation_endpoint = ma.fields.String(required=True)
    introspection_endpoint = ma.fields.String(required=True)
    grant_types_supported = ma.fields.List(ma.fields.String(), required=True)
    response_types_supported = ma.fields.List(ma.fields.String(), required=True)
    scopes_supported = ma.fields.List(ma.fields.String(), required=True)
    token_endpoint_auth_methods_supported = ma.fields.List(ma.fields.String(), required=True)
    token_endpoint_auth_signing_alg_values_supported = ma.fields.List(
        ma.fields.String(), required=True
    )
    revocation_endpoint_auth_methods_supported = ma.fields.List(ma.fields.String())
    revocation_endpoint_auth_signing_alg_values_supported = ma.fields.List(ma.fields.String())
    introspection_endpoint_auth_methods_supported = ma.fields.List(ma.fields.String())
    introspection_endpoint_auth_signing_alg_values_supported = ma.fields.List(ma.fields.String())
    service_documentation = ma.fields.String()


class JWKSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    kty = ma.fields.String(required=True)
    kid = ma.fields.String(required=True)


class JWKSetSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JWKSchema), required=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok"]))


class ReadinessChecksSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    database = ma.fields.String(required=True)
    migrations = ma.fields.String(required=True)
    keys = ma.fields.String(required=True)


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["ready", "not ready"]))
    checks = ma.fields.Nested(ReadinessChecksSchema, required=True)


def _json(schema: Any, description: str, example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {JSON: content}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": ProblemSchema}}}


def _oauth_errors() -> dict[str | int, Any]:
    return {
        400: _json(
            OAuthErrorSchema,
            "invalid_request, invalid_client, invalid_grant, "
            "invalid_scope or unsupported_grant_type (RFC 6749 §5.2)",
        ),
        401: _json(OAuthErrorSchema, "Client authentication failed"),
        413: "REQUEST_ENTITY_TOO_LARGE",
        415: "UNSUPPORTED_MEDIA_TYPE",
        503: "SERVICE_UNAVAILABLE",
    }


def _form(schema: Any, example: dict[str, str]) -> dict[str, Any]:
    return {"required": True, "content": {FORM: {"schema": schema, "example": example}}}


def _oauth_operations(app: Flask) -> None:
    _path(
        app,
        "oauth.token",
        {
            "post": {
                "operationId": "createToken",
                "tags": ["oauth"],
                "summary": "Get an access token (client_credentials, private_key_jwt)",
                "description": "RFC 6749 §4.4 with RFC 7523 client authentication. Tokens "
                "are opaque, live `HUB_TOKEN_LIFETIME` seconds and act only as the partner.",
                "security": [],
                "requestBody": _form(
                    TokenRequestSchema,
                    {
                        "grant_type": "client_credentials",
                        "scope": "referrals:write referrals:read",
                        "client_assertion_type": ASSERTION_TYPE,
                        "client_assertion": _ASSERTION,
                    },
                ),
                "responses": {
                    200: _json(
                        TokenSchema,
                        "An access token",
                        {
                            "access_token": _TOKEN,
                            "token_type": "Bearer",
                            "expires_in": 600,
                            "scope": "referrals:write referrals:read",
                        },
                    ),
                    **_oauth_errors(),
                },
            }
        },
    )
    _path(
        app,
        "oauth.introspect",
        {
            "post": {
                "operationId": "introspectToken",
                "tags": ["oauth"],
                "summary": "Introspect one of your own tokens (RFC 7662)",
                "description": "Client-authenticated like the token endpoint; another "
                "partner's token, or an unknown, expired or revoked one, is `active: false`.",
                "security": [],
                "requestBody": _form(
                    TokenActionSchema,
                    {
                        "token": _TOKEN,
                        "client_assertion_type": ASSERTION_TYPE,
                        "client_assertion": _ASSERTION,
                    },
                ),
                "responses": {
                    200: _json(
                        IntrospectionSchema,
                        "The token's state",
                        {
                            "active": True,
                            "client_id": "kent-csc",
                            "sub": "kent-csc",
                            "scope": "referrals:write referrals:read",
                            "token_type": "Bearer",
                            "iat": 1796111910,
                            "exp": 1796112510,
                            "iss": _ISSUER,
                        },
                    ),
                    **_oauth_errors(),
                },
            }
        },
    )
    _path(
        app,
        "oauth.revoke",
        {
            "post": {
                "operationId": "revokeToken",
                "tags": ["oauth"],
                "summary": "Revoke one of your own tokens (RFC 7009)",
                "description": "Effective at once on every /api/v1 route.",
                "security": [],
                "requestBody": _form(
                    TokenActionSchema,
                    {
                        "token": _TOKEN,
                        "client_assertion_type": ASSERTION_TYPE,
                        "client_assertion": _ASSERTION,
                    },
                ),
                "responses": {
                    200: _json(RevocationSchema, "Revoked (or unknown)", {}),
                    **_oauth_errors(),
                },
            }
        },
    )


def _well_known_operations(app: Flask) -> None:
    algs = list(PARTNER_JWS_ALGORITHMS)
    _path(
        app,
        "oauth.metadata",
        {
            "get": {
                "operationId": "getAuthorizationServerMetadata",
                "tags": ["oauth"],
                "summary": "OAuth authorization server metadata (RFC 8414)",
                "description": "Where the token, introspection and revocation endpoints are, "
                "and what they accept: client_credentials, private_key_jwt with ES256 or EdDSA.",
                "security": [],
                "responses": {
                    200: _json(
                        ServerMetadataSchema,
                        "Endpoints, grant, scopes and client authentication",
                        {
                            "issuer": _ISSUER,
                            "token_endpoint": f"{_ISSUER}/oauth/token",
                            "revocation_endpoint": f"{_ISSUER}/oauth/revoke",
                            "introspection_endpoint": f"{_ISSUER}/oauth/introspect",
                            "grant_types_supported": ["client_credentials"],
                            "response_types_supported": [],
                            "scopes_supported": list(SCOPES),
                            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                            "token_endpoint_auth_signing_alg_values_supported": algs,
                            "service_documentation": f"{_ISSUER}/openapi.json",
                        },
                    )
                },
            }
        },
    )
    _path(
        app,
        "webhook_jwks.jwks",
        {
            "get": {
                "operationId": "getWebhookKeys",
                "tags": ["webhooks"],
                "summary": "The public key webhook deliveries are signed with",
                "description": "Receivers verify each push's signature with it; cacheable.",
                "security": [],
                "responses": {
                    200: _json(
                        JWKSetSchema,
                        "JWK Set (public members only)",
                        {
                            "keys": [
                                {
                                    "kty": "OKP",
                                    "crv": "Ed25519",
                                    "kid": "hub-webhook-2026",
                                    "alg": "EdDSA",
                                    "use": "sig",
                                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                                }
                            ]
                        },
                    ),
                    503: _problem("The webhook key does not exist yet (run `hub init`)"),
                },
            }
        },
    )


def _probe_operations(app: Flask) -> None:
    ready = {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "keys": "ok"},
    }
    _path(
        app,
        "health.healthz",
        {
            "get": {
                "operationId": "getHealth",
                "tags": ["probes"],
                "summary": "Liveness: the process answers (touches no dependency)",
                "description": "For a load balancer or orchestrator: 200 whenever the "
                "process can answer at all, even with the database down.",
                "security": [],
                "responses": {200: _json(HealthSchema, "Up", {"status": "ok"})},
            }
        },
    )
    _path(
        app,
        "health.readyz",
        {
            "get": {
                "operationId": "getReadiness",
                "tags": ["probes"],
                "summary": "Readiness: database reachable, migrations at head, keys loaded",
                "description": "503 with each failing check named until the hub can serve.",
                "security": [],
                "responses": {
                    200: _json(ReadinessSchema, "Ready to serve", ready),
                    503: _json(
                        ReadinessSchema,
                        "Not ready; each check says why",
                        {
                            "status": "not ready",
                            "checks": {
                                "database": "unreachable",
                                "migrations": "unknown",
                                "keys": "ok",
                            },
                        },
                    ),
                },
            }
        },
    )


def _path(app: Flask, endpoint: str, operations: dict[str, Any]) -> None:
    """Document the Flask view ``endpoint`` (its rule gives the path) with ``operations``."""
    spec: APISpec = app.extensions["hub.api"].spec
    spec.path(rule=next(app.url_map.iter_rules(endpoint)), operations=operations)


def document(app: Flask) -> None:
    """Add the OAuth, well-known and probe operations to the app's document."""
    _oauth_operations(app)
    _well_known_operations(app)
    _probe_operations(app)
