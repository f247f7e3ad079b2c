"""TOTP enrolment for a person whose password passed but who has no second factor yet.

That is someone added without one or whose MFA was reset (``hub users reset-mfa``). The
secret is made here, shown as a QR code served as an SVG image (no inline SVG: CSP) and as
text, and kept only once the person types a valid code from it.
"""

from __future__ import annotations

import io

import segno
from flask import Response as FlaskResponse
from flask import abort, render_template, request
from flask import session as cookie
from werkzeug.wrappers import Response

from hub import db
from hub.people import accounts, factors
from hub.people.models import Person
from hub.web import bp
from hub.web.auth import BAD_CODE, _back_to_login, pending_person, start_session


def _enrolling() -> tuple[Person, str] | None:
    person = pending_person()
    if person is None or accounts.has_second_factor(db.session(), person):
        return None
    secret = cookie.get("enrol_secret")
    if not isinstance(secret, str):
        secret = factors.begin_totp_enrolment()
        cookie["enrol_secret"] = secret
    return person, secret


@bp.route("/enrol/totp", methods=["GET", "POST"])
def enrol_totp() -> Response | str | tuple[str, int]:
    found = _enrolling()
    if found is None:
        return _back_to_login()
    person, secret = found
    if request.method == "GET":
        return render_template("enrol_totp.html", secret=secret)
    session = db.session()
    if not factors.confirm_totp_enrolment(session, person, secret, request.form.get("code", "")):
        session.rollback()
        return render_template("enrol_totp.html", secret=secret, error=BAD_CODE), 400
    codes = factors.issue_recovery_codes(session, person)
    start_session(person, "totp")
    return render_template("recovery_codes.html", codes=codes)


@bp.get("/enrol/totp/qr.svg")
def enrol_totp_qr() -> FlaskResponse:
    found = _enrolling()
    if found is None:
        abort(404)
    person, secret = found
    uri = factors.provisioning_uri(person.email, secret)
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=6, border=2)
    return FlaskResponse(buffer.getvalue(), mimetype="image/svg+xml")
