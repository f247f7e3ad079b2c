"""The MARAC console through Flask's test client: who may open what, and what each sees.

The role/route matrix names every ``/console/marac`` route; a perpetrator-facing agency's
rep gets, on every route, exactly what a missing id gets; a rep cannot report on another
agency's action; the pack PDF is marked and recorded.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from hub.people.roles import ROLES
from hub.web.access import ROUTE_ROLES
from tests.sharing.conftest import auth, send  # noqa: F401
from tests.web.marac_fixtures import (
    CANARY_NAME,
    MARAC_ID,
    WHERE,
    Ids,
    fill,
    ledger_events,
    marac_routes,
    next_week,
    post,
    purposes,
)

BOTH = frozenset({"marac_coordinator", "agency_rep"})
COORDINATOR = frozenset({"marac_coordinator"})
# Every MARAC console route and the roles it admits: a new route must be added here.
MATRIX = {
    "console.marac.index": BOTH,
    "console.marac.marac": BOTH,
    "console.marac.meeting_create": COORDINATOR,
    "console.marac.referrals": COORDINATOR,
    "console.marac.lapsed": COORDINATOR,
    "console.marac.meeting": BOTH,
    "console.marac.meeting_case_add": COORDINATOR,
    "console.marac.meeting_finish": COORDINATOR,
    "console.marac.circulate": COORDINATOR,
    "console.marac.agenda": BOTH,
    "console.marac.case": BOTH,
    "console.marac.action_add": COORDINATOR,
    "console.marac.statement_sign": BOTH,
    "console.marac.research": BOTH,
    "console.marac.research_request": BOTH,
    "console.marac.research_return": BOTH,
    "console.marac.actions": BOTH,
    "console.marac.action_update": BOTH,
    "console.marac.pack_pdf": BOTH,
    "console.marac.minutes_pdf": BOTH,
}


def test_role_route_matrix_names_every_marac_route(app):
    declared = {e: ROUTE_ROLES[e] for e, _m, _r in marac_routes(app)}
    assert declared == MATRIX


def test_each_role_is_admitted_or_refused_as_the_matrix_says(app, marac_people, client_for):
    signed_out = app.test_client()
    for endpoint, method, rule in marac_routes(app):
        path = fill(rule, {n: "missing" for n in ("marac_id", "meeting_id", "case_id",
                                                   "request_id", "action_id")})  # fmt: skip
        response = signed_out.open(path, method=method)
        assert response.status_code in (302, 400), (endpoint, response.status_code)
        if response.status_code == 302:
            assert "/console/login" in response.headers["Location"]
    for key in ("hub_dpo", "dpo", "auditor", "marac_coordinator", "agency_rep"):
        person = marac_people[key]
        client = client_for(key)
        for endpoint, method, rule in marac_routes(app):
            path = fill(rule, {n: "missing" for n in ("marac_id", "meeting_id", "case_id",
                                                       "request_id", "action_id")})  # fmt: skip
            response = post(client, path) if method == "POST" else client.get(path)
            body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
            if set(person.roles) & MATRIX[endpoint]:
                assert "Your roles do not include this page." not in body, (key, endpoint)
                # a missing id is a 404 (or a 422 for a form sent without its fields)
                assert response.status_code in (200, 303, 404, 422), (key, endpoint, response.status_code)
            else:
                assert response.status_code == 403, (key, endpoint)
                assert "Your roles do not include this page." in body, (key, endpoint)
    assert set(ROLES) >= {"marac_coordinator", "agency_rep"}


def test_a_rep_cannot_report_on_another_agencys_action(app, marac_cycle, client_for):
    before = len(ledger_events(app))
    csc = client_for("csc_rep")
    refused = post(csc, f"/console/marac/actions/{marac_cycle.action_id}", {"status": "done"})
    assert refused.status_code == 403
    assert "Your roles do not include this page." not in refused.get_data(as_text=True)
    events = ledger_events(app)[before:]
    assert not [e for e in events if e.get("type") == "disclosure"]
    police = client_for("police_rep")
    done = post(police, f"/console/marac/actions/{marac_cycle.action_id}", {"status": "done", "note": "Flagged"})
    assert done.status_code == 303
    assert "marac_action_update" in purposes(ledger_events(app), "disclosure")


def _normalised(body: str, ids: Ids) -> str:
    for value in ids.as_dict().values():
        body = body.replace(value, "ID")
    body = body.replace("missing", "ID")
    return re.sub(r'name="csrf_token" value="[^"]+"|data-csrf-token="[^"]+"', "", body)


def _forms(ids: dict[str, str]) -> dict[str, dict[str, str]]:
    """A well-formed form for each POST route, so the service itself is asked."""
    due = next_week().isoformat()
    return {
        "console.marac.statement_sign": {"agree": "yes"},
        "console.marac.research_return": {"value-marac_research_summary": "Nothing known"},
        "console.marac.action_update": {"status": "done", "note": "Done"},
        "console.marac.meeting_create": {"held_on": due},
        "console.marac.meeting_case_add": {"case_id": ids["case_id"]},
        "console.marac.action_add": {"owner_agency": "sutton-yot", "text": "x", "due": due},
    }


def test_a_perpetrator_facing_rep_gets_what_a_missing_id_gets_on_every_route(app, marac_cycle, client_for):
    yot = client_for("yot_rep")
    missing = {k: "missing" for k in marac_cycle.as_dict()}
    before = len(ledger_events(app))
    for endpoint, method, rule in marac_routes(app):
        answers = []
        for ids in (marac_cycle.as_dict(), missing):
            path = fill(rule, ids)
            form = _forms(ids).get(endpoint, {})
            response = post(yot, path, form) if method == "POST" else yot.get(path)
            body = response.get_data(as_text=True)
            for secret in (CANARY_NAME, WHERE, "SCM-", "Flag the address"):
                assert secret not in body, (endpoint, secret)
            answers.append((response.status_code, _normalised(body, marac_cycle)))
        assert answers[0] == answers[1], endpoint
    index = yot.get("/console/marac/").get_data(as_text=True)
    assert "takes part in no MARAC" in index
    # nothing was shared with or by the YOT, nor any view of a case recorded for it
    assert not [e for e in ledger_events(app)[before:] if e.get("type") in ("disclosure", "refusal")]
    assert not [p for p in (yot.get("/console/").get_data(as_text=True),) if "Overdue" in p]


def test_the_pack_pdf_is_marked_holds_the_statement_and_is_a_consultation(app, marac_cycle, client_for):
    from pypdf import PdfReader

    coordinator = client_for("marac_coordinator")
    response = coordinator.get(f"/console/marac/meetings/{marac_cycle.meeting_id}/pack.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    assert text.count("OFFICIAL-SENSITIVE") >= 2
    assert "strictly confidential" in text
    assert "Flag the address" in text
    consulted = purposes(ledger_events(app), "consultation")
    assert "marac_pack_export" in consulted and "marac_research_view" in consulted


def test_an_overdue_action_is_prompted_at_sign_in_to_its_agency_only(app, marac_cycle, client_for):
    from sqlalchemy import update

    from hub import db
    from hub.marac.models import MaracAction

    with app.app_context():  # the action fell due yesterday (tests only: no waiting)
        session = db.session()
        yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        session.execute(update(MaracAction).where(MaracAction.id == marac_cycle.action_id)
                        .values(due=yesterday))  # fmt: skip
        session.commit()
    home = client_for("police_rep").get("/console/").get_data(as_text=True)
    assert "Overdue for your agency" in home
    assert "/console/marac/actions" in home
    for other in ("csc_rep", "yot_rep", "dpo"):
        assert "Overdue for your agency" not in client_for(other).get("/console/").get_data(as_text=True)


def test_referral_filters_lapsed_list_and_bad_input(app, marac_cycle, client_for):
    coordinator = client_for("marac_coordinator")
    rows = coordinator.get(f"/console/marac/{MARAC_ID}/referrals?criterion=repeat",
                           headers={"HX-Request": "true"})  # fmt: skip
    body = rows.get_data(as_text=True)
    assert rows.status_code == 200 and "<html" not in body  # htmx gets the rows only
    assert body.count("badge repeat") == 1 and "1 referral" in body
    agency = coordinator.get(f"/console/marac/{MARAC_ID}/referrals?agency=sutton-csc")
    assert "No referrals match." in agency.get_data(as_text=True)
    for bad in ("criterion=everything", "since=yesterday"):
        refused = coordinator.get(f"/console/marac/{MARAC_ID}/referrals?{bad}")
        assert refused.status_code == 422, bad
    lapsed = coordinator.get(f"/console/marac/{MARAC_ID}/lapsed")
    assert lapsed.status_code == 200 and "No case lapses this month." in lapsed.get_data(as_text=True)
    a_year_on = (dt.datetime.now(dt.UTC) + dt.timedelta(days=366)).strftime("%Y-%m")
    later = coordinator.get(f"/console/marac/{MARAC_ID}/lapsed?month={a_year_on}")
    assert "SCM-" in later.get_data(as_text=True)
    assert coordinator.get(f"/console/marac/{MARAC_ID}/lapsed?month=13-2026").status_code == 422
    police = client_for("police_rep")
    assert police.get(f"/console/marac/{MARAC_ID}/referrals").status_code == 403


def test_the_statement_gate_on_the_agenda_and_case(app, marac_cycle, client_for):
    csc = client_for("csc_rep")  # Sutton CSC has not signed this meeting's statement
    for path in (f"/console/marac/meetings/{marac_cycle.meeting_id}/agenda",
                 f"/console/marac/cases/{marac_cycle.case_id}?meeting={marac_cycle.meeting_id}"):
        gated = csc.get(path)
        assert gated.status_code == 403, path
        body = gated.get_data(as_text=True)
        assert "Confidentiality statement not signed" in body and "SCM-" not in body
    assert post(csc, f"/console/marac/meetings/{marac_cycle.meeting_id}/statement",
                {"agree": "yes"}).status_code == 303  # fmt: skip
    assert csc.get(f"/console/marac/meetings/{marac_cycle.meeting_id}/agenda").status_code == 200
