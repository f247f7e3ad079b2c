"""OIDC single sign-on against a local identity provider, through the Flask test client."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from hub import db
from hub.people import accounts
from hub.people.models import Person, SecurityEvent
from tests.conftest import make_settings
from tests.web.conftest import _free_port
from tests.web.idp import IdentityProvider, make_idp_app

SECRET_ENV = "HUB_TEST_SSO_KENT_POLICE_SECRET"
SSO_EMAIL = "officer@kent-police.example.test"


@pytest.fixture
def idp(console_port: int) -> Iterator[IdentityProvider]:
    port = _free_port()
    provider = IdentityProvider(
        issuer=f"http://127.0.0.1:{port}", client_id="hub-console",
        client_secret="idp-client-secret-for-tests",
        redirect_uri_prefix=f"http://localhost:{console_port}/console/sso/kent-police/callback",
        email=SSO_EMAIL,
    )
    server = make_server("127.0.0.1", port, make_idp_app(provider), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def settings(clean_db, database_url, tmp_path, console_port, project: Path, idp, monkeypatch):
    """The project copy with an [sso] table for Kent Police pointing at the test IdP."""
    path = project / "policies" / "partners" / "kent-police.toml"
    path.write_text(path.read_text() + (
        "\n[sso]\n"
        'label = "Kent Police account"\n'
        f'issuer = "{idp.issuer}"\n'
        f'client_id = "{idp.client_id}"\n'
        f'client_secret_env = "{SECRET_ENV}"\n'
    ))
    monkeypatch.setenv(SECRET_ENV, idp.client_secret)
    return make_settings(database_url, tmp_path, root=project, password_hash_profile="cheapest",
                         console_origin=f"http://localhost:{console_port}")


@pytest.fixture
def sso_person(app, settings, demo_partners):
    with app.app_context():
        session = db.session()
        accounts.add_person(session, accounts.rules_from_settings(settings), email=SSO_EMAIL,
                            name="Olu Officer", partner_id="kent-police", roles=["dpo"],
                            password=None, sso=True)
        session.commit()


def _through_the_idp(client, idp) -> str:
    """Start at the hub, click "Continue" at the IdP; return the hub callback path."""
    start = client.get("/console/sso/kent-police")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{idp.issuer}/authorize?")
    assert "code_challenge_method=S256" in authorize and "nonce=" in authorize
    page = requests.get(authorize, timeout=10)
    assert page.status_code == 200 and "Continue as" in page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)
    back = requests.post(f"{idp.issuer}/approve", data={"ticket": ticket}, allow_redirects=False,
                         timeout=10)
    callback = urlsplit(back.headers["Location"])
    return f"{callback.path}?{callback.query}"


def test_login_page_offers_the_configured_sso(client, sso_person):
    html = client.get("/console/login").get_data(as_text=True)
    assert "Sign in with Kent Police account" in html


def test_sso_signs_in_an_existing_sso_person_of_that_partner(app, client, idp, sso_person):
    response = client.get(_through_the_idp(client, idp))
    assert response.status_code == 302, response.get_data(as_text=True)
    home = client.get("/console/")
    assert home.status_code == 200 and "Welcome, Olu Officer" in home.get_data(as_text=True)
    with app.app_context():
        person = db.session().scalar(select(Person).where(Person.email == SSO_EMAIL))
        assert person.sso_subject == f"{idp.issuer} {idp.subject}"
    assert idp.tokens_issued == 1


def test_sso_refuses_a_person_who_does_not_exist(app, client, idp, demo_partners):
    response = client.get(_through_the_idp(client, idp))
    assert response.status_code == 403
    assert client.get("/console/").status_code == 302
    with app.app_context():
        event = db.session().scalar(select(SecurityEvent).where(SecurityEvent.kind == "sign_in_failed"))
    assert event.detail["reason"] == "unknown_email" and event.email_hash


def test_sso_refuses_a_person_of_another_partner(app, client, idp, settings, demo_partners):
    with app.app_context():
        session = db.session()
        accounts.add_person(session, accounts.rules_from_settings(settings), email=SSO_EMAIL,
                            name="Wrong Place", partner_id="kent-csc", roles=["dpo"],
                            password=None, sso=True)
        session.commit()
    assert client.get(_through_the_idp(client, idp)).status_code == 403
    assert client.get("/console/").status_code == 302


def test_sso_refuses_a_changed_subject(app, client, idp, sso_person):
    assert client.get(_through_the_idp(client, idp)).status_code == 302
    idp.subject = "someone-else"
    other = app.test_client()
    assert other.get(_through_the_idp(other, idp)).status_code == 403


@pytest.mark.parametrize("tamper", [
    {"iss": "http://evil.example"},
    {"aud": "some-other-client"},
    {"nonce": "not-the-nonce"},
    {"exp": 1_000_000_000},
])
def test_a_bad_id_token_is_refused(client, idp, sso_person, tamper):
    idp.tamper = tamper
    assert client.get(_through_the_idp(client, idp)).status_code == 403
    assert client.get("/console/").status_code == 302


def test_an_id_token_signed_with_an_unpublished_key_is_refused(client, idp, sso_person):
    from joserfc.jwk import RSAKey

    idp.rogue_key = RSAKey.generate_key(2048, {"kid": "idp-1"})
    assert client.get(_through_the_idp(client, idp)).status_code == 403
    assert client.get("/console/").status_code == 302


def test_a_forged_callback_is_refused(client, idp, sso_person):
    client.get("/console/sso/kent-police")
    response = client.get("/console/sso/kent-police/callback?code=made-up&state=made-up")
    assert response.status_code == 403
    assert client.get("/console/").status_code == 302


def test_an_sso_person_has_no_password_sign_in(client, sso_person):
    from tests.web.conftest import csrf_token

    page = client.get("/console/login")
    response = client.post("/console/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": SSO_EMAIL,
        "password": "anything at all"})
    assert response.status_code == 401


def test_unknown_sso_partner_is_404(client, sso_person):
    assert client.get("/console/sso/kent-csc").status_code == 404


@pytest.mark.browser
def test_sso_in_the_browser_with_a_click_at_the_idp(page, csp_errors, live_server, idp, sso_person):
    from playwright.sync_api import expect

    page.goto(f"{live_server}/console/login")
    page.get_by_role("link", name="Sign in with Kent Police account").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_role("button", name=f"Continue as {SSO_EMAIL}").click()
    expect(page.get_by_role("heading", name="Welcome, Olu Officer")).to_be_visible()
    assert csp_errors == []
