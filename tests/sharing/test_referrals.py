"""Sending, receiving and the workflow through the API with real tokens."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from hub import db
from hub.ledger import verify
from hub.ledger.models import LedgerEntry
from hub.sharing.models import Disclosure, IdempotencyRecord, InboxItem
from tests.sharing.conftest import CANARY_RELEASED, CANARY_WITHHELD, KENT_REFERRAL, VICTIM_REFERRAL

PROBLEM = "application/problem+json"


def _entries(app) -> list[dict]:
    with app.app_context():
        rows = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index))
        return [json.loads(r.entry) for r in rows]


def _count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def test_partial_release_is_recorded_and_receipted(send, app):
    response = send("kent-csc", KENT_REFERRAL)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "sent"
    assert set(body["released"]) == {"given_name", "family_name", "date_of_birth",
                                      "missing_episodes_count", "ete_status"}
    assert body["withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    assert body["agreement"]["id"] == "kent-syv-referral"
    assert CANARY_RELEASED not in response.get_data(as_text=True)
    entry = _entries(app)[body["receipt"]["index"]]
    assert entry["type"] == "disclosure" and entry["ref"] == body["id"]
    assert entry["recipients"] == ["kent-syv-provider"]
    assert entry["fields_withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    assert len(entry["subjects"]) == 1  # name + date of birth commitment
    raw = json.dumps(entry)
    assert CANARY_RELEASED not in raw and CANARY_WITHHELD not in raw


def test_refusal_is_403_with_reasons_and_a_ledger_entry(send, app):
    response = send("kent-police", KENT_REFERRAL)
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"].endswith("/policy-refused")
    assert problem["reasons"][0]["reason"] == "no_agreement"
    entry = _entries(app)[problem["ledger_index"]]
    assert entry["type"] == "refusal" and entry["reasons"] == ["no_agreement"]
    assert _count(app, Disclosure) == 0 and _count(app, InboxItem) == 0


def test_unknown_field_and_wrong_type_are_422_and_record_nothing(send, app):
    before = len(_entries(app))
    unknown = send("kent-csc", {**KENT_REFERRAL, "data": {"shoe_size": 9}})
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["pointer"] == "#/data/shoe_size"
    wrong = send("kent-csc", {**KENT_REFERRAL, "data": {"missing_episodes_count": "many"}})
    assert wrong.status_code == 422
    smuggled = send("kent-csc", {**KENT_REFERRAL, "from": "kent-police"})
    assert smuggled.status_code == 422
    assert len(_entries(app)) == before


def test_oversize_message_is_413(send):
    body = {**KENT_REFERRAL, "data": {"given_name": "x" * 70_000}}
    assert send("kent-csc", body).status_code == 413


def test_idempotent_retry_returns_the_first_answer(send, app):
    first = send("kent-csc", KENT_REFERRAL, **{"Idempotency-Key": "retry-key-0001"})
    again = send("kent-csc", KENT_REFERRAL, **{"Idempotency-Key": "retry-key-0001"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert _count(app, Disclosure) == 1
    other = send("kent-csc", {**KENT_REFERRAL, "purpose": "syv_intervention",
                              "data": {"given_name": "Someone else"}},
                 **{"Idempotency-Key": "retry-key-0001"})
    assert other.status_code == 409 and other.mimetype == PROBLEM
    # another partner may use the same key for its own request
    assert send("medway-csc", KENT_REFERRAL, **{"Idempotency-Key": "retry-key-0001"}).status_code == 201
    assert _count(app, IdempotencyRecord) == 2


def test_recipient_reads_the_released_data_and_the_read_is_logged(send, client, auth, app):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    page = client.get("/api/v1/inbox", headers=auth("kent-syv-provider")).get_json()
    assert len(page["items"]) == 1
    item = page["items"][0]["disclosure"]
    assert item["id"] == sent["id"]
    assert item["data"]["given_name"] == CANARY_RELEASED
    assert "mental_health" not in item["data"] and "withheld" not in item
    consultations = [e for e in _entries(app) if e["type"] == "consultation"]
    assert consultations[-1]["ref"] == sent["id"]
    assert consultations[-1]["actor"]["partner"] == "kent-syv-provider"
    # the cursor moves on: nothing new after it
    later = client.get(f"/api/v1/inbox?cursor={page['next_cursor']}", headers=auth("kent-syv-provider"))
    assert later.get_json()["items"] == []


def test_inbox_pages_oldest_first(send, client, auth):
    ids = [send("kent-csc", KENT_REFERRAL).get_json()["id"] for _ in range(3)]
    first = client.get("/api/v1/inbox?limit=2", headers=auth("kent-syv-provider")).get_json()
    assert [i["disclosure"]["id"] for i in first["items"]] == ids[:2] and first["has_more"]
    second = client.get(f"/api/v1/inbox?limit=2&cursor={first['next_cursor']}",
                        headers=auth("kent-syv-provider")).get_json()
    assert [i["disclosure"]["id"] for i in second["items"]] == ids[2:]


def test_other_partners_see_nothing(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    assert client.get("/api/v1/inbox", headers=auth("medway-csc")).get_json()["items"] == []
    assert client.get("/api/v1/inbox", headers=auth("kent-csc")).get_json()["items"] == []
    for outsider in ("medway-csc", "leics-police"):
        got = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth(outsider))
        assert got.status_code == 404 and got.mimetype == PROBLEM
        moved = client.post(f"/api/v1/referrals/{sent['id']}/status", json={"status": "accepted"},
                            headers=auth(outsider))
        assert moved.status_code == 404


def test_sender_and_recipient_views(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    mine = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-csc")).get_json()
    assert mine["withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    assert "data" not in mine
    theirs = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-syv-provider")).get_json()
    assert theirs["data"]["ete_status"] == "neet" and "withheld" not in theirs


def test_status_workflow(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    url = f"/api/v1/referrals/{sent['id']}/status"
    provider = auth("kent-syv-provider")
    assert client.post(url, json={"status": "received"}, headers=provider).get_json()["status"] == "received"
    assert client.post(url, json={"status": "closed"}, headers=provider).status_code == 409
    assert client.post(url, json={"status": "accepted"}, headers=provider).status_code == 200
    assert client.post(url, json={"status": "accepted"}, headers=auth("kent-csc")).status_code == 409
    assert client.post(url, json={"status": "closed"}, headers=provider).status_code == 200
    assert client.post(url, json={"status": "bogus"}, headers=provider).status_code == 422
    view = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-csc")).get_json()
    assert view["status"] == "closed"


def test_outcome_goes_back_only_under_the_return_flow_with_consent(send, client, auth, consented):
    sent = send("leics-police", consented("leics-police", VICTIM_REFERRAL))
    assert sent.status_code == 201, sent.get_json()
    url = f"/api/v1/referrals/{sent.get_json()['id']}/status"
    outcome = consented("victim-first", {
        "to": "leics-police", "purpose": "referral_outcome", "consent": {"state": "given"},
        "data": {"case_status": "accepted", "outcome_summary": "Support plan agreed"}})
    outcome = {k: outcome[k] for k in ("data", "consent")}
    result = client.post(url, json={"status": "accepted", "outcome": outcome},
                         headers=auth("victim-first")).get_json()
    assert result["outcome"]["shared"] is True
    police_inbox = client.get("/api/v1/inbox", headers=auth("leics-police")).get_json()["items"]
    assert police_inbox[0]["kind"] == "outcome"
    assert police_inbox[0]["disclosure"]["data"]["outcome_summary"] == "Support plan agreed"
    refused = client.post(url, json={"status": "closed", "outcome": {**outcome, "consent": {"state": "refused"}}},
                          headers=auth("victim-first")).get_json()
    assert refused["outcome"]["shared"] is False


def test_outcome_without_a_return_flow_stays_with_the_recipient(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    result = client.post(f"/api/v1/referrals/{sent['id']}/status",
                         json={"status": "accepted", "outcome": {"data": {"outcome_summary": "x"}}},
                         headers=auth("kent-syv-provider")).get_json()
    assert result["outcome"]["shared"] is False
    assert client.get("/api/v1/inbox", headers=auth("kent-csc")).get_json()["items"] == []


def test_receipt_verifies_offline_once_a_checkpoint_covers_it(send, client, auth, app):

    from hub.ledger.checkpoint import sign_checkpoint

    sent = send("kent-csc", KENT_REFERRAL).get_json()
    assert "checkpoint" not in sent["receipt"]  # no checkpoint covers it yet
    verify.verify_entry_view(sent["receipt"])  # but the sender's members already verify
    with app.app_context():  # sign on demand, as `hub log checkpoint` or the worker would
        session = db.session()
        settings = app.config["HUB_SETTINGS"]
        sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin)
        session.commit()
    headers = auth("kent-csc")
    receipt = client.get(f"/api/v1/referrals/{sent['id']}", headers=headers).get_json()["receipt"]
    assert receipt["index"] == sent["receipt"]["index"]
    assert receipt["leaf_hash"] == sent["receipt"]["leaf_hash"]
    key = client.get("/api/v1/log/key", headers=headers).get_data(as_text=True).strip()
    checkpoint = verify.verify_checkpoint(receipt["checkpoint"], key)
    verify.verify_inclusion(
        checkpoint, receipt["index"], receipt["leaf_hash"], receipt["inclusion"]["hashes"]
    )
    with pytest.raises(verify.VerificationError):  # a different leaf does not verify
        verify.verify_inclusion(
            checkpoint, receipt["index"], b"\x00" * 32, receipt["inclusion"]["hashes"]
        )
    entry = client.get(f"/api/v1/log/entries/{receipt['index']}", headers=headers).get_json()
    assert verify.verify_entry_view(entry) == base64.b64decode(receipt["leaf_hash"])
    assert verify.verify_receipt(receipt, key) == checkpoint


def test_batch_decides_each_item_on_its_own(client, auth, app):
    items = [
        {**KENT_REFERRAL, "client_ref": "a"},
        {**KENT_REFERRAL, "to": "kent-police", "client_ref": "b"},
        {**KENT_REFERRAL, "data": {"shoe_size": 1}, "client_ref": "c"},
    ]
    response = client.post("/api/v1/referrals:batch", json={"items": items}, headers=auth("kent-csc"))
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [(r["index"], r["client_ref"], r["status"]) for r in results] == [
        (0, "a", 201), (1, "b", 403), (2, "c", 422)]
    assert results[0]["withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    assert results[2]["problem"]["errors"][0]["pointer"] == "#/items/2/data/shoe_size"
    kinds = [e["type"] for e in _entries(app)[-2:]]
    assert kinds == ["disclosure", "refusal"]


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 300])
def test_malformed_idempotency_key_is_400(send, key):
    response = send("kent-csc", KENT_REFERRAL, **{"Idempotency-Key": key})
    assert response.status_code == 400
