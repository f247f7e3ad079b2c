"""``/api/v1/marac``: an agency's system does its part of the cycle with a bearer token;
a perpetrator-facing agency gets 404 or an empty list on every route."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from hub import marac
from hub.api import examples_marac as examples
from hub.marac.models import MaracCase
from tests.marac.conftest import (
    LEICS_COORDINATOR,
    SUTTON_COORDINATOR,
    leics_referral,
    sutton_referral,
)

SCOPES = "marac:research marac:actions referrals:read"
TODAY = dt.datetime.now(dt.UTC).date()
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def bearer(get_token):
    cache: dict[str, dict[str, str]] = {}

    def _bearer(partner: str) -> dict[str, str]:
        if partner not in cache:
            cache[partner] = {"Authorization": f"Bearer {get_token(partner, SCOPES)}"}
        return cache[partner]

    return _bearer


@pytest.fixture
def leics(session, ctx, refer):
    """A Leicestershire meeting with one case circulated and two actions agreed."""
    refer("victim-first", leics_referral())
    meeting = marac.create_meeting(session, LEICS_COORDINATOR, "leics-marac",
                                   TODAY + dt.timedelta(days=6))
    marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    case_id = session.scalar(select(MaracCase.id))
    mine = marac.add_action(session, ctx, LEICS_COORDINATOR, meeting.id, case_id,
                            "victim-first", "Offer a safety planning session",
                            TODAY + dt.timedelta(days=13))
    theirs = marac.add_action(session, ctx, LEICS_COORDINATOR, meeting.id, case_id,
                              "leics-sdvs", "Allocate an IDVA", TODAY + dt.timedelta(days=8))
    session.rollback()  # end the fixture's reads: SQLite lets one writer in at a time
    return {"meeting": meeting.id, "case": case_id, "mine": mine.id, "theirs": theirs.id}


def test_an_agency_returns_research_over_the_api(client, bearer, leics):
    headers = bearer("victim-first")
    listed = client.get("/api/v1/marac/research-requests", headers=headers)
    assert listed.status_code == 200
    (item,) = listed.get_json()["items"]
    assert item["case_number"].startswith("LEI-") and item["status"] == "delivered"
    assert "victim_current_address" not in item["circulated_fields"]
    circulated = client.get(f"/api/v1/referrals/{item['circulation_id']}", headers=headers)
    assert circulated.status_code == 200
    assert circulated.get_json()["data"]["marac_case_number"] == item["case_number"]
    one = client.get(f"/api/v1/marac/research-requests/{item['id']}", headers=headers)
    assert one.get_json() == item
    url = f"/api/v1/marac/research-requests/{item['id']}/return"
    returned = client.post(url, json=examples.RESEARCH_RETURN, headers=headers)
    assert returned.status_code == 201, returned.get_json()
    body = returned.get_json()
    assert body["released"] == examples.RESEARCH_RETURNED["released"]
    assert body["not_shared"] == examples.RESEARCH_RETURN["not_shared"]
    again = client.post(url, json=examples.RESEARCH_RETURN, headers=headers)
    assert again.status_code == 409
    # another agency cannot answer it
    other = client.post(url, json=examples.RESEARCH_RETURN, headers=bearer("leics-sdvs"))
    assert other.status_code == 404


def test_bad_research_is_refused_before_anything_is_recorded(client, bearer, leics):
    headers = bearer("leics-sdvs")
    (item,) = client.get("/api/v1/marac/research-requests", headers=headers).get_json()["items"]
    url = f"/api/v1/marac/research-requests/{item['id']}/return"
    bad_reason = {"data": {"risk_level": "high"},
                  "not_shared": [{"field": "disability", "reason": "because"}]}
    response = client.post(url, json=bad_reason, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"].startswith("#/not_shared/0/reason")
    unknown = client.post(url, json={"data": {"favourite_colour": "red"}}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["pointer"] == "#/data/favourite_colour"
    listed = client.get("/api/v1/marac/research-requests", headers=headers).get_json()
    assert listed["items"][0]["status"] == "delivered"


def test_statement_and_meetings_over_the_api(client, bearer, leics):
    headers = bearer("victim-first")
    meetings = client.get("/api/v1/marac/meetings", headers=headers).get_json()["items"]
    assert [(m["id"], m["signed"]) for m in meetings] == [(leics["meeting"], False)]
    signed = client.post(f"/api/v1/marac/meetings/{leics['meeting']}/statement", headers=headers)
    assert signed.status_code == 201
    assert signed.get_json()["statement"] == marac.STATEMENT_TEXT
    assert signed.get_json()["signed_by"] == "victim-first"
    meetings = client.get("/api/v1/marac/meetings", headers=headers).get_json()["items"]
    assert meetings[0]["signed"] is True


def test_an_agency_updates_its_own_actions_only(client, bearer, leics, session):
    headers = bearer("victim-first")
    listed = client.get("/api/v1/marac/actions", headers=headers).get_json()["items"]
    assert [a["id"] for a in listed] == [leics["mine"]]
    done = client.post(f"/api/v1/marac/actions/{leics['mine']}/update",
                       json=examples.ACTION_UPDATE, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "done" and done.get_json()["update_ledger_index"]
    theirs = client.post(f"/api/v1/marac/actions/{leics['theirs']}/update",
                         json=examples.ACTION_UPDATE, headers=headers)
    assert theirs.status_code == 403
    assert marac.action(session, LEICS_COORDINATOR, leics["theirs"]).status == "open"
    session.rollback()  # end the read (SQLite allows one writer)
    assert client.get(f"/api/v1/marac/actions/{leics['theirs']}",
                      headers=headers).status_code == 404
    bad = client.post(f"/api/v1/marac/actions/{leics['mine']}/update",
                      json={"status": "finished"}, headers=headers)
    assert bad.status_code == 422
    filtered = client.get("/api/v1/marac/actions?status=open", headers=headers).get_json()
    assert filtered["items"] == []


@pytest.fixture
def sutton(session, ctx, refer):
    refer("met-police", sutton_referral(children="A girl aged 5"))
    meeting = marac.create_meeting(session, SUTTON_COORDINATOR, "sutton-community-marac",
                                   TODAY + dt.timedelta(days=3))
    marac.circulate_research(session, ctx, SUTTON_COORDINATOR, meeting.id)
    case_id = session.scalar(select(MaracCase.id))
    action = marac.add_action(session, ctx, SUTTON_COORDINATOR, meeting.id, case_id,
                              "met-police", "Flag the address", TODAY + dt.timedelta(days=9))
    (request,) = [r for r in marac.research_requests(session, SUTTON_COORDINATOR, meeting.id)
                  if r.agency_id == "met-police"]
    session.rollback()
    return {"meeting": meeting.id, "action": action.id, "request": request.id}


@pytest.mark.parametrize("partner", ["sutton-yot", "kent-police"])
def test_perpetrator_facing_agency_gets_nothing_on_every_route(client, bearer, sutton, partner):
    headers = bearer(partner)
    for path in ("/api/v1/marac/research-requests", "/api/v1/marac/meetings",
                 "/api/v1/marac/actions",
                 f"/api/v1/marac/research-requests?meeting_id={MISSING}"):
        response = client.get(path, headers=headers)
        if response.status_code == 200:
            assert response.get_json() == {"items": []}, path
        else:
            assert response.status_code == 404, path
    real_and_missing = [
        ("get", "/api/v1/marac/research-requests/{}", sutton["request"], None),
        ("post", "/api/v1/marac/research-requests/{}/return", sutton["request"],
         examples.RESEARCH_RETURN),
        ("post", "/api/v1/marac/meetings/{}/statement", sutton["meeting"], None),
        ("get", "/api/v1/marac/actions/{}", sutton["action"], None),
        ("post", "/api/v1/marac/actions/{}/update", sutton["action"], examples.ACTION_UPDATE),
        ("get", "/api/v1/marac/actions?meeting_id={}", sutton["meeting"], None),
    ]
    for method, template, real_id, body in real_and_missing:
        answers = []
        for some_id in (real_id, MISSING):
            call = getattr(client, method)
            response = call(template.format(some_id), json=body, headers=headers)
            problem = response.get_json()
            answers.append((response.status_code, problem.get("type"), problem.get("detail")))
        assert answers[0] == answers[1], template  # exactly as if nothing existed
        assert answers[0][0] == 404, template


def test_routes_need_their_scope(client, get_token, sutton):
    token = get_token("met-police", "referrals:read")
    response = client.get("/api/v1/marac/actions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_a_refused_return_is_recorded_and_leaves_the_request_open(client, bearer, leics):
    headers = bearer("leics-sdvs")
    (item,) = client.get("/api/v1/marac/research-requests", headers=headers).get_json()["items"]
    url = f"/api/v1/marac/research-requests/{item['id']}/return"
    refused = client.post(url, json={"data": {"risk_level": "high"},
                                     "consent": {"state": "refused"}}, headers=headers)
    assert refused.status_code == 403
    problem = refused.get_json()
    assert problem["type"].endswith("/policy-refused") and problem["ledger_index"] > 0
    assert [r["reason"] for r in problem["reasons"]] == ["consent_refused_without_justification"]
    (still,) = client.get("/api/v1/marac/research-requests", headers=headers).get_json()["items"]
    assert still["status"] == "delivered"
    accepted = client.post(url, json={"data": {"risk_level": "high"}}, headers=headers)
    assert accepted.status_code == 201
