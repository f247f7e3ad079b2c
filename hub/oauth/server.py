"""The OAuth 2.0 authorization server: client_credentials with private_key_jwt only.

Read ``reference/flask-style-authlib.md`` §2 before changing this file: authlib's defaults
(auth method name, 10-day token lifetime, unimplemented ``jti`` check, OR scope lists,
plaintext tokens) are each wrong for the hub, and each is overridden here on purpose.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import structlog
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidClientError,
    InvalidScopeError,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hub import db
from hub.oauth.models import TOKEN_PREFIX, AccessToken, UsedAssertion, token_hash
from hub.oauth.scopes import SCOPES, parse_scope
from hub.partners.models import Partner
from hub.signing_algorithms import partner_jws_registry

log = structlog.get_logger("hub.oauth")
AUTH_METHOD = "private_key_jwt"


class PartnerClient(ClientMixin):  # type: ignore[misc]
    """A partner seen as an OAuth client: ``client_id`` is the partner id (DESIGN.md)."""

    def __init__(self, partner: Partner) -> None:
        self.partner = partner
        self.client_id = partner.id

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Grant exactly what was asked, if all of it is allowed; otherwise nothing.

        authlib's default silently drops unknown scopes; a partner asking for a scope it
        does not hold should learn so (``invalid_scope``), not get a weaker token.
        """
        requested = parse_scope(scope)
        if not requested or not set(requested) <= set(self.partner.scopes):
            raise InvalidScopeError(
                description="request one or more scopes registered for this partner"
            )
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # partners never hold shared secrets

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Every endpoint (token, introspection, revocation) needs private_key_jwt.
        return method == AUTH_METHOD and self.partner.active

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


def query_client(client_id: str) -> PartnerClient | None:
    """Find the active partner whose id is ``client_id``."""
    partner = db.session().get(Partner, client_id)
    if partner is None or not partner.active:
        return None
    return PartnerClient(partner)


def save_token(token: dict[str, Any], request: Any) -> None:
    """Store only the SHA-256 of the new token, and commit."""
    now = db.utcnow()
    row = AccessToken(
        token_hash=token_hash(token["access_token"]),
        client_id=request.client.client_id,
        scope=token.get("scope", ""),
        issued_at=now,
        expires_at=now + dt.timedelta(seconds=int(token["expires_in"])),
    )
    session = db.session()
    session.add(row)
    session.commit()
    log.info("token_issued", client_id=row.client_id, scope=row.scope)


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """RFC 7523 client authentication with a partner's registered public key."""

    CLIENT_AUTH_METHOD = AUTH_METHOD

    def get_audiences(self) -> list[str]:
        """The issuer or one of its endpoint URLs; any other ``aud`` is refused."""
        issuer = current_app.config["HUB_SETTINGS"].issuer.rstrip("/")
        return [issuer] + [f"{issuer}/oauth/{name}" for name in ("token", "revoke", "introspect")]

    def resolve_client_public_key(self, client: PartnerClient) -> KeySet:
        """The partner's public keys as joserfc objects (never HMAC keys)."""
        return KeySet.import_key_set(client.partner.jwks)  # type: ignore[arg-type]

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        """Verify with ES256/EdDSA only; ``alg: none`` and HS256 never reach a key."""
        try:
            token = jwt.decode(assertion, resolve_key, registry=partner_jws_registry())
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="client assertion signature invalid") from exc
        self.verify_claims(token.claims)
        return dict(token.claims)

    def verify_claims(self, claims: Any) -> None:
        """authlib's checks plus a cap on lifetime, so spent ``jti`` rows can expire."""
        super().verify_claims(claims)
        settings = current_app.config["HUB_SETTINGS"]
        exp = claims.get("exp")
        now = db.utcnow().timestamp()
        if not isinstance(exp, int | float) or exp > now + settings.assertion_max_lifetime:
            raise InvalidClientError(
                description=f"client assertion must expire within "
                f"{settings.assertion_max_lifetime} seconds"
            )

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Record the ``jti``; a second use of the same one fails (unique constraint)."""
        if not isinstance(jti, str) or not 8 <= len(jti) <= 200:
            return False
        session = db.session()
        now = db.utcnow()
        session.execute(
            delete(UsedAssertion).where(UsedAssertion.expires_at < now - dt.timedelta(minutes=5))
        )
        expires = dt.datetime.fromtimestamp(float(claims["exp"]) + self.leeway, dt.UTC)
        session.add(UsedAssertion(issuer=str(claims["iss"]), jti=jti, expires_at=expires))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.warning("assertion_replayed", client_id=str(claims["iss"]))
            return False
        return True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """client_credentials, authenticated only by private_key_jwt, never a refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]


