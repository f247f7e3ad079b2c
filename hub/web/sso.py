"""OIDC single sign-on per partner (authlib's Flask client; PKCE S256, nonce, RS256 etc.).

The state, nonce and PKCE verifier wait in the session cookie between the redirect to the
identity provider and its callback; that callback is a top-level navigation from another
site, which is why the session cookie is SameSite=Lax rather than Strict.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import structlog
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import abort, current_app, redirect, request, url_for
from flask import session as cookie
from joserfc.errors import JoseError
from requests import RequestException
from werkzeug.wrappers import Response

from hub import db
from hub.people.single_sign_on import SsoProvider, person_for, read_providers
from hub.web import bp
from hub.web.access import safe_next
from hub.web.auth import config, login_page, start_session

if TYPE_CHECKING:
    from flask import Flask

    from hub.settings import Settings

log = structlog.get_logger("hub.web.sso")
IDP_TIMEOUT_SECONDS = 10
# What a failed exchange can raise: OAuth errors, a bad or mis-signed id_token (authlib and
# joserfc errors, some ValueError subclasses), an identity provider that does not answer.
_EXCHANGE_ERRORS = (AuthlibBaseError, JoseError, ValueError, KeyError, RequestException)


def init_app(app: Flask, settings: Settings) -> None:
    """Register one OIDC client per partner whose file has an ``[sso]`` table."""
    oauth = OAuth(app)
    providers: dict[str, SsoProvider] = {}
    for provider in read_providers(settings.policies_dir):
        kwargs: dict[str, Any] = {
            "scope": provider.scope,
            "code_challenge_method": "S256",
            "default_timeout": IDP_TIMEOUT_SECONDS,
        }
        secret = None
        if provider.client_secret_env:
            secret = os.environ.get(provider.client_secret_env)
            if not secret:
                log.warning("sso_disabled_secret_missing", partner=provider.partner_id,
                            variable=provider.client_secret_env)
                continue
        else:
            kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 - public client, PKCE
        oauth.register(
            name=provider.partner_id,
            client_id=provider.client_id,
            client_secret=secret,
            server_metadata_url=provider.server_metadata_url,
            client_kwargs=kwargs,
        )
        providers[provider.partner_id] = provider
    app.extensions["hub.sso"] = (oauth, providers)


def sso_buttons() -> list[tuple[str, str]]:
    _oauth, providers = current_app.extensions["hub.sso"]
    return [(p.partner_id, p.label) for p in providers.values()]


def _client(partner_id: str) -> tuple[Any, SsoProvider]:
    oauth, providers = current_app.extensions["hub.sso"]
    provider = providers.get(partner_id)
    if provider is None:
        abort(404)
    return oauth.create_client(partner_id), provider


@bp.get("/sso/<partner_id>")
def sso_start(partner_id: str) -> Response | tuple[str, int]:
    client, _provider = _client(partner_id)
    cookie["pending"] = {"next": safe_next(request.args.get("next"))}
    redirect_uri = config().origin + url_for("console.sso_callback", partner_id=partner_id)
    try:
        return client.authorize_redirect(redirect_uri)  # type: ignore[no-any-return]
    except RequestException:
        log.warning("sso_idp_unreachable", partner=partner_id)
        return _refused("The identity provider could not be reached. Try again later.", 502)


@bp.get("/sso/<partner_id>/callback")
def sso_callback(partner_id: str) -> Response | tuple[str, int]:
    client, provider = _client(partner_id)
    try:
        token = client.authorize_access_token()
    except _EXCHANGE_ERRORS as exc:
        log.info("sso_refused", partner=partner_id, error=type(exc).__name__)
        return _refused()
    claims = token.get("userinfo") or {}
    session = db.session()
    person = person_for(
        session, provider, dict(claims), email_key=config().sign_in.email_key,
        endpoint="console.sso_callback",
    )
    if person is None:
        session.commit()
        return _refused()
    nxt = start_session(person, "sso")
    return redirect(nxt or url_for("console.home"))


def _refused(
    message: str = "Single sign-on did not identify a person allowed into this console.",
    status: int = 403,
) -> tuple[str, int]:
    return login_page(error=message), status
