"""Shared set-up for the MARAC console tests: agency reps, referrals in through the API.

Sutton's Community MARAC (co-ordinated by safer-sutton) is the meeting under test: the Met
and Sutton children's services return research, the outreach provider refers, and Sutton
YOT, a perpetrator-facing party to the agreement, must see nothing of it anywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hub import db
from hub.ledger.models import LedgerEntry
from hub.people import accounts
from hub.settings import Settings
from tests.conftest import PROJECT

MARAC_ID = "sutton-community-marac"
CANARY_NAME = "Canary-Marac-Jordan-6620"
VICTIM = {"given_name": CANARY_NAME, "family_name": "Okafor", "date_of_birth": "1990-02-03"}
WHERE = "14 Canary Road, Sutton"  # a WHERE field: never shown to a perpetrator-facing party

REPS = (
    ("police_rep", "rep@met-police.example.test", "Mo Police", "met-police", ("agency_rep",)),
    ("csc_rep", "rep@sutton-csc.example.test", "Cara Csc", "sutton-csc", ("agency_rep",)),
    ("yot_rep", "rep@sutton-yot.example.test", "Yusuf Yot", "sutton-yot", ("agency_rep",)),
)


@pytest.fixture
def marac_people(app: Flask, settings: Settings, console_people: dict[str, Any]) -> dict[str, Any]:
    """The console people plus reps of the Met, Sutton CSC and (perpetrator-facing) YOT."""
    from tests.web.conftest import PASSWORD, ConsolePerson

    rules = accounts.rules_from_settings(settings)
    made = console_people  # the same dict, so browser_sign_in(page, "police_rep") finds them
    with app.app_context():
        session = db.session()
        for key, email, name, partner, roles in REPS:
            secret = pyotp.random_base32(32)
            accounts.add_person(session, rules, email=email, name=name, partner_id=partner,
                                roles=roles, password=PASSWORD, totp_secret=secret)  # fmt: skip
            made[key] = ConsolePerson(key, email, name, partner, roles, secret)
        session.commit()
    return made


@pytest.fixture
def client_for(app: Flask, marac_people: dict[str, Any]) -> Callable[[str], FlaskClient]:
    """``client_for("police_rep")``: a Flask test client signed in through the real forms."""
    from tests.web.conftest import sign_in

    def _make(key: str) -> FlaskClient:
        client = app.test_client()
        sign_in(client, app, marac_people[key])
        return client

    return _make


def referral(**data: Any) -> dict[str, Any]:
    """A Community MARAC referral to the co-ordinator about the canary victim."""
    return {
        "to": "safer-sutton",
        "purpose": "community_marac_referral",
        "consent": {"state": "given"},
        "data": {**VICTIM, **data},
    }


POLICE_REFERRAL = referral(
    marac_criterion="visible_high_risk", crime_type="harassment", victim_current_address=WHERE,
    children_in_household="two children under 5", risk_level="high",
    professional_judgement="Escalating threats", offence_date="2026-11-20",
)
OUTREACH_REFERRAL = referral(
    marac_criterion="professional_judgement", concern_summary="Seen with injuries",
    professional_judgement="Fearful of the perpetrator",
)


def token(html: str) -> str:
    from tests.web.conftest import csrf_token

    return csrf_token(html)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> Any:
    """POST a console form with the page's CSRF token."""
    page = client.get("/console/")
    return client.post(path, data={"csrf_token": token(page.get_data(as_text=True)),
                                   **(data or {})})  # fmt: skip


def ledger_events(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index))
        return [json.loads(r.entry) for r in rows]


def purposes(events: list[dict[str, Any]], event_type: str) -> list[str]:
    return [e.get("purpose", "") for e in events if e.get("type") == event_type]


def hub_log_verify(settings: Settings) -> Any:
    """Run ``hub log verify`` (the real command) against the test database and keys."""
    from hub.cli import main

    env = {
        "HUB_ROOT": str(PROJECT),
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_HUB_KEY": str(settings.hub_key_path),
        "HUB_MASTER_KEY": str(settings.master_key_path),
        "HUB_SECRET_KEY": settings.secret_key,
        "HUB_SUBJECT_SECRET": settings.subject_secret,
    }
    return CliRunner(env=env).invoke(main, ["log", "verify", "--quiet"], catch_exceptions=False)


