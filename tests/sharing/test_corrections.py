"""Corrections and withdrawals: Art 19 notices reach every recipient; erased payloads are
unreadable and every ledger proof still verifies."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from hub import db
from hub.delivery.models import OutboxMessage
from hub.ledger import merkle, salted, store
from hub.ledger.checkpoint import sign_checkpoint
from hub.ledger.models import LedgerEntry
from hub.ledger.verify import verify_checkpoint, verify_inclusion, verify_ledger
from hub.partners.models import Partner
from hub.sharing.crypto import PayloadUnavailable, open_sealed
from hub.sharing.models import Disclosure, InboxItem
from tests.sharing.conftest import CANARY_RELEASED, KENT_REFERRAL, VICTIM_REFERRAL
from tests.sharing.test_fail_closed import _dump

PROBLEM = "application/problem+json"
CANARY_CORRECTED = "Canary-Corrected-Alexandria-5521"
SUTTON_RECIPIENTS = ("met-police", "sutton-yot", "sutton-csc")


def _concern(to: str) -> dict:
    return {
        "to": to,
        "purpose": "safeguarding_concern",
        "data": {
            "given_name": CANARY_RELEASED,
            "family_name": "Jones",
            "date_of_birth": "2009-02-03",
            "concern_summary": "Seen with older males near the station",
            "missing_episodes_count": 1,
        },
    }


def _ledger(app) -> list[dict]:
    with app.app_context():
        rows = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index))
        return [json.loads(r.entry) for r in rows]


def _raw_row(engine, disclosure_id: str):
    """The stored columns straight from the table, not through the ORM."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT ciphertext, wrapped_key, payload_digest, erased_at, erasure_reason, "
                "status FROM disclosures WHERE id = :id"
            ),
            {"id": disclosure_id},
        ).one()


def _inbox(client, auth, partner: str) -> list[dict]:
    return client.get("/api/v1/inbox", headers=auth(partner)).get_json()["items"]


def _correct(client, auth, sender: str, disclosure_id: str, body: dict):
    return client.post(
        f"/api/v1/referrals/{disclosure_id}/correction", json=body, headers=auth(sender)
    )


def _withdraw(client, auth, sender: str, disclosure_id: str, reason: str = "erasure_request"):
    return client.post(
        f"/api/v1/referrals/{disclosure_id}/withdraw", json={"reason": reason}, headers=auth(sender)
    )


def _checkpoint(app, settings) -> str:
    """Sign a checkpoint now (the hub signs every N entries; tests cannot wait)."""
    with app.app_context():
        session = db.session()
        note = sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin).note
        session.commit()
        return note


def test_art19_correction_notice_reaches_every_recipient(send, client, auth, app):
    with app.app_context():  # one recipient takes webhook pushes as well as its inbox
        db.session().get_one(Partner, "sutton-yot").webhook_url = "https://yot.example/hub"
        db.session().commit()
    sent = {}
    for recipient in SUTTON_RECIPIENTS:
        response = send("sutton-outreach", _concern(recipient))
        assert response.status_code == 201, response.get_json()
        sent[recipient] = response.get_json()["id"]
        _inbox(client, auth, recipient)  # the original is read before the correction
    for recipient, disclosure_id in sent.items():
        response = _correct(
            client,
            auth,
            "sutton-outreach",
            disclosure_id,
            {"data": {"given_name": CANARY_CORRECTED}, "reason": "inaccurate"},
        )
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["corrected"] == ["given_name"] and body["notified"] == [recipient]
        assert body["receipt"]["index"] == body["ledger_index"]
    for recipient, disclosure_id in sent.items():
        items = _inbox(client, auth, recipient)
        notices = [i for i in items if i["kind"] == "correction"]
        assert len(notices) == 1, recipient
        notice = notices[0]
        assert notice["disclosure"]["id"] == disclosure_id
        assert notice["notice"]["reason"] == "inaccurate"
        assert notice["notice"]["fields"] == ["given_name"]
        assert notice["disclosure"]["data"]["given_name"] == CANARY_CORRECTED
        assert notice["disclosure"]["data"]["family_name"] == "Jones"  # the rest stands
        entry = _ledger(app)[notice["notice"]["ledger_index"]]
        assert entry["type"] == "correction" and entry["ref"] == disclosure_id
        assert entry["recipients"] == [recipient] and entry["fields"] == ["given_name"]
        assert entry["reason"] == "inaccurate" and len(entry["subjects"]) == 2
        assert CANARY_CORRECTED not in json.dumps(entry)  # names and digests, never values
        original = _ledger(app)[entry["entry"]]
        assert original["type"] == "disclosure" and original["ref"] == disclosure_id
        assert entry["payload_digest"] != original["payload_digest"]
        view = client.get(f"/api/v1/referrals/{disclosure_id}", headers=auth(recipient))
        assert view.get_json()["data"]["given_name"] == CANARY_CORRECTED
    # nobody else hears of it; the push is queued for the webhook partner only
    assert _inbox(client, auth, "sutton-outreach") == []
    assert _inbox(client, auth, "kent-csc") == []
    with app.app_context():
        pushed = (
            db.session()
            .scalars(
                select(InboxItem.kind).join(
                    OutboxMessage, OutboxMessage.inbox_item_id == InboxItem.id
                )
            )
            .all()
        )
    assert sorted(pushed) == ["correction", "referral"]


