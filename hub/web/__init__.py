"""The console for people (``/console``): Jinja pages, htmx, a strict CSP, sessions + MFA.

``init_app`` registers the ``console`` blueprint, CSRF protection (every console form and
htmx request; the bearer-token API and OAuth endpoints are exempt, a token in a header is
not sent by a browser on its own), the server-side session rules, single sign-on clients
and the security headers. View modules register their routes on :data:`bp` when imported;
add a new one to :data:`VIEW_MODULES`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from typing import TYPE_CHECKING, Any

from flask import Blueprint
from flask_wtf.csrf import CSRFError, CSRFProtect

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response

    from hub.people.accounts import SignInRules
    from hub.people.sessions import SessionRules
    from hub.settings import Settings

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
csrf = CSRFProtect()

# Modules whose import registers console routes on ``bp``.
VIEW_MODULES: tuple[str, ...] = (
    "hub.web.auth",
    "hub.web.dpo",
    "hub.web.enrol",
    "hub.web.home",
    "hub.web.keys",
    "hub.web.marac",
    "hub.web.marac_agency",
    "hub.web.sso",
)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


@dataclasses.dataclass(frozen=True)
class ConsoleConfig:
    """What the console's views need from the settings, built once per app."""

    settings: Settings
    sign_in: SignInRules
    session_rules: SessionRules
    origin: str
    rp_id: str


def init_app(app: Flask) -> None:
    """Register the console blueprint, CSRF, session rules, SSO and headers."""
    from hub.web import access

    settings: Settings = app.config["HUB_SETTINGS"]
    app.extensions["hub.console"] = _console_config(settings)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the session, which expires
    app.config.setdefault("WTF_CSRF_SSL_STRICT", settings.production)
    csrf.init_app(app)
    _exempt_bearer_apis(app)
    for name in VIEW_MODULES:
        importlib.import_module(name)
    if "console" not in app.blueprints:
        app.register_blueprint(bp)
    access.collect_routes(app)
    from hub.web import sso

    sso.init_app(app, settings)


def _console_config(settings: Settings) -> ConsoleConfig:
    from urllib.parse import urlsplit

    from hub.people.accounts import rules_from_settings
    from hub.people.sessions import SessionRules

    rules = SessionRules(
        idle=dt.timedelta(minutes=settings.console_idle_minutes),
        absolute=dt.timedelta(hours=settings.console_absolute_hours),
    )
    origin = settings.console_base
    return ConsoleConfig(
        settings, rules_from_settings(settings), rules, origin, urlsplit(origin).hostname or ""
    )


def _exempt_bearer_apis(app: Flask) -> None:
    """The partner API and OAuth endpoints take bearer tokens or client assertions only."""
    from hub.api import api_blueprints
    from hub.oauth import views

    for blueprint in (*api_blueprints(), views.bp):
        csrf.exempt(blueprint)
    app.extensions["hub.csrf_exempt"] = csrf.exempt  # for API blueprints registered later


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    from flask import g

    from hub.people.roles import ROLE_LABELS
    from hub.web.access import nav_links

    person = g.get("console_person")
    return {"person": person, "nav": nav_links(person), "role_labels": ROLE_LABELS}


@bp.after_request
def _security_headers(response: Response) -> Response:
    """A strict CSP on every console response (a policy set app-wide, if any, wins).

    Referrer-Policy ``same-origin`` (rather than the API's ``no-referrer``): the console's
    own form posts then carry a Referer, which Flask-WTF checks over HTTPS
    (``WTF_CSRF_SSL_STRICT``), while nothing leaks to other sites.
    """
    from flask import current_app

    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.extensions["hub.console"].settings.production:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(_error: CSRFError) -> tuple[str, int]:
    from flask import render_template

    return render_template(
        "error.html", heading="Form expired",
        message="This form was not accepted (its security token was missing or old). "
        "Go back, reload the page and try again.",
    ), 400


def _guard() -> Any:
    from hub.web.access import guard

    return guard()


bp.before_request(_guard)
