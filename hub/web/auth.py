"""Signing in and out: password, then a second factor (TOTP code, security key, recovery code).

Between the two steps the signed cookie holds only ``pending`` (person id, time, where to go
next) for :data:`PENDING_SECONDS`; the server-side session is created when both factors
have passed, under a new token and a cleared cookie (rotation, so a fixated cookie or CSRF
token from before sign-in is useless afterwards).
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask import session as cookie
from werkzeug.wrappers import Response

from hub import db
from hub.people import accounts, audit, factors
from hub.people import sessions as server_sessions
from hub.people.models import Person
from hub.web import bp
from hub.web.access import safe_next

PENDING_SECONDS = 300
BAD_CREDENTIALS = "Email or password not recognised."
LOCKED = "Too many failed attempts: sign-in for this account is paused for a while. Try later."
BAD_CODE = "That code was not accepted. Use the current code from your app."


def config() -> Any:
    return current_app.extensions["hub.console"]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Step one: Email and Password."""
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.get("console_person") is not None:
            return redirect(nxt or url_for("console.home"))
        return login_page(next=nxt)
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")
    session = db.session()
    outcome = accounts.check_password(
        session, config().sign_in, email, password, endpoint="console.login"
    )
    session.commit()
    if outcome.person is None:
        message = LOCKED if outcome.reason == "locked" else BAD_CREDENTIALS
        return login_page(next=nxt, error=message, email=email), 401
    person = outcome.person
    cookie.clear()
    cookie["pending"] = {"person": person.id, "at": int(time.time()), "next": nxt}
    if not accounts.has_second_factor(session, person):
        return redirect(url_for("console.enrol_totp"))
    return redirect(url_for("console.login_factor"))


def login_page(**context: Any) -> str:
    """The sign-in form, with a button for each partner's single sign-on."""
    from hub.web.sso import sso_buttons

    context.setdefault("next", None)
    return render_template("login.html", sso=sso_buttons(), **context)


def pending_person() -> Person | None:
    """The person who passed the password step in this browser a moment ago, if any."""
    pending = cookie.get("pending")
    if not isinstance(pending, dict):
        return None
    person_id = pending.get("person")
    if not isinstance(person_id, int) or time.time() - float(pending["at"]) > PENDING_SECONDS:
        cookie.pop("pending", None)
        return None
    person = db.session().get(Person, person_id)
    if person is None or not accounts.check_second_factor_allowed(
        person, config().sign_in, db.utcnow()
    ):
        cookie.pop("pending", None)
        return None
    return person


@bp.route("/login/code", methods=["GET", "POST"])
def login_factor() -> Response | str | tuple[str, int]:
    """Step two: the TOTP Code, or a security key (webauthn.js)."""
    person = pending_person()
    if person is None:
        return _back_to_login()
    session = db.session()
    has_key = accounts.has_security_key(session, person)
    if request.method == "GET":
        return render_template("factor.html", has_key=has_key, has_totp=bool(person.totp_secret))
    ok = factors.check_totp(
        session, config().sign_in, person, request.form.get("code", "")[:16],
        endpoint="console.login_factor",
    )
    session.commit()
    if ok:
        return complete_sign_in(person, "totp")
    if accounts.is_locked(person, db.utcnow()):
        cookie.pop("pending", None)
        return login_page(error=LOCKED), 401
    return render_template(
        "factor.html", has_key=has_key, has_totp=bool(person.totp_secret), error=BAD_CODE
    ), 401


@bp.route("/login/recovery", methods=["GET", "POST"])
def login_recovery() -> Response | str | tuple[str, int]:
    """Step two without the phone or key: one of the person's one-use recovery codes."""
    person = pending_person()
    if person is None:
        return _back_to_login()
    if request.method == "GET":
        return render_template("recovery.html")
    session = db.session()
    ok = factors.use_recovery_code(
        session, config().sign_in, person, request.form.get("code", "")[:64],
        endpoint="console.login_recovery",
    )
    session.commit()
    if ok:
        return complete_sign_in(person, "recovery")
    if accounts.is_locked(person, db.utcnow()):
        cookie.pop("pending", None)
        return login_page(error=LOCKED), 401
    return render_template("recovery.html", error="That recovery code was not accepted."), 401


def complete_sign_in(person: Person, method: str) -> Response:
    """Both factors passed (or the IdP vouched): start the session, go where asked."""
    nxt = start_session(person, method)
    return redirect(nxt or url_for("console.home"))


def start_session(person: Person, method: str) -> str | None:
    """A new server session under a new token and a fresh cookie; returns the ``next`` path.

    Commits the caller's pending changes (an enrolment, a spent recovery code) with it.
    """
    pending = cookie.get("pending")
    nxt = safe_next(pending.get("next")) if isinstance(pending, dict) else None
    session = db.session()
    token = server_sessions.start(session, person, method=method)
    accounts.signed_in(session, person, method=method, endpoint=request.endpoint or "")
    server_sessions.purge_expired(session, config().session_rules)
    session.commit()
    cookie.clear()
    cookie["sid"] = token
    return nxt


def _back_to_login() -> Response:
    flash("Sign in again: that step expired.")
    return redirect(url_for("console.login"))


@bp.post("/logout")
def logout() -> Response:
    """End the session on the server (the row goes) and in the browser (the cookie empties)."""
    token = cookie.get("sid")
    session = db.session()
    if isinstance(token, str):
        person = server_sessions.end(session, token)
        if person is not None:
            audit.record(session, "sign_out", person=person, endpoint="console.logout")
        session.commit()
    cookie.clear()
    flash("You have signed out.")
    return redirect(url_for("console.login"))
