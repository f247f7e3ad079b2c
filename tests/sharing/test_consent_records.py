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


def _ledger_entry(app, index: int) -> dict:
    import json

    from hub import db
    from hub.ledger.models import LedgerEntry

    with app.app_context():
        return json.loads(db.session().get(LedgerEntry, index).entry)


def test_a_required_consent_flow_refuses_a_bare_given_uk_gdpr_art_7_1(client, auth, send, app):
    """UK GDPR Art 7(1): relying on consent, the sender must show it; a bare state is refused,
    and the refusal is on the ledger like any other."""
    response = send("leics-police", VICTIM_REFERRAL)
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["type"].endswith("policy-refused")
    assert [r["reason"] for r in problem["reasons"]] == ["consent_record_missing"]
    entry = _ledger_entry(app, problem["ledger_index"])
    assert entry["type"] == "refusal" and entry["reasons"] == ["consent_record_missing"]


def test_batch_items_and_dry_runs_need_the_record_too_uk_gdpr_art_7_1(
    client, auth, consented, get_token
):
    cited = consented("leics-police", VICTIM_REFERRAL)
    batch = client.post(
        "/api/v1/referrals:batch",
        json={"items": [VICTIM_REFERRAL, cited]},
        headers=auth("leics-police"),
    ).get_json()
    statuses = [item["status"] for item in batch["results"]]
    assert statuses == [403, 201], batch
    read = {"Authorization": f"Bearer {get_token('leics-police', 'agreements:read')}"}
    bare = client.post("/api/v1/decisions", json=VICTIM_REFERRAL, headers=read).get_json()
    assert bare["allowed"] is False
    assert [r["reason"] for r in bare["refusals"]] == ["consent_record_missing"]
    assert client.post("/api/v1/decisions", json=cited, headers=read).get_json()["allowed"]


def test_a_correction_cites_the_original_record_and_its_withdrawal_stops_it(
    client, auth, send, consented
):
    """UK GDPR Art 7(3): withdrawal stops every later message relying on the consent, a
    correction of an earlier referral included."""
    cited = consented("leics-police", VICTIM_REFERRAL)
    sent = send("leics-police", cited).get_json()
    url = f"/api/v1/referrals/{sent['id']}/correction"
    body = {"data": {"crime_type": "robbery"}, "reason": "inaccurate"}
    first = client.post(url, json=body, headers=auth("leics-police"))
    assert first.status_code == 200, first.get_json()
    record_id = cited["consent"]["record"]
    client.post(f"/api/v1/consents/{record_id}/withdrawal", headers=auth("leics-police"))
    second = client.post(
        url, json={**body, "data": {"crime_type": "theft"}}, headers=auth("leics-police")
    )
    assert second.status_code == 403
    assert {r["reason"] for r in second.get_json()["reasons"]} == {"consent_withdrawn"}


def test_subject_age_band_and_at_risk_through_the_api_dpa_2018_sch1_para18(
    client, send, get_token
):
    """DPA 2018 Sch 1 para 18(1)(a), (3): criminal data about an adult not declared at risk
    is withheld naming para 18; declared at risk, it goes; a bad band is a clean 422."""
    body = {
        "to": "kent-syv-provider",
        "purpose": "syv_intervention",
        "consent": {"state": "not_sought", "reason": "unsafe"},
        "data": {"given_name": "Sam", "arrests_count": 2},
        "subject": {"age_band": "adult"},
    }
    sent = send("kent-csc", body)
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["withheld"][0]["reason"] == "para18_adult_not_at_risk"
    at_risk = send("kent-csc", {**body, "subject": {"age_band": "adult", "at_risk": True}})
    assert at_risk.status_code == 201 and at_risk.get_json()["withheld"] == []
    read = {"Authorization": f"Bearer {get_token('kent-csc', 'agreements:read')}"}
    bad = client.post(
        "/api/v1/decisions", json={**body, "subject": {"age_band": "teen"}}, headers=read
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_keeping_and_withdrawing_a_record_are_actor_only_ledger_entries(client, auth, app):
    """UK GDPR Art 5(2), 7(1): the hub can show when consent was recorded and withdrawn; the
    entry holds the record's id and scope only, and only its sender reads it."""
    import json

    from hub import db
    from hub.ledger.models import LedgerEntry

    created = client.post(
        "/api/v1/consents",
        json={"purposes": ["victims_code_referral"], "recipients": ["victim-first"]},
        headers=auth("leics-police"),
    ).get_json()
    client.post(f"/api/v1/consents/{created['id']}/withdrawal", headers=auth("leics-police"))
    with app.app_context():
        rows = db.session().query(LedgerEntry).order_by(LedgerEntry.index.desc()).limit(2).all()
        given_row, withdrawn_row = rows[1], rows[0]
        entries = [json.loads(r.entry) for r in (given_row, withdrawn_row)]
        assert {r.format for r in rows} == {2}
    assert [e["type"] for e in entries] == ["consent", "consent"]
    assert [e["action"] for e in entries] == ["given", "withdrawn"]
    assert entries[0]["record"] == created["id"]
    assert entries[0]["scope_recipients"] == ["victim-first"]
    assert set(entries[0]) <= {
        "type", "time", "actor", "record", "action", "purposes", "scope_recipients",
        "explicit", "given_at",
    }
    url = f"/api/v1/log/entries/{given_row.index}"
    assert client.get(url, headers=auth("leics-police")).status_code == 200
    assert client.get(url, headers=auth("victim-first")).status_code == 404


def test_a_malformed_record_id_is_a_422_alone_and_never_reaches_the_database(client, auth, send):
    """A record id with a NUL byte (PostgreSQL refuses it in any query parameter) or another
    character outside the identifier shape is refused by the schema, single or in a batch,
    and the valid items of the batch still go."""
    for bad in ("rec\x00ord", "récord", "a b"):
        single = send("leics-police", _with_record(bad))
        assert single.status_code == 422, single.get_json()
        assert single.get_json()["errors"][0]["pointer"] == "#/consent/record"
    batch = client.post(
        "/api/v1/referrals:batch",
        json={"items": [_with_record("rec\x00ord"), {**VICTIM_REFERRAL, "client_ref": "ok"}]},
        headers=auth("leics-police"),
    )
    assert batch.status_code == 200, batch.get_json()
    first, second = batch.get_json()["results"]
    assert first["status"] == 422
    assert second["status"] in (201, 403)
