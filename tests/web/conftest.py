"""Console fixtures: people with known passwords and TOTP secrets, signed-in test clients,
a live server and Playwright driving Debian's Chromium (tests marked ``browser``).

``console_people`` creates, for the demo partnership: a hub DPO (at Safer Sutton, which
co-ordinates), DPOs at Kent Police and Kent CSC, a Safer Sutton MARAC co-ordinator, an
agency rep and an auditor. Keys: ``hub_dpo``, ``dpo`` (Kent Police), ``dpo_csc``,
``marac_coordinator``, ``agency_rep``, ``auditor``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from hub import db
from hub.people import accounts
from hub.people.models import ConsoleSession, Person
from hub.settings import Settings
from tests.conftest import make_settings

PASSWORD = "correct horse battery staple"
CHROMIUM = os.environ.get("HUB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


@dataclasses.dataclass(frozen=True)
class ConsolePerson:
    key: str
    email: str
    name: str
    partner_id: str
    roles: tuple[str, ...]
    totp_secret: str
    password: str = PASSWORD


PEOPLE = (
    ("hub_dpo", "hub.dpo@example.test", "Hana Hub", "safer-sutton", ("hub_dpo",)),
    ("dpo", "dpo@kent-police.example.test", "Priya Police", "kent-police", ("dpo",)),
    ("dpo_csc", "dpo@kent-csc.example.test", "Tom Csc", "kent-csc", ("dpo",)),
    ("marac_coordinator", "marac@safer-sutton.example.test", "Ruth Marac", "safer-sutton",
     ("marac_coordinator",)),
    ("agency_rep", "rep@sutton-outreach.example.test", "Sam Rep", "sutton-outreach",
     ("agency_rep",)),
    ("auditor", "auditor@example.test", "Alex Audit", "safer-sutton", ("auditor",)),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def console_port() -> int:
    return _free_port()


@pytest.fixture
def settings(clean_db: Engine, database_url: str, tmp_path: Path, console_port: int) -> Settings:
    """Test settings with the cheap argon2 profile and the live server's origin."""
    return make_settings(
        database_url, tmp_path, password_hash_profile="cheapest",
        console_origin=f"http://localhost:{console_port}",
    )


@pytest.fixture
def console_people(app: Flask, settings: Settings, demo_partners: list[str]) -> dict[str, ConsolePerson]:
    """People for every role with a known password and TOTP secret."""
    rules = accounts.rules_from_settings(settings)
    made = {}
    with app.app_context():
        session = db.session()
        for key, email, name, partner, roles in PEOPLE:
            secret = pyotp.random_base32(32)
            accounts.add_person(
                session, rules, email=email, name=name, partner_id=partner, roles=roles,
                password=PASSWORD, totp_secret=secret,
            )
            made[key] = ConsolePerson(key, email, name, partner, roles, secret)
        session.commit()
    return made


def fresh_code(app: Flask, person: ConsolePerson) -> str:
    """A TOTP code the hub will accept now: each 30 s step works once, so step past the last."""
    totp = pyotp.TOTP(person.totp_secret)
    now = dt.datetime.now(dt.UTC)
    here = totp.timecode(now)
    with app.app_context():
        session = db.session()
        last = session.scalar(select(Person.totp_last_step).where(Person.email == person.email))
        if last is not None and last >= here + 1:
            # Signed in twice already in this window: forget the replay marker (tests only).
            session.execute(update(Person).where(Person.email == person.email)
                            .values(totp_last_step=None))
            session.commit()
            last = None
    step = here if last is None or last < here else last + 1
    return totp.generate_otp(step)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'data-csrf-token="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: FlaskClient, app: Flask, person: ConsolePerson) -> None:
    """Password, then the TOTP code, through the real forms (with their CSRF tokens)."""
    page = client.get("/console/login")
    response = client.post("/console/login", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": person.email, "password": person.password,
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/console/login/code")
    page = client.get("/console/login/code")
    response = client.post("/console/login/code", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "code": fresh_code(app, person),
    })
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def signed_in_client(
    app: Flask, console_people: dict[str, ConsolePerson]
) -> Callable[[str], FlaskClient]:
    """``signed_in_client("dpo")`` or ``signed_in_client(email)``: a new signed-in client."""

    def _make(role_or_email: str) -> FlaskClient:
        person = _person(console_people, role_or_email)
        client = app.test_client()
        sign_in(client, app, person)
        return client

    return _make


def age_sessions(app: Flask, by: dt.timedelta) -> None:
    """Move every console session's clock back by ``by`` (timeout tests; no sleeping)."""
    with app.app_context():
        session = db.session()
        for row in session.scalars(select(ConsoleSession)):
            row.created_at -= by
            row.last_seen_at -= by
        session.commit()


# -- a live server and the browser ----------------------------------------------------------


@pytest.fixture
def live_server(app: Flask, console_port: int) -> Iterator[str]:
    """The app on a real socket, as ``http://localhost:PORT`` (a secure context for WebAuthn)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", console_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{console_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: run .ci/browser-deps.sh (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def csp_errors(page: Any) -> list[str]:
    """CSP violations, script errors and failed sub-resources seen by the page.

    A refused form answers 401/403 on purpose, which Chromium logs as "Failed to load
    resource"; failed loads are therefore taken from the responses, documents excepted.
    The page's CSP is never bypassed.
    """
    seen: list[str] = []
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI); });"
    )

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            seen.append(msg.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            seen.append(f"{response.status} {response.request.resource_type} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: seen.append(f"page error: {exc}"))
    return seen


@pytest.fixture
def browser_sign_in(
    app: Flask, live_server: str, console_people: dict[str, ConsolePerson]
) -> Callable[..., None]:
    """``browser_sign_in(page, email)`` (or a role key, or a ConsolePerson): password + TOTP."""
    from playwright.sync_api import expect

    def _sign_in(page: Any, who: str | ConsolePerson) -> None:
        person = who if isinstance(who, ConsolePerson) else _person(console_people, who)
        page.goto(f"{live_server}/console/login")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(person.password)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_label("Code")).to_be_visible()
        page.get_by_label("Code").fill(fresh_code(app, person))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=f"Welcome, {person.name}")).to_be_visible()

    return _sign_in


def _person(people: dict[str, ConsolePerson], role_or_email: str) -> ConsolePerson:
    found = people.get(role_or_email) or next(
        (p for p in people.values() if p.email == role_or_email), None
    )
    if found is None:
        raise KeyError(f"no console person {role_or_email!r}")
    return found


# The MARAC console's fixtures (agency reps, one meeting's cycle); imported last, as they
# build on the ones above.
from tests.web.marac_fixtures import client_for, marac_cycle, marac_people  # noqa: E402, F401
