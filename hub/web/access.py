"""Who may open which console page: roles per route, deny by default.

Every console view declares the roles it admits with :func:`roles_required`; the
blueprint's guard refuses any endpoint that declares none (except the sign-in pages in
:data:`PUBLIC_ENDPOINTS`), sends a signed-out person to the sign-in page, and writes each
refused page to the security audit trail. A test walks every ``console.*`` endpoint with
every role, so a new view that forgets its declaration fails closed and is caught.

Views (H6 and later) use it like this::

    @bp.get("/dpo/disclosures")
    @roles_required("dpo", "hub_dpo", nav="Disclosures")
    def disclosures() -> str:
        person = current_person()   # SignedInPerson; person.pseudonym for actor.user
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, render_template, request, url_for
from flask import session as cookie
from werkzeug.wrappers import Response

from hub import db
from hub.people import audit
from hub.people import sessions as server_sessions
from hub.people.roles import ROLES

__all__ = [
    "NAV",
    "PUBLIC_ENDPOINTS",
    "ROLES",
    "ROUTE_ROLES",
    "SignedInPerson",
    "current_person",
    "roles_required",
]

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints anyone may open: signing in (each step), single sign-on, static files.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {
        "console.static",
        "console.login",
        "console.login_factor",
        "console.login_recovery",
        "console.login_webauthn_options",
        "console.login_webauthn_verify",
        "console.enrol_totp",
        "console.enrol_totp_qr",
        "console.sso_start",
        "console.sso_callback",
        "console.logout",
    }
)

# endpoint -> roles it admits; filled from the views' declarations when the app is built.
ROUTE_ROLES: dict[str, frozenset[str]] = {}
# (endpoint, label) for the navigation bar, in declaration order.
NAV: list[tuple[str, str]] = []
_NAV_BY_VIEW: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class SignedInPerson:
    """The person behind the current request; ``pseudonym`` is ``actor.user`` on the ledger."""

    id: int
    email: str
    name: str
    partner_id: str
    roles: frozenset[str]
    pseudonym: str

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


def roles_required(*roles: str, nav: str | None = None) -> Callable[[F], F]:
    """Admit only people holding one of ``roles``; ``nav`` labels a link in the nav bar."""
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise ValueError(f"roles_required needs roles from {ROLES}, got {roles!r}")
    admitted = frozenset(roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # The guard has already refused; this second check keeps a view safe even if it
            # is ever registered outside the console blueprint.
            person = g.get("console_person")
            if person is None or not person.has_any(admitted):
                return _refuse(person)
            return view(*args, **kwargs)

        wrapper.console_roles = admitted  # type: ignore[attr-defined]
        if nav:
            wrapper.console_nav = nav  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def current_person() -> SignedInPerson:
    """The signed-in person (only inside a view the guard let through)."""
    person = g.get("console_person")
    if person is None:
        raise RuntimeError("current_person() outside a signed-in console request")
    return person  # type: ignore[no-any-return]


def collect_routes(app: Flask) -> None:
    """Fill :data:`ROUTE_ROLES` and :data:`NAV` from the registered console views."""
    ROUTE_ROLES.clear()
    NAV.clear()
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if not endpoint.startswith("console."):
            continue
        view = app.view_functions[endpoint]
        roles = getattr(view, "console_roles", None)
        if roles is not None:
            ROUTE_ROLES[endpoint] = roles
            label = getattr(view, "console_nav", None)
            if label and not rule.arguments and (endpoint, label) not in NAV:
                NAV.append((endpoint, label))


def nav_links(person: SignedInPerson | None) -> list[tuple[str, str]]:
    """(url, label) of each nav entry the person's roles admit."""
    if person is None:
        return []
    return [
        (url_for(endpoint), label)
        for endpoint, label in NAV
        if person.has_any(ROUTE_ROLES.get(endpoint, frozenset()))
    ]


# -- the guard ----------------------------------------------------------------------------


def load_person() -> SignedInPerson | None:
    """Resume the server-side session the cookie names, if it still lives."""
    token = cookie.get("sid")
    if not isinstance(token, str):
        return None
    rules = current_app.extensions["hub.console"].session_rules
    session = db.session()
    resumed = server_sessions.resume(session, token, rules, endpoint=request.endpoint)
    session.commit()
    if resumed.person is None:
        cookie.clear()
        return None
    p = resumed.person
    return SignedInPerson(
        id=p.id, email=p.email, name=p.name, partner_id=p.partner_id,
        roles=frozenset(p.roles), pseudonym=p.pseudonym,
    )


def guard() -> Response | str | tuple[str, int] | None:
    """``before_request`` for the console blueprint: deny by default."""
    endpoint = request.endpoint or ""
    if endpoint == "console.static":
        g.console_person = None  # files are public; no session look-up for each one
        return None
    g.console_person = load_person()
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    person: SignedInPerson | None = g.console_person
    if person is None:
        return _to_login()
    view = current_app.view_functions.get(endpoint)
    admitted = getattr(view, "console_roles", None)
    if admitted is None or not person.has_any(admitted):
        return _refuse(person)
    return None


def _to_login() -> Response:
    """Signed out: to the sign-in page, coming back here afterwards if this was a page."""
    nxt = safe_next(request.full_path) if request.method == "GET" else None
    target = url_for("console.login", next=nxt)
    if request.headers.get("HX-Request"):
        # htmx would follow a redirect and swap the sign-in page into a fragment; this
        # header makes it load the sign-in page as a whole page instead.
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _refuse(person: SignedInPerson | None) -> tuple[str, int]:
    session = db.session()
    if person is not None:
        from hub.people.models import Person

        row = session.get(Person, person.id)
        audit.record(session, "page_refused", person=row, endpoint=request.endpoint,
                     detail={"method": request.method})
    else:
        audit.record(session, "page_refused", endpoint=request.endpoint,
                     detail={"method": request.method})
    session.commit()
    return render_template("403.html"), 403


def safe_next(target: str | None) -> str | None:
    """Only a local console path may be a redirect target (no open redirects)."""
    if not target:
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    return target