def _find_token(token_string: str) -> AccessToken | None:
    return db.session().scalar(
        select(AccessToken).where(AccessToken.token_hash == token_hash(token_string))
    )


class HubRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a partner revokes its own tokens (authenticated by private_key_jwt)."""

    CLIENT_AUTH_METHODS = [AUTH_METHOD]
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | None:
        return _find_token(token_string)

    def revoke_token(self, token: AccessToken, request: Any) -> None:
        session = db.session()
        token.revoked_at = db.utcnow()
        session.commit()
        log.info("token_revoked", client_id=token.client_id)


class HubIntrospectionEndpoint(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662: a partner may introspect its own tokens only."""

    CLIENT_AUTH_METHODS = [AUTH_METHOD]
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | None:
        return _find_token(token_string)

    def check_permission(self, token: AccessToken, client: PartnerClient, request: Any) -> bool:
        return token.client_id == client.client_id

    def introspect_token(self, token: AccessToken) -> dict[str, Any]:
        issuer = current_app.config["HUB_SETTINGS"].issuer
        return {
            "active": True,
            "client_id": token.client_id,
            "sub": token.client_id,
            "scope": token.scope,
            "token_type": "Bearer",
            "iat": int(token.issued_at.timestamp()),
            "exp": int(token.expires_at.timestamp()),
            "iss": issuer,
        }


class IssuerRequest(FlaskOAuth2Request):  # type: ignore[misc]
    """An OAuth request whose URI is the configured issuer's, never built from ``Host``.

    authlib refuses a non-https URI (``InsecureTransportError``) and would otherwise see
    whatever ``Host`` a client sends: ``Host: evil.example`` made every token request a 500.
    The hub's OAuth endpoints live at ``HUB_ISSUER``; that is the URI they are checked at.
    """

    def __init__(self, request: Any, issuer: str) -> None:
        path = request.full_path.rstrip("?")
        OAuth2Request.__init__(
            self, method=request.method, uri=issuer.rstrip("/") + path, headers=request.headers
        )
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's Flask server with requests anchored at the issuer (:class:`IssuerRequest`)."""

    def create_oauth2_request(self, request: Any) -> IssuerRequest:
        from flask import request as flask_request

        issuer = current_app.config["HUB_SETTINGS"].issuer
        return IssuerRequest(request if request is not None else flask_request, issuer)


def generate_access_token(*_args: Any, **_kwargs: Any) -> str:
    """A prefixed opaque token: 256 bits of randomness, recognisable in leak scanners."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_authorization_server(app: Any) -> AuthorizationServer:
    """Build the server for ``app`` with the hub's grant, auth method and endpoints."""
    settings = app.config["HUB_SETTINGS"]
    app.config.update(
        OAUTH2_SCOPES_SUPPORTED=list(SCOPES),
        OAUTH2_TOKEN_EXPIRES_IN={"client_credentials": settings.token_lifetime},
        OAUTH2_ACCESS_TOKEN_GENERATOR=generate_access_token,
        OAUTH2_REFRESH_TOKEN_GENERATOR=False,
    )
    server = HubAuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_client_auth_method(AUTH_METHOD, PrivateKeyJWT(leeway=30))
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(HubRevocationEndpoint)
    server.register_endpoint(HubIntrospectionEndpoint)
    return server
