"""Consent withdrawal end to end through the API (UK GDPR Art 7(1), 7(3)): a referral citing
a live record leaves; after the subject withdraws, the next one citing it is refused, says so,
and the refusal is on the ledger like any other."""

from __future__ import annotations

from typing import Any

from tests.sharing.conftest import VICTIM_REFERRAL


def _with_record(record_id: str) -> dict[str, Any]:
    return {**VICTIM_REFERRAL, "consent": {"state": "given", "record": record_id}}


def test_withdrawn_consent_stops_the_next_referral(client, auth, send):
    created = client.post(
        "/api/v1/consents",
        json={"purposes": ["victims_code_referral"], "recipients": ["victim-first"]},
        headers=auth("leics-police"),
    )
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["withdrawn_at"] is None and record["explicit"] is False

    first = send("leics-police", _with_record(record["id"]))
    assert first.status_code == 201, first.get_json()

    withdrawn = client.post(
        f"/api/v1/consents/{record['id']}/withdrawal", headers=auth("leics-police")
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn_at"]
    again = client.post(
        f"/api/v1/consents/{record['id']}/withdrawal", headers=auth("leics-police")
    )
    assert again.status_code == 409

    second = send("leics-police", _with_record(record["id"]))
    assert second.status_code == 403
    problem = second.get_json()
    reasons = {r["reason"] for r in problem["reasons"]}
    assert reasons == {"consent_withdrawn"}
    assert "withdrawn" in problem["reasons"][0]["detail"]


def test_a_record_is_its_senders_alone(client, auth, send):
    created = client.post(
        "/api/v1/consents",
        json={"purposes": ["victims_code_referral"], "recipients": ["victim-first"]},
        headers=auth("leics-police"),
    )
    record_id = created.get_json()["id"]
    assert client.get(f"/api/v1/consents/{record_id}", headers=auth("victim-first")).status_code == 404
    assert client.get(f"/api/v1/consents/{record_id}", headers=auth("leics-police")).status_code == 200


def test_a_record_out_of_scope_is_refused(client, auth, send):
    created = client.post(
        "/api/v1/consents",
        json={"purposes": ["referral_outcome"], "recipients": ["victim-first"]},
        headers=auth("leics-police"),
    )
    response = send("leics-police", _with_record(created.get_json()["id"]))
    assert response.status_code == 403
    assert {r["reason"] for r in response.get_json()["reasons"]} == {"consent_out_of_scope"}


def test_bad_consent_record_input_is_a_clean_422(client, auth):
    response = client.post(
        "/api/v1/consents", json={"purposes": [], "recipients": ["x"]}, headers=auth("leics-police")
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_opinion_arrives_marked_in_the_inbox_and_the_get_view(client, auth, send):
    """ICO data-sharing code: fact and opinion clearly distinguished, as the recipient sees it."""
    body = {
        "to": "kent-syv-provider",
        "purpose": "syv_intervention",
        "consent": {"state": "given"},
        "data": {"given_name": "Alex", "rag_status": "red", "ete_status": "neet"},
    }
    sent = send("kent-csc", body)
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["opinion"] == ["rag_status"]
    view = client.get(f"/api/v1/referrals/{sent.get_json()['id']}",
                      headers=auth("kent-syv-provider")).get_json()
    assert view["data"]["rag_status"] == "red" and view["opinion"] == ["rag_status"]
    inbox = client.get("/api/v1/inbox", headers=auth("kent-syv-provider")).get_json()
    item = next(i for i in inbox["items"] if i["disclosure"]["id"] == sent.get_json()["id"])
    assert item["disclosure"]["opinion"] == ["rag_status"]