def test_correction_reseals_under_a_new_key_and_the_old_version_is_gone(
    send, client, auth, app, engine
):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    before = _raw_row(engine, sent["id"])
    response = _correct(
        client,
        auth,
        "kent-csc",
        sent["id"],
        {
            "data": {"given_name": CANARY_CORRECTED, "ete_status": "education"},
            "reason": "out_of_date",
        },
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["corrected"] == ["ete_status", "given_name"]
    after = _raw_row(engine, sent["id"])
    assert bytes(after.wrapped_key) != bytes(before.wrapped_key)
    assert after.payload_digest != before.payload_digest
    dump = _dump(engine)
    for old in (bytes(before.wrapped_key), bytes(before.ciphertext)):
        assert old.decode("latin-1") not in dump  # the old sealed version and its key
    assert CANARY_RELEASED not in dump and CANARY_CORRECTED not in dump  # never plaintext
    master = app.extensions["hub.sharing"].master_key
    aad = sent["id"].encode()
    now = json.loads(open_sealed(master, after.ciphertext, after.wrapped_key, aad))
    assert now["given_name"] == CANARY_CORRECTED and now["ete_status"] == "education"
    assert now["missing_episodes_count"] == 3
    with pytest.raises(PayloadUnavailable):  # the old ciphertext is noise under the new key
        open_sealed(master, bytes(before.ciphertext), after.wrapped_key, aad)


def test_correction_reapplies_the_flow_transforms(send, client, auth):
    body = {
        "to": "step-together",
        "purpose": "school_route_safety",
        "data": {"given_name": "Alex", "family_name": "Brown", "offence_category": "robbery"},
    }
    sent = send("west-mids-police", body).get_json()
    response = _correct(
        client,
        auth,
        "west-mids-police",
        sent["id"],
        {"data": {"given_name": "Sam"}, "reason": "inaccurate"},
    )
    assert response.status_code == 200, response.get_json()
    view = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("step-together")).get_json()
    assert view["data"]["given_name"] == "S." and view["data"]["family_name"] == "B."


