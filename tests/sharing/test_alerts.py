"""Risk alerts through the API with real tokens: fan-out, per-recipient decisions, repeats."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select, update

from hub import db
from hub.ledger.models import LedgerEntry
from hub.sharing.models import Alert, Disclosure

PROBLEM = "application/problem+json"
CANARY = "Canary-Alert-Jordan-5521"
SUBJECT = {"given_name": CANARY, "family_name": "Okafor", "date_of_birth": "1990-02-03"}
OTHER_SUBJECT = {"given_name": "Sam", "family_name": "Other", "date_of_birth": "1985-07-08"}
MARAC_RECIPIENTS = ["met-police", "sutton-csc", "sutton-yot"]

MARAC_ALERT: dict[str, Any] = {
    "kind": "marac_high_risk",
    "purpose": "community_marac_alert",
    "consent": {"state": "not_sought", "reason": "unsafe"},
    "data": {
        **SUBJECT,
        "marac_case_number": "SUT-M-0042",
        "marac_criterion": "visible_high_risk",
        "dash_score": 16,
        "risk_level": "high",
        "actions": "Flag and tag; safety plan review",
    },
}

MARAC_REFERRAL: dict[str, Any] = {
    "to": "safer-sutton",
    "purpose": "community_marac_referral",
    "consent": {"state": "given"},
    "data": {**SUBJECT, "marac_criterion": "visible_high_risk", "crime_type": "harassment"},
}


@pytest.fixture
def alert(client, auth):
    """POST an alert as ``sender``."""

    def _alert(sender: str, body: dict[str, Any]) -> Any:
        return client.post("/api/v1/alerts", json=body, headers=auth(sender))

    return _alert


def _entries(app) -> list[dict]:
    with app.app_context():
        rows = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index))
        return [json.loads(r.entry) for r in rows]


def _count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def _marac_alert(**data: Any) -> dict[str, Any]:
    return {**MARAC_ALERT, "data": {**MARAC_ALERT["data"], **data}}


def test_marac_alert_reaches_each_recipient_with_its_own_decision_and_entry(alert, app):
    response = alert("safer-sutton", MARAC_ALERT)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["purpose"], body["repeat"]) == (
        "marac_high_risk",
        "community_marac_alert",
        False,
    )
    assert body["criteria"] == ["visible_high_risk"]
    by_recipient = {r["to"]: r for r in body["recipients"]}
    assert sorted(by_recipient) == MARAC_RECIPIENTS
    assert {r["status"] for r in body["recipients"]} == {201}
    # each recipient's own allow-list: the YOT flow does not carry the risk level
    assert "risk_level" in by_recipient["met-police"]["released"]
    yot_withheld = by_recipient["sutton-yot"]["withheld"]
    assert {"field": "risk_level", "reason": "not_in_allow_list"} in yot_withheld
    for result in body["recipients"]:
        assert {"field": "dash_score", "reason": "not_in_allow_list"} in result["withheld"]
    assert CANARY not in response.get_data(as_text=True)
    entries = _entries(app)
    for result in body["recipients"]:
        entry = entries[result["receipt"]["index"]]
        assert entry["type"] == "disclosure" and entry["kind"] == "alert"
        assert entry["ref"] == result["id"] and entry["correlation"] == body["id"]
        assert entry["recipients"] == [result["to"]]
        assert len(entry["subjects"]) == 1
    assert len({r["receipt"]["index"] for r in body["recipients"]}) == 3
    assert CANARY not in json.dumps(entries)
    with app.app_context():
        stored = db.session().get_one(Alert, body["id"])
        assert (stored.sender_id, stored.kind, stored.repeat) == (
            "safer-sutton",
            "marac_high_risk",
            False,
        )
    assert _count(app, Disclosure) == 3


def test_each_recipient_sees_the_alert_in_its_inbox_and_no_one_else_does(alert, client, auth):
    body = alert("safer-sutton", MARAC_ALERT).get_json()
    ids = {r["to"]: r["id"] for r in body["recipients"]}
    for recipient in MARAC_RECIPIENTS:
        items = client.get("/api/v1/inbox", headers=auth(recipient)).get_json()["items"]
        assert [i["kind"] for i in items] == ["alert"]
        disclosure = items[0]["disclosure"]
        assert disclosure["id"] == ids[recipient] and disclosure["alert_id"] == body["id"]
        assert disclosure["data"]["given_name"] == CANARY
        assert "dash_score" not in disclosure["data"]
    for outsider in ("sutton-outreach", "kent-police", "safer-sutton"):
        assert client.get("/api/v1/inbox", headers=auth(outsider)).get_json()["items"] == []


def test_dash_13_without_professional_judgement_is_422_and_records_nothing(alert, app):
    before = len(_entries(app))
    low = alert("safer-sutton", _marac_alert(dash_score=13))
    assert low.status_code == 422 and low.mimetype == PROBLEM
    errors = low.get_json()["errors"]
    assert errors[0]["pointer"] == "#/data/dash_score" and errors[0]["code"] == "below_threshold"
    data = {k: v for k, v in MARAC_ALERT["data"].items() if k != "dash_score"}
    missing = alert("safer-sutton", {**MARAC_ALERT, "data": data})
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["code"] == "missing"
    assert len(_entries(app)) == before and _count(app, Alert) == 0


def test_professional_judgement_stands_in_for_the_dash_score(alert):
    body = alert(
        "safer-sutton", _marac_alert(dash_score=9, marac_criterion="professional_judgement")
    )
    assert body.status_code == 201, body.get_json()
    assert body.get_json()["criteria"] == ["professional_judgement"]


def test_schema_refuses_unknown_keys_and_kinds(alert):
    assert alert("safer-sutton", {**MARAC_ALERT, "to": "met-police"}).status_code == 422
    assert alert("safer-sutton", {**MARAC_ALERT, "kind": "gossip"}).status_code == 422
    unknown_field = alert("safer-sutton", _marac_alert(shoe_size=9))
    assert unknown_field.status_code == 422
    assert unknown_field.get_json()["errors"][0]["pointer"] == "#/data/shoe_size"


def test_repeat_within_12_months_is_detected_from_commitments(alert, send, app):
    assert send("met-police", MARAC_REFERRAL).status_code == 201
    repeat = alert("safer-sutton", MARAC_ALERT).get_json()
    assert repeat["repeat"] is True
    assert repeat["criteria"] == ["visible_high_risk", "repeat"]
    other = alert("safer-sutton", _marac_alert(**OTHER_SUBJECT)).get_json()
    assert other["repeat"] is False
    with app.app_context():
        assert db.session().get_one(Alert, repeat["id"]).repeat is True
    # a partner that was no party to the referral is not told of it
    sfo = {
        "kind": "serious_further_offence",
        "purpose": "serious_further_offence_alert",
        "data": {**SUBJECT, "sfo_flag": True},
    }
    assert alert("probation-london", sfo).get_json()["repeat"] is False  # not its referral


def test_a_referral_older_than_12_months_is_not_a_repeat(alert, send, app):
    referral = send("met-police", MARAC_REFERRAL).get_json()
    with app.app_context():
        session = db.session()
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=366)
        session.execute(
            update(Disclosure).where(Disclosure.id == referral["id"]).values(created_at=old)
        )
        session.commit()
    assert alert("safer-sutton", MARAC_ALERT).get_json()["repeat"] is False


def test_missing_child_alert_fans_out_under_the_kent_agreement(alert, client, auth):
    body = {
        "kind": "missing_child",
        "purpose": "missing_child_alert",
        "data": {
            **SUBJECT,
            "date_of_birth": "2011-05-06",
            "last_missing_date": "2026-03-01",
            "exploitation_tier": "significant",
            "mental_health": "withheld here",
        },
    }
    response = alert("kent-police", body)
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert [(r["to"], r["status"]) for r in result["recipients"]] == [
        ("kent-csc", 201),
        ("medway-csc", 201),
    ]
    for r in result["recipients"]:
        assert r["agreement"]["id"] == "kent-missing-children"
        assert r["withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    item = client.get("/api/v1/inbox", headers=auth("medway-csc")).get_json()["items"][0]
    assert item["kind"] == "alert"
    assert item["disclosure"]["data"]["exploitation_tier"] == "significant"


def test_serious_further_offence_alert_goes_to_the_police(alert):
    body = {
        "kind": "serious_further_offence",
        "purpose": "serious_further_offence_alert",
        "data": {**SUBJECT, "pnc_id": "12/345678A", "sfo_flag": True, "charge": "wounding"},
    }
    response = alert("probation-london", body)
    assert response.status_code == 201, response.get_json()
    (only,) = response.get_json()["recipients"]
    assert (only["to"], only["status"]) == ("met-police", 201)
    assert only["basis"] == ["OMA07_S14", "DPA_PART3"]


def test_each_refused_recipient_has_its_own_refusal_entry(alert, app):
    body = {**MARAC_ALERT, "consent": {"state": "not_sought"}}  # no reason: refused per flow
    response = alert("safer-sutton", body)
    assert response.status_code == 201
    result = response.get_json()
    assert {r["status"] for r in result["recipients"]} == {403}
    entries = _entries(app)
    for r in result["recipients"]:
        assert r["problem"]["reasons"][0]["reason"] == "consent_not_sought_without_reason"
        entry = entries[r["problem"]["ledger_index"]]
        assert entry["type"] == "refusal" and entry["recipients"] == [r["to"]]
        assert entry["correlation"] == result["id"]
    assert _count(app, Disclosure) == 0


def test_the_alert_record_lists_refused_recipients_too(alert, client, auth):
    body = {**MARAC_ALERT, "consent": {"state": "not_sought"}}
    result = alert("safer-sutton", body).get_json()
    view = client.get(f"/api/v1/alerts/{result['id']}", headers=auth("safer-sutton")).get_json()
    assert view["recipients"] == []
    assert {r["to"] for r in view["refused"]} == {r["to"] for r in result["recipients"]}
    assert all(r["reasons"] == ["consent_not_sought_without_reason"] for r in view["refused"])


def test_no_flow_for_the_purpose_is_403_with_a_refusal_entry(alert, app):
    response = alert("kent-police", MARAC_ALERT)
    assert response.status_code == 403 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"].endswith("/policy-refused")
    assert problem["reasons"][0]["reason"] == "no_agreement"
    entry = _entries(app)[problem["ledger_index"]]
    assert entry["type"] == "refusal" and entry["kind"] == "alert"
    assert entry["recipients"] == [] and entry["reasons"] == ["no_agreement"]
    assert entry["purpose"] == "community_marac_alert" and len(entry["subjects"]) == 1
    assert _count(app, Alert) == 0 and _count(app, Disclosure) == 0


def test_list_shows_only_the_callers_alerts_newest_first(alert, client, auth):
    first = alert("safer-sutton", MARAC_ALERT).get_json()
    second = alert("safer-sutton", _marac_alert(**OTHER_SUBJECT)).get_json()
    alert(
        "kent-police",
        {
            "kind": "missing_child",
            "purpose": "missing_child_alert",
            "data": {**SUBJECT, "last_missing_date": "2026-03-01"},
        },
    )
    listing = client.get("/api/v1/alerts", headers=auth("safer-sutton"))
    assert listing.status_code == 200
    page = listing.get_json()
    assert [a["id"] for a in page["items"]] == [second["id"], first["id"]]
    assert page["has_more"] is False
    recipients = page["items"][1]["recipients"]
    assert [(r["to"], r["status"]) for r in recipients] == [(t, "sent") for t in MARAC_RECIPIENTS]
    assert {r["id"] for r in recipients} == {r["id"] for r in first["recipients"]}
    assert CANARY not in listing.get_data(as_text=True)
    one = client.get("/api/v1/alerts?limit=1", headers=auth("safer-sutton")).get_json()
    assert [a["id"] for a in one["items"]] == [second["id"]] and one["has_more"]
    rest = client.get(
        f"/api/v1/alerts?limit=1&cursor={one['next_cursor']}", headers=auth("safer-sutton")
    ).get_json()
    assert [a["id"] for a in rest["items"]] == [first["id"]] and not rest["has_more"]
    police = client.get("/api/v1/alerts", headers=auth("kent-police")).get_json()["items"]
    assert [a["kind"] for a in police] == ["missing_child"]


def test_an_alert_is_visible_to_its_sender_only(alert, client, auth):
    sent = alert("safer-sutton", MARAC_ALERT).get_json()
    mine = client.get(f"/api/v1/alerts/{sent['id']}", headers=auth("safer-sutton"))
    assert mine.status_code == 200 and mine.get_json()["id"] == sent["id"]
    for other in ("kent-police", "met-police"):  # a recipient reads it through its inbox
        got = client.get(f"/api/v1/alerts/{sent['id']}", headers=auth(other))
        assert got.status_code == 404 and got.mimetype == PROBLEM
    unknown = client.get("/api/v1/alerts/no-such-alert", headers=auth("safer-sutton"))
    assert unknown.status_code == 404
    foreign_cursor = client.get(f"/api/v1/alerts?cursor={sent['id']}", headers=auth("kent-police"))
    assert foreign_cursor.status_code == 404


def test_ledger_failure_leaves_no_alert(alert, app, monkeypatch):
    import hub.sharing.disclosures as disclosures

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(disclosures.store, "append_entries", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert alert("safer-sutton", MARAC_ALERT).status_code == 500
    assert _count(app, Alert) == 0 and _count(app, Disclosure) == 0
