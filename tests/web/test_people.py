"""hub/people services on a real database: recovery codes, disabling, the trail, rules."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from hub import db
from hub.people import accounts, audit, factors
from hub.people.demo import DEMO_PASSWORD, ensure_demo_people
from hub.people.models import ConsoleSession, Person, RecoveryCode, SecurityEvent
from hub.settings import Settings, SettingsError
from tests.web.conftest import csrf_token, sign_in


def _rules(settings):
    return accounts.rules_from_settings(settings)


def test_recovery_code_signs_in_once(app, client, settings, console_people):
    person = console_people["hub_dpo"]
    with app.app_context():
        session = db.session()
        codes = factors.issue_recovery_codes(session, accounts.get(session, person.email))
        session.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():  # stored hashed, never in the clear
        stored = db.session().scalars(select(RecoveryCode.code_hash)).all()
    assert not set(codes) & set(stored)

    def attempt(code):
        c = app.test_client()
        page = c.get("/console/login")
        c.post("/console/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "email": person.email, "password": person.password})
        page = c.get("/console/login/recovery")
        return c, c.post("/console/login/recovery", data={
            "csrf_token": csrf_token(page.get_data(as_text=True)), "code": code.upper()})

    c, first = attempt(codes[3])
    assert first.status_code == 302 and c.get("/console/").status_code == 200
    _c, again = attempt(codes[3])
    assert again.status_code == 401


def test_disabling_a_person_ends_their_open_session(app, console_people, signed_in_client):
    client = signed_in_client("auditor")
    assert client.get("/console/").status_code == 200
    with app.app_context():
        session = db.session()
        accounts.disable(session, accounts.get(session, console_people["auditor"].email))
        session.commit()
        assert list(session.scalars(select(ConsoleSession))) == []
    assert client.get("/console/").status_code == 302
    page = client.get("/console/login")
    refused = client.post("/console/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": console_people["auditor"].email, "password": console_people["auditor"].password})
    assert refused.status_code == 401


def test_demo_people_are_refused_in_production(app, settings, demo_partners):
    with app.app_context():
        session = db.session()
        ensure_demo_people(session, _rules(settings))
        session.commit()
        production = dataclasses.replace(_rules(settings), production=True)
        outcome = accounts.check_password(session, production, "dpo@kent-police.demo.hub.example",
                                          DEMO_PASSWORD, endpoint="test")
        assert outcome.person is None and outcome.reason == "demo_person_in_production"
        with pytest.raises(accounts.PeopleError):
            ensure_demo_people(session, production)


def test_security_events_filters_and_never_holds_what_was_typed(app, client, settings, console_people):
    sign_in(client, app, console_people["dpo"])
    client.get("/console/account")
    assert client.get("/console/login").status_code == 302  # already signed in: go home
    stranger = app.test_client()
    page = stranger.get("/console/login")
    stranger.post("/console/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                          "email": "Guess@Example.test", "password": "hunter2 hunter2"})
    with app.app_context():
        session = db.session()
        police = audit.security_events(session, partner_id="kent-police")
        assert {e.kind for e in police} >= {"sign_in", "user_added"}
        assert all(e.partner_id == "kent-police" for e in police)
        failed = audit.security_events(session, kinds=["sign_in_failed"])
        assert len(failed) == 1 and failed[0].pseudonym is None
        assert failed[0].email_hash == audit.email_digest(_rules(settings).email_key, "guess@example.test")
        newest_first = audit.security_events(session)
        assert [e.id for e in newest_first] == sorted((e.id for e in newest_first), reverse=True)
        later = audit.security_events(session, since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        assert later == []
        rows = session.scalars(select(SecurityEvent)).all()
    text = repr([(r.detail, r.endpoint, r.email_hash) for r in rows])
    assert "hunter2" not in text and "guess" not in text.lower()


def test_session_cookie_flags(app, client, console_people, settings):
    sign_in(client, app, console_people["dpo"])
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False  # development; production sets Secure


def test_production_settings_mean_secure_cookies(settings):
    from hub import _make_flask

    production = dataclasses.replace(settings, production=True)
    config = _make_flask(production).config
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax" and config["SESSION_COOKIE_HTTPONLY"]


def test_hsts_on_console_responses_in_production(app, client):
    app.extensions["hub.console"] = dataclasses.replace(
        app.extensions["hub.console"],
        settings=dataclasses.replace(app.extensions["hub.console"].settings, production=True),
    )
    response = client.get("/console/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("env, problem", [
    ({"HUB_CONSOLE_IDLE_MINUTES": "0"}, "HUB_CONSOLE_IDLE_MINUTES"),
    ({"HUB_CONSOLE_ABSOLUTE_HOURS": "25"}, "HUB_CONSOLE_ABSOLUTE_HOURS"),
    ({"HUB_CONSOLE_IDLE_MINUTES": "600", "HUB_CONSOLE_ABSOLUTE_HOURS": "8"}, "must not exceed"),
    ({"HUB_CONSOLE_LOCKOUT_FAILURES": "x"}, "HUB_CONSOLE_LOCKOUT_FAILURES"),
    ({"HUB_PASSWORD_HASH_PROFILE": "md5"}, "HUB_PASSWORD_HASH_PROFILE"),
    ({"HUB_CONSOLE_ORIGIN": "http://localhost:8000/path"}, "HUB_CONSOLE_ORIGIN"),
])
def test_console_settings_are_validated(env, problem):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert problem in str(caught.value)


def test_cheap_password_hashing_is_refused_in_production():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"HUB_PRODUCTION": "true", "HUB_PASSWORD_HASH_PROFILE": "cheapest"})
    assert "HUB_PASSWORD_HASH_PROFILE" in str(caught.value)


def test_person_rows_hold_no_plain_password(app, console_people):
    with app.app_context():
        person = db.session().scalar(select(Person).where(Person.email == console_people["dpo"].email))
    assert person.password_hash.startswith("$argon2id$")
    assert console_people["dpo"].password not in person.password_hash


def test_console_posts_over_https_pass_the_strict_referer_check(app, console_people):
    """Production checks the Referer on HTTPS; console pages let the browser send it."""
    app.config["WTF_CSRF_SSL_STRICT"] = True
    client = app.test_client()
    page = client.get("/console/login", base_url="https://localhost")
    assert page.headers["Referrer-Policy"] == "same-origin"
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": console_people["dpo"].email, "password": console_people["dpo"].password}
    missing = client.post("/console/login", data=form, base_url="https://localhost")
    assert missing.status_code == 400  # no Referer: refused
    ok = client.post("/console/login", data=form, base_url="https://localhost",
                     headers={"Referer": "https://localhost/console/login"})
    assert ok.status_code == 302
