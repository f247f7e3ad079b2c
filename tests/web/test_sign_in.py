"""Sign-in in the Flask test client: both factors, rotation, sign-out, lockout, timeouts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from hub import db
from hub.people.models import ConsoleSession, Person, SecurityEvent
from tests.web.conftest import age_sessions, csrf_token, fresh_code, sign_in


def _kinds(app):
    with app.app_context():
        return [e.kind for e in db.session().scalars(select(SecurityEvent).order_by(SecurityEvent.id))]


def test_password_then_code_signs_in_and_lands_by_role(app, client, console_people):
    person = console_people["dpo"]
    sign_in(client, app, person)
    home = client.get("/console/")
    assert home.status_code == 200
    assert f"Welcome, {person.name}" in home.get_data(as_text=True)
    assert "sign_in" in _kinds(app)


def test_signed_out_person_is_sent_to_login(client, console_people):
    response = client.get("/console/account")
    assert response.status_code == 302
    assert "/console/login?next=/console/account" in response.headers["Location"]


def test_login_form_labels_and_headers(client, app):
    response = client.get("/console/login")
    html = response.get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_wrong_password_and_wrong_code_are_refused_and_recorded(app, client, console_people):
    person = console_people["auditor"]
    page = client.get("/console/login")
    token = csrf_token(page.get_data(as_text=True))
    bad = client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                              "password": "wrong password here"})
    assert bad.status_code == 401
    assert "Email or password not recognised." in bad.get_data(as_text=True)
    unknown = client.post("/console/login", data={"csrf_token": token, "email": "nobody@example.test",
                                                  "password": "whatever it is"})
    assert unknown.status_code == 401
    ok = client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                             "password": person.password})
    assert ok.status_code == 302
    page = client.get("/console/login/code")
    wrong = client.post("/console/login/code", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "code": "000000"})
    assert wrong.status_code == 401
    assert client.get("/console/").status_code == 302
    with app.app_context():
        events = list(db.session().scalars(select(SecurityEvent).where(SecurityEvent.kind == "sign_in_failed")))
    assert len(events) == 3
    unknown_event = [e for e in events if e.pseudonym is None]
    assert len(unknown_event) == 1 and len(unknown_event[0].email_hash) == 64
    for event in events:  # nothing typed is kept
        assert "nobody" not in repr(event.detail) and "wrong" not in repr(event.detail)


def test_sign_in_rotates_the_session_and_sign_out_ends_it_on_the_server(app, client, console_people):
    person = console_people["hub_dpo"]
    client.get("/console/login")
    before = client.get_cookie("session").value
    sign_in(client, app, person)
    after = client.get_cookie("session").value
    assert before != after
    assert client.get("/console/").status_code == 200
    with app.app_context():
        assert len(list(db.session().scalars(select(ConsoleSession)))) == 1
    page = client.get("/console/")
    out = client.post("/console/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert out.status_code == 302
    with app.app_context():
        assert list(db.session().scalars(select(ConsoleSession))) == []
    # Replay the cookie from before sign-out: the server no longer knows its session.
    replay = app.test_client()
    replay.set_cookie("session", after, domain="localhost")
    response = replay.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert "sign_out" in _kinds(app)


def test_lockout_after_repeated_failures_then_cool_down(app, client, console_people, settings):
    person = console_people["dpo_csc"]
    page = client.get("/console/login")
    token = csrf_token(page.get_data(as_text=True))
    for _ in range(settings.console_lockout_failures):
        client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                            "password": "not the password"})
    locked = client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                                 "password": person.password})
    assert locked.status_code == 401
    assert "paused" in locked.get_data(as_text=True)
    assert "lockout" in _kinds(app)
    # The cool-down passes (moved clock, not a sleep): the right password works again.
    with app.app_context():
        session = db.session()
        row = session.scalar(select(Person).where(Person.email == person.email))
        row.locked_until = row.locked_until - dt.timedelta(minutes=settings.console_lockout_minutes)
        session.commit()
    sign_in(client, app, person)
    assert client.get("/console/").status_code == 200


def test_idle_timeout_and_absolute_lifetime(app, settings, console_people, signed_in_client):
    client = signed_in_client("marac_coordinator")
    assert client.get("/console/").status_code == 200
    age_sessions(app, dt.timedelta(minutes=settings.console_idle_minutes))
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert "session_expired" in _kinds(app)
    client = signed_in_client("marac_coordinator")
    with app.app_context():  # active all along, but past the absolute lifetime
        session = db.session()
        for row in session.scalars(select(ConsoleSession)):
            row.created_at -= dt.timedelta(hours=settings.console_absolute_hours)
        session.commit()
    assert client.get("/console/").status_code == 302


def test_a_totp_code_works_once(app, client, console_people):
    person = console_people["agency_rep"]
    sign_in(client, app, person)
    with app.app_context():
        step = db.session().scalar(select(Person.totp_last_step).where(Person.email == person.email))
    import pyotp

    reused = pyotp.TOTP(person.totp_secret).generate_otp(step)
    other = app.test_client()
    page = other.get("/console/login")
    other.post("/console/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "email": person.email, "password": person.password})
    page = other.get("/console/login/code")
    again = other.post("/console/login/code", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "code": reused})
    assert again.status_code == 401
    assert fresh_code(app, person) != reused


def test_console_post_without_csrf_token_is_refused(app, console_people, signed_in_client):
    client = signed_in_client("dpo")
    response = client.post("/console/logout")
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 200  # still signed in: nothing changed


def test_the_bearer_api_needs_no_csrf_token(client, get_token):
    token = get_token("kent-csc", "partners:read")
    response = client.get("/api/v1/partners/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_an_htmx_style_post_with_the_token_in_a_header_passes(app, console_people, signed_in_client):
    client = signed_in_client("dpo")
    token = csrf_token(client.get("/console/").get_data(as_text=True))
    response = client.post("/console/logout", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302  # signed out
