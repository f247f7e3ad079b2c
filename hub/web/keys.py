"""Security-key ceremonies over JSON (webauthn.js): registration and the sign-in step.

Each ceremony's challenge waits in the signed cookie between the options call and the
verify call; it is removed when used, so a response cannot be replayed.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import jsonify, request, url_for
from flask import session as cookie
from werkzeug.wrappers import Response

from hub import db
from hub.people import accounts, security_keys
from hub.people.models import Person
from hub.people.roles import ROLES
from hub.web import bp
from hub.web.access import current_person, roles_required
from hub.web.auth import config, pending_person, start_session


def _rp() -> security_keys.RelyingParty:
    return security_keys.RelyingParty(rp_id=config().rp_id, origin=config().origin)


def _keep(name: str, challenge: bytes) -> None:
    cookie[name] = base64.urlsafe_b64encode(challenge).decode("ascii")


def _take(name: str) -> bytes | None:
    value = cookie.pop(name, None)
    return base64.urlsafe_b64decode(value) if isinstance(value, str) else None


def _credential() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _options(options_json: str) -> Response:
    """py_webauthn's JSON (base64url fields) is what parse*OptionsFromJSON expects."""
    return jsonify(json.loads(options_json))


@bp.post("/login/webauthn/options")
def login_webauthn_options() -> Response | tuple[Response, int]:
    person = pending_person()
    if person is None:
        return jsonify(error="sign in again"), 401
    options_json, challenge = security_keys.authentication_options(db.session(), _rp(), person)
    _keep("webauthn_login", challenge)
    return _options(options_json)


@bp.post("/login/webauthn/verify")
def login_webauthn_verify() -> Response | tuple[Response, int]:
    person = pending_person()
    challenge = _take("webauthn_login")
    credential = _credential()
    if person is None or challenge is None or credential is None:
        return jsonify(error="sign in again"), 401
    session = db.session()
    if not security_keys.finish_authentication(session, _rp(), person, credential, challenge):
        accounts.register_failure(
            session, config().sign_in, person, "console.login_webauthn_verify", db.utcnow()
        )
        session.commit()
        return jsonify(error="security key not accepted"), 401
    nxt = start_session(person, "webauthn")
    return jsonify(redirect=nxt or url_for("console.home"))


@bp.post("/account/webauthn/options")
@roles_required(*ROLES)
def account_webauthn_options() -> Response:
    person = _signed_in_row()
    options_json, challenge = security_keys.registration_options(db.session(), _rp(), person)
    _keep("webauthn_register", challenge)
    return _options(options_json)


@bp.post("/account/webauthn/verify")
@roles_required(*ROLES)
def account_webauthn_verify() -> Response | tuple[Response, int]:
    person = _signed_in_row()
    challenge = _take("webauthn_register")
    credential = _credential()
    if challenge is None or credential is None:
        return jsonify(error="start again"), 400
    session = db.session()
    if not security_keys.finish_registration(session, _rp(), person, credential, challenge):
        session.rollback()
        return jsonify(error="security key not accepted"), 400
    session.commit()
    return jsonify(redirect=url_for("console.account"))


def _signed_in_row() -> Person:
    person = db.session().get(Person, current_person().id)
    assert person is not None  # the guard resumed this person's session a moment ago
    return person