@pytest.mark.parametrize("field", ["mental_health", "gender", "shoe_size"])
def test_correction_cannot_add_a_field_the_original_did_not_release(send, client, auth, app, field):
    sent = send("kent-csc", KENT_REFERRAL).get_json()  # mental_health withheld, gender unsent
    size = len(_ledger(app))
    response = _correct(
        client,
        auth,
        "kent-csc",
        sent["id"],
        {"data": {field: "x", "ete_status": "education"}, "reason": "incomplete"},
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert [e["pointer"] for e in response.get_json()["errors"]] == [f"#/data/{field}"]
    assert len(_ledger(app)) == size
    assert [i["kind"] for i in _inbox(client, auth, "kent-syv-provider")] == ["referral"]


def test_a_correction_must_still_pass_policy_and_its_refusal_is_logged(send, client, auth, app):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    response = _correct(
        client,
        auth,
        "kent-csc",
        sent["id"],
        {
            "data": {"ete_status": "education"},
            "reason": "out_of_date",
            "consent": {"state": "refused"},
        },
    )  # preferred flow, no justification
    assert response.status_code == 403 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["reasons"][0]["reason"] == "consent_refused_without_justification"
    refusal = _ledger(app)[problem["ledger_index"]]
    assert refusal["type"] == "refusal" and refusal["kind"] == "correction"
    assert refusal["correlation"] == sent["id"]
    view = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-syv-provider"))
    assert view.get_json()["data"]["ete_status"] == "neet"  # unchanged
    assert all(i["kind"] == "referral" for i in _inbox(client, auth, "kent-syv-provider"))


def test_bad_requests(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    same = _correct(
        client,
        auth,
        "kent-csc",
        sent["id"],
        {"data": {"ete_status": "neet"}, "reason": "inaccurate"},
    )
    assert same.status_code == 409  # nothing changes
    for body in (
        {"data": {"ete_status": "education"}, "reason": "because"},
        {"data": {"ete_status": 7}, "reason": "inaccurate"},
        {"data": {}, "reason": "inaccurate"},
    ):
        assert _correct(client, auth, "kent-csc", sent["id"], body).status_code == 422, body
    assert _withdraw(client, auth, "kent-csc", sent["id"], "retention_expired").status_code == 422


def test_only_the_sender_corrects_or_withdraws(send, client, auth, app, engine):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    size = len(_ledger(app))
    for other in ("kent-syv-provider", "medway-csc", "leics-police"):
        corrected = _correct(
            client,
            auth,
            other,
            sent["id"],
            {"data": {"ete_status": "education"}, "reason": "inaccurate"},
        )
        assert corrected.status_code == 404 and corrected.mimetype == PROBLEM
        assert _withdraw(client, auth, other, sent["id"]).status_code == 404
    assert _withdraw(client, auth, "kent-csc", "no-such-referral").status_code == 404
    assert len(_ledger(app)) == size
    assert _raw_row(engine, sent["id"]).erased_at is None


def test_withdrawal_erases_the_payload_and_every_proof_still_verifies(
    send, client, auth, app, engine, settings
):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    index = sent["receipt"]["index"]
    old_note = _checkpoint(app, settings)
    key = client.get("/api/v1/log/key", headers=auth("kent-csc")).get_data(as_text=True).strip()
    response = _withdraw(client, auth, "kent-csc", sent["id"], "sent_in_error")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "withdrawn" and body["erased"] is True
    # the payload is gone from the database and cannot be decrypted
    row = _raw_row(engine, sent["id"])
    assert row.ciphertext is None and row.wrapped_key is None
    assert row.erased_at is not None and row.erasure_reason == "sent_in_error"
    assert row.status == "withdrawn"
    with pytest.raises(PayloadUnavailable):
        open_sealed(
            app.extensions["hub.sharing"].master_key,
            row.ciphertext,
            row.wrapped_key,
            sent["id"].encode(),
        )
    # the recipient is told (Art 19) and sees no data; the sender sees it erased
    items = _inbox(client, auth, "kent-syv-provider")
    assert [i["kind"] for i in items] == ["referral", "erasure"]
    assert items[1]["notice"] == {"reason": "sent_in_error", "ledger_index": body["ledger_index"]}
    for item in items:
        assert item["disclosure"]["data"] is None and item["disclosure"]["erased"] is True
    theirs = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-syv-provider"))
    assert theirs.get_json()["data"] is None and theirs.get_json()["erased"] is True
    mine = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-csc")).get_json()
    assert mine["erased"] is True and mine["status"] == "withdrawn"
    erasure = _ledger(app)[body["ledger_index"]]
    assert erasure["type"] == "erasure" and erasure["key_destroyed"] is True
    assert erasure["ref"] == sent["id"] and erasure["entry"] == index
    # every proof still holds: the whole ledger, and the original entry against the
    # checkpoint signed before the erasure and against a new one
    new_note = _checkpoint(app, settings)
    with app.app_context():
        session = db.session()
        verify_ledger(session, key)
        stored = store.get_entry(session, index)
        entry = bytes(stored.entry)
        leaf = merkle.leaf_hash(salted.stored_leaf_input(entry, bytes(stored.salts)))
        for note in (old_note, new_note):
            checkpoint = verify_checkpoint(note, key)
            verify_inclusion(
                checkpoint, index, leaf, store.inclusion_proof(session, index, checkpoint.size)
            )
    assert json.loads(entry)["payload_digest"] == row.payload_digest
    # and nothing more can be done with it
    assert _withdraw(client, auth, "kent-csc", sent["id"]).status_code == 409
    again = _correct(
        client,
        auth,
        "kent-csc",
        sent["id"],
        {"data": {"ete_status": "education"}, "reason": "inaccurate"},
    )
    assert again.status_code == 409


def test_withdrawal_leaves_the_recipients_own_outcome(send, client, auth, app, consented):
    sent = send("leics-police", consented("leics-police", VICTIM_REFERRAL)).get_json()
    outcome = consented(
        "victim-first",
        {
            "to": "leics-police",
            "purpose": "referral_outcome",
            "data": {"case_status": "accepted", "outcome_summary": "Support plan agreed"},
        },
    )
    outcome = {k: outcome[k] for k in ("data", "consent")}
    result = client.post(
        f"/api/v1/referrals/{sent['id']}/status",
        json={"status": "accepted", "outcome": outcome},
        headers=auth("victim-first"),
    ).get_json()
    assert result["outcome"]["shared"] is True
    assert (
        _withdraw(client, auth, "leics-police", sent["id"], "consent_withdrawn").status_code == 200
    )
    kept = client.get(f"/api/v1/referrals/{result['outcome']['id']}", headers=auth("leics-police"))
    assert kept.get_json()["data"]["outcome_summary"] == "Support plan agreed"
    with app.app_context():
        erased = db.session().scalar(
            select(func.count()).select_from(Disclosure).where(Disclosure.erased_at.is_not(None))
        )
    assert erased == 1


MARAC_ALERT = {
    "kind": "marac_high_risk",
    "purpose": "community_marac_alert",
    "consent": {"state": "not_sought", "reason": "unsafe"},
    "data": {
        "given_name": CANARY_RELEASED,
        "family_name": "Okafor",
        "date_of_birth": "1990-02-03",
        "marac_case_number": "SUT-M-0042",
        "marac_criterion": "visible_high_risk",
        "dash_score": 16,
        "risk_level": "high",
        "actions": "Flag and tag; safety plan review",
    },
}


def test_alert_fan_out_is_corrected_per_recipient_disclosure(client, auth, app):
    response = client.post("/api/v1/alerts", json=MARAC_ALERT, headers=auth("safer-sutton"))
    assert response.status_code == 201, response.get_json()
    ids = {r["to"]: r["id"] for r in response.get_json()["recipients"]}
    assert sorted(ids) == ["met-police", "sutton-csc", "sutton-yot"]
    fix = {"data": {"given_name": CANARY_CORRECTED}, "reason": "inaccurate"}
    # decided on the original consent footing (not sought, reason kept): no need to restate
    assert _correct(client, auth, "safer-sutton", ids["met-police"], fix).status_code == 200
    kinds = {r: [i["kind"] for i in _inbox(client, auth, r)] for r in ids}
    assert kinds == {
        "met-police": ["alert", "correction"],
        "sutton-csc": ["alert"],
        "sutton-yot": ["alert"],
    }
    for recipient in ("sutton-csc", "sutton-yot"):  # each copy is corrected on its own
        assert _correct(client, auth, "safer-sutton", ids[recipient], fix).status_code == 200
        items = _inbox(client, auth, recipient)
        assert items[-1]["kind"] == "correction"
        assert items[-1]["disclosure"]["data"]["given_name"] == CANARY_CORRECTED