def marac_routes(app: Flask) -> list[tuple[str, str, str]]:
    """Every /console/marac route as (endpoint, method, rule) (the walk reads the url_map)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.marac."):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


def fill(rule: str, ids: dict[str, str]) -> str:
    """A rule with each ``<name>`` replaced by the real id of that name."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids[m.group(1)], rule)


@dataclasses.dataclass
class Ids:
    marac_id: str = MARAC_ID
    meeting_id: str = ""
    case_id: str = ""
    request_id: str = ""
    action_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def next_week() -> dt.date:
    return dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)


# -- one meeting, driven through the console's own forms ------------------------------------


@pytest.fixture
def marac_cycle(
    app: Flask, send: Any, client_for: Callable[[str], FlaskClient], marac_people: dict[str, Any]
) -> Ids:
    """Referrals in, a meeting, the research list out, two returns, an action for the Met."""
    coordinator = client_for("marac_coordinator")
    response = post(coordinator, f"/console/marac/{MARAC_ID}/meetings",
                    {"held_on": next_week().isoformat()})  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    ids = Ids(meeting_id=response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    for sender, body in (("met-police", POLICE_REFERRAL), ("sutton-outreach", OUTREACH_REFERRAL)):
        sent = send(sender, body)
        assert sent.status_code == 201, sent.get_json()
    page = coordinator.get(f"/console/marac/{MARAC_ID}/referrals").get_data(as_text=True)
    ids.case_id = re.search(r'/console/marac/cases/([\w-]+)', page).group(1)
    assert "Repeat" in page and CANARY_NAME not in page
    post(coordinator, f"/console/marac/meetings/{ids.meeting_id}/cases", {"case_id": ids.case_id})
    assert post(coordinator, f"/console/marac/meetings/{ids.meeting_id}/circulate").status_code == 200
    for rep in ("police_rep", "csc_rep"):
        client = client_for(rep)
        research = client.get("/console/marac/research").get_data(as_text=True)
        request_id = re.search(r'/console/marac/research/([\w-]+)"', research).group(1)
        form = client.get(f"/console/marac/research/{request_id}").get_data(as_text=True)
        fields = re.findall(r'name="value-(\w+)"', form)
        # the agency's return flow's fields, not what it was sent; the hub adds the number
        assert "marac_research_summary" in fields and "given_name" not in fields, fields
        assert "marac_case_number" not in fields
        assert f"What was circulated to {marac_people[rep].partner_id}" in form
        before = len(ledger_events(app))
        bad = post(client, f"/console/marac/research/{request_id}", {f"reason-{fields[0]}": "bogus"})
        assert bad.status_code == 422 and len(ledger_events(app)) == before
        data = {f"value-{fields[0]}": "Known to us since 2025"}
        data.update({f"reason-{f}": "not_held" for f in fields[1:]})
        returned = post(client, f"/console/marac/research/{request_id}", data)
        assert returned.status_code == 303, returned.get_data(as_text=True)
        ids.request_id = request_id
    assert post(coordinator, f"/console/marac/meetings/{ids.meeting_id}/statement",
                {"agree": "yes"}).status_code == 303  # fmt: skip
    added = post(coordinator, f"/console/marac/meetings/{ids.meeting_id}/cases/{ids.case_id}/actions",
                 {"owner_agency": "met-police", "text": "Flag the address; share the risk plan",
                  "due": next_week().isoformat()})  # fmt: skip
    assert added.status_code == 303, added.get_data(as_text=True)
    case_page = coordinator.get(f"/console/marac/cases/{ids.case_id}?meeting={ids.meeting_id}")
    ids.action_id = re.search(r'/console/marac/actions/([\w-]+)"', case_page.get_data(as_text=True)).group(1)
    return ids
