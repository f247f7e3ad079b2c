"""hub: a secure multi-agency information-sharing hub for community-safety partnerships.

:func:`create_app` is the one factory: a flat list of named steps, logging first, in the
style of indico's ``make_app``. Nothing happens at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from flask import Response

    from hub.settings import Settings

# Largest request body accepted anywhere (the 10,000-referral batch is the biggest).
MAX_CONTENT_LENGTH = 32 * 1024 * 1024
# Same-origin everything, no framing, no inline script: the web console is built to it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the hub from ``settings`` (default: read and validate ``HUB_*`` variables)."""
    settings = _load_settings(settings)
    _configure_logging(settings)
    app = _make_flask(settings)
    _bind_request_ids(app)
    _connect_database(app, settings)
    _pin_log_origin(app, settings)
    _load_signing_key(app, settings)
    _load_catalogues(app, settings)
    _build_sharing_context(app, settings)
    _set_up_oauth(app)
    _register_console(app)  # before the API: its CSRF exemption covers the API
    _register_probes(app)
    _register_metrics(app)
    _publish_webhook_key(app, settings)
    _register_api(app)  # after every route it documents
    _add_security_headers(app, settings)
    return app


def _load_settings(settings: Settings | None) -> Settings:
    from hub.settings import Settings

    settings = settings if settings is not None else Settings.from_env()
    settings = settings.with_defaults()
    settings.validate()
    return settings


def _configure_logging(settings: Settings) -> None:
    from hub.logging import configure_logging

    configure_logging(settings)


def _make_flask(settings: Settings) -> Flask:
    from hub.instance_secrets import secret_key

    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        HUB_SETTINGS=settings,
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_HTTPONLY=True,
        # Lax, not Strict: the single sign-on callback arrives as a top-level navigation
        # from the identity provider, and a Strict cookie would not be sent with it.
        SESSION_COOKIE_SAMESITE="Lax",
    )
    return app


def _bind_request_ids(app: Flask) -> None:
    from hub import logging as hub_logging

    hub_logging.init_app(app)


def _connect_database(app: Flask, settings: Settings) -> None:
    from hub import db

    db.init_app(app, settings)


def _pin_log_origin(app: Flask, settings: Settings) -> None:
    """Pin the log's origin on first start; refuse to start under any other origin.

    A database that is down or not yet migrated is not fatal here: ``/readyz`` reports it,
    and no checkpoint can be signed under a wrong origin whenever it comes back.
    """
    import structlog
    from sqlalchemy.exc import SQLAlchemyError

    from hub.ledger.origin import OriginMismatch, pin_origin
    from hub.settings import SettingsError

    try:
        with app.extensions["hub.sessionmaker"]() as session:
            pin_origin(session, settings.log_origin)
            session.commit()
    except OriginMismatch as exc:
        app.extensions["hub.engine"].dispose()  # this app will never serve: close its pool
        raise SettingsError([f"HUB_ORIGIN: {exc}"]) from None
    except SQLAlchemyError as exc:
        structlog.get_logger("hub").warning("log_origin_unchecked", exc_type=type(exc).__name__)


def _load_signing_key(app: Flask, settings: Settings) -> None:
    """Load the hub's checkpoint key if ``hub init`` made it; ``/readyz`` reports if not."""
    from hub.ledger import sequencer
    from hub.ledger.checkpoint import ensure_signing_key

    path = settings.signing_key_file
    key = ensure_signing_key(path) if path.exists() else None
    app.extensions["hub.signing_key"] = key
    sequencer.configure(
        app.extensions["hub.engine"],
        sequencer.Config(
            signing_key=key,
            origin=settings.log_origin,
            checkpoint_every=settings.checkpoint_every,
            checkpoint_interval=settings.checkpoint_interval,
            wait=settings.sequencer_wait,
        ),
    )


def _load_catalogues(app: Flask, settings: Settings) -> None:
    """The field and lawful-basis catalogues from ``policies/`` (code reviewed in git)."""
    from hub.policy import load_catalogues

    app.extensions["hub.catalogues"] = load_catalogues(settings.policies_dir)


def _build_sharing_context(app: Flask, settings: Settings) -> None:
    """Keys and secrets the sharing services need (master key, subject secret)."""
    from hub.sharing.context import build_context

    app.extensions["hub.sharing"] = build_context(
        settings, app.extensions["hub.catalogues"], app.extensions["hub.signing_key"]
    )


def _set_up_oauth(app: Flask) -> None:
    from hub import oauth

    oauth.init_app(app)


def _register_api(app: Flask) -> None:
    from hub import api

    api.init_app(app)


def _register_console(app: Flask) -> None:
    """``/console``: the people's console (sign-in, roles, CSRF, CSP)."""
    from hub import web

    web.init_app(app)


def _register_probes(app: Flask) -> None:
    from hub import health

    app.register_blueprint(health.bp)


def _register_metrics(app: Flask) -> None:
    """``/metrics`` for Prometheus, and request timing per route (README "Monitoring")."""
    from hub import metrics

    metrics.init_app(app)


def _publish_webhook_key(app: Flask, settings: Settings) -> None:
    """``/.well-known/jwks.json``: the key partners verify webhook signatures with."""
    from hub.delivery import jwks

    jwks.init_app(app, settings)


def _add_security_headers(app: Flask, settings: Settings) -> None:
    """No caching of anything that may hold personal data or tokens; no sniffing, no
    framing, a strict CSP, HSTS when serving production over https, and no ``Server``
    banner (the servers' own are dropped in hub/serving.py)."""

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        if settings.production:
            response.headers["Strict-Transport-Security"] = HSTS
        response.headers.pop("Server", None)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
