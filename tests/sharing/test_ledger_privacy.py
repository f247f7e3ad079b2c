"""The ledger keeps its secrets (issue 8), tried through the real API with real tokens.

Entry bodies go only to the parties to them, member by member; leaf hashes, proofs and
checkpoints go to everyone and reveal nothing; receipts verify offline with the hub's
verifier and with an independent RFC 9162 implementation (pymerkle); and nothing a partner
can read lets it follow a person into a flow it is not party to.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from flask.testing import FlaskClient
from pymerkle import InclusionProof
from pymerkle.core import _inclusion_path_layout
from pymerkle.hasher import MerkleHasher
from sqlalchemy import select

from hub import db
from hub.ledger import service, verify
from hub.ledger.access import HUB, RECIPIENT_MEMBERS
from hub.ledger.checkpoint import sign_checkpoint
from hub.ledger.models import LedgerEntry
from hub.operations import synchronise
from hub.sharing.subjects import subject_commitments
from tests.conftest import make_settings
from tests.sharing.conftest import KENT_REFERRAL

WITHHELD_WORDS = ("mental_health", "not_in_allow_list", "fields_withheld")
CHILD = {"given_name": "Alex", "family_name": "Smith", "date_of_birth": "2010-04-01"}
MISSING_CHILD_ALERT: dict[str, Any] = {
    "kind": "missing_child",
    "purpose": "missing_child_alert",
    "data": {**CHILD, "last_missing_date": "2026-03-01", "exploitation_tier": "significant"},
}


def sign(app) -> None:
    """Sign a checkpoint now, as ``hub log checkpoint`` or the worker would."""
    with app.app_context():
        session = db.session()
        settings = app.config["HUB_SETTINGS"]
        sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin)
        session.commit()


def log_get(client: FlaskClient, auth: Callable[[str], dict[str, str]], who: str, path: str):
    return client.get(f"/api/v1/log/{path}", headers=auth(who))


def checkpoint_size(client: FlaskClient, auth: Callable[[str], dict[str, str]]) -> int:
    note = log_get(client, auth, "kent-police", "checkpoint").get_data(as_text=True)
    key = log_get(client, auth, "kent-police", "key").get_data(as_text=True).strip()
    return verify.verify_checkpoint(note, key).size


def without_request_id(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in {"instance", "request_id"}}


def test_recipient_reads_its_entry_and_finds_no_withheld_names(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    index = sent["receipt"]["index"]
    mine = log_get(client, auth, "kent-csc", f"entries/{index}").get_json()
    assert mine["entry"]["fields_withheld"] == [
        {"field": "mental_health", "reason": "not_in_allow_list"}
    ]
    assert "subjects" not in mine["entry"]  # commitments never leave the hub

    response = log_get(client, auth, "kent-syv-provider", f"entries/{index}")
    assert response.status_code == 200
    theirs = response.get_json()
    text = response.get_data(as_text=True)
    assert not any(word in text for word in WITHHELD_WORDS)
    assert "subjects" not in theirs["entry"] and "reasons" not in theirs["entry"]
    assert set(theirs["entry"]) == set(mine["entry"]) & RECIPIENT_MEMBERS["disclosure"]
    assert theirs["entry"]["recipients"] == ["kent-syv-provider"]
    assert "ete_status" in theirs["entry"]["fields_released"]
    # what it was not given is there only as opaque digests, and still verifies
    assert len(theirs["digests"]) > len(mine["digests"])
    assert verify.verify_entry_view(theirs) == base64.b64decode(sent["receipt"]["leaf_hash"])


def test_outsider_gets_404_for_the_body_and_200_for_the_proof(send, client, auth, app):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    index = sent["receipt"]["index"]
    refused = send("kent-csc", {**KENT_REFERRAL, "to": "kent-police"}).get_json()
    client.get("/api/v1/inbox", headers=auth("kent-syv-provider"))  # a consultation entry
    sign(app)
    size = checkpoint_size(client, auth)
    consultation = size - 1

    missing = log_get(client, auth, "kent-police", "entries/999999")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    # an outsider; a would-be recipient of a refusal; a sender of a disclosure someone read
    for who, hidden in (
        ("kent-police", index),
        ("kent-police", refused["ledger_index"]),
        ("kent-csc", consultation),
        ("kent-syv-provider", refused["ledger_index"]),
    ):
        denied = log_get(client, auth, who, f"entries/{hidden}")
        assert denied.status_code == 404
        assert without_request_id(denied.get_json()) == without_request_id(
            {**missing.get_json(), "detail": missing.get_json()["detail"].replace("999999", str(hidden))}
        )
    # the proof side is open to every partner and verifies
    leaf = log_get(client, auth, "kent-police", f"leaves/{index}")
    assert leaf.status_code == 200
    assert leaf.get_json() == {"index": index, "leaf_hash": sent["receipt"]["leaf_hash"]}
    note = log_get(client, auth, "kent-police", "checkpoint").get_data(as_text=True)
    key = log_get(client, auth, "kent-police", "key").get_data(as_text=True).strip()
    checkpoint = verify.verify_checkpoint(note, key)
    proof = log_get(client, auth, "kent-police", f"proofs/inclusion?index={index}&tree_size={size}")
    assert proof.status_code == 200
    verify.verify_inclusion(checkpoint, index, leaf.get_json()["leaf_hash"], proof.get_json()["hashes"])
    assert log_get(client, auth, "kent-police", "leaves/999999").status_code == 404


def independent_leaf(view: dict[str, Any]) -> bytes:
    """The leaf from a format 2 view, using only rfc8785, hashlib and pymerkle's hasher."""
    digests = [base64.b64decode(d) for d in view["digests"]]
    for name, value in view["entry"].items():
        member = rfc8785.dumps({name: value})[1:-1]  # '"name":value' as in the canonical entry
        digests.append(hashlib.sha256(base64.b64decode(view["salts"][name]) + member).digest())
    return MerkleHasher("sha256", security=True).hash_buff(b"\x02" + b"".join(sorted(digests)))


def pymerkle_verifies(receipt: dict[str, Any], leaf: bytes, root: bytes) -> None:
    """Check the receipt's RFC 9162 audit path with pymerkle (leaf indexes count from 1)."""
    index, size = receipt["index"] + 1, receipt["inclusion"]["tree_size"]
    rule, _ = _inclusion_path_layout(index, size)
    path = [leaf] + [base64.b64decode(h) for h in receipt["inclusion"]["hashes"]]
    InclusionProof("sha256", True, size, index, rule, path).verify(leaf, root, index, size)


def test_recipient_receipt_verifies_offline_with_an_independent_verifier(send, client, auth, app):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    sign(app)
    key = log_get(client, auth, "kent-syv-provider", "key").get_data(as_text=True).strip()
    got = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-syv-provider"))
    inbox = client.get("/api/v1/inbox", headers=auth("kent-syv-provider")).get_json()
    for receipt in (got.get_json()["receipt"], inbox["items"][0]["disclosure"]["receipt"]):
        assert not any(word in json.dumps(receipt) for word in WITHHELD_WORDS)
        checkpoint = verify.verify_receipt(receipt, key)
        leaf = independent_leaf(receipt)
        assert leaf == base64.b64decode(receipt["leaf_hash"])
        pymerkle_verifies(receipt, leaf, checkpoint.root_hash)
        # one altered member fails both verifiers
        forged = {**receipt, "entry": {**receipt["entry"], "purpose": "something_else"}}
        with pytest.raises(verify.VerificationError):
            verify.verify_receipt(forged, key)
        with pytest.raises(Exception, match="match"):
            pymerkle_verifies(receipt, independent_leaf(forged), checkpoint.root_hash)
    # the sender's receipt verifies too, with the decision it made
    mine = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth("kent-csc")).get_json()
    assert mine["receipt"]["entry"]["fields_withheld"][0]["field"] == "mental_health"
    checkpoint = verify.verify_receipt(mine["receipt"], key)
    pymerkle_verifies(mine["receipt"], independent_leaf(mine["receipt"]), checkpoint.root_hash)


def readable(client, auth, who: str, size: int) -> tuple[list[str], dict[int, dict[str, Any]]]:
    """Everything ``who`` can read of the whole log: every answer's text, and the bodies."""
    texts, bodies = [], {}
    for index in range(size):
        for path in (f"entries/{index}", f"leaves/{index}", f"proofs/inclusion?index={index}&tree_size={size}"):
            response = log_get(client, auth, who, path)
            texts.append(response.get_data(as_text=True))
            if path.startswith("entries/") and response.status_code == 200:
                bodies[index] = response.get_json()
    texts.append(client.get("/api/v1/inbox", headers=auth(who)).get_data(as_text=True))
    return texts, bodies


def test_the_linkage_attack_fails(send, client, auth, app, settings):
    """A provider that received a child's referral cannot find that child in a police to
    children's services missing-child alert it is no party to (issue 8)."""
    referral = send("kent-csc", {**KENT_REFERRAL, "data": {**KENT_REFERRAL["data"], **CHILD}})
    assert referral.status_code == 201
    alert = client.post("/api/v1/alerts", json=MISSING_CHILD_ALERT, headers=auth("kent-police"))
    assert alert.status_code == 201
    alert_entries = {r["receipt"]["index"] for r in alert.get_json()["recipients"]}
    sign(app)
    size = checkpoint_size(client, auth)
    # the hub's own commitment for the child, as the first ledger format exposed it
    secret = app.extensions["hub.sharing"].subject_secret
    (commitment,) = subject_commitments(secret, CHILD)

    with app.app_context():  # the hub itself holds it in both flows' entries (server side)
        rows = db.session().scalars(select(LedgerEntry))
        holding = {r.index for r in rows if commitment in json.loads(r.entry).get("subjects", [])}
    assert holding == alert_entries | {referral.get_json()["receipt"]["index"]}

    texts, bodies = readable(client, auth, "kent-syv-provider", size)
    assert not alert_entries & set(bodies)  # no body of the alert's entries
    assert not any(commitment in text for text in texts)
    assert not any(base64.b64encode(bytes.fromhex(commitment)).decode() in t for t in texts)
    # nor does any member digest it holds about its own flow recur in what it sees of the
    # alert (proofs hold leaf hashes of neighbouring entries, its own included: structure)
    own = {d for view in bodies.values() for d in view.get("digests", [])}
    own |= {s for view in bodies.values() for s in view.get("salts", {}).values()}
    assert own
    alert_side = "\n".join(
        log_get(client, auth, "kent-syv-provider", path).get_data(as_text=True)
        for index in alert_entries
        for path in (f"leaves/{index}", f"proofs/inclusion?index={index}&tree_size={size}")
    )
    assert not any(digest in alert_side for digest in own)
    # even a party to both flows (children's services sent the referral and received the
    # alert) sees unrelated digests: every member of every entry has its own salt
    csc = [log_get(client, auth, "kent-csc", f"entries/{i}").get_json() for i in
           (referral.get_json()["receipt"]["index"], *sorted(alert_entries))]
    csc = [view for view in csc if view and "digests" in view]
    assert len(csc) == 2
    assert not set(csc[0]["digests"]) & set(csc[1]["digests"])
    assert all("subjects" not in view["entry"] for view in csc)


def test_log_audit_is_granted_by_the_partner_file_only(send, client, auth, app, project, tmp_path, database_url):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    index = sent["receipt"]["index"]
    form = {"partner": "kent-syv-provider", "scope": "log:read log:audit"}
    from tests.conftest import client_assertion, token_form

    def token() -> Any:
        return client.post("/oauth/token", data=token_form(client_assertion(form["partner"]), form["scope"]))

    assert token().status_code == 400  # not in DEFAULT_PARTNER_SCOPES
    partner_file = project / "policies" / "partners" / "kent-syv-provider.toml"
    partner_file.write_text(
        partner_file.read_text()
        + 'scopes = ["partners:read", "agreements:read", "referrals:write", "referrals:read",'
        ' "log:read", "log:audit"]\n'
    )
    synchronise(make_settings(database_url, tmp_path, root=project))
    granted = token()
    assert granted.status_code == 200, granted.get_json()
    headers = {"Authorization": f"Bearer {granted.get_json()['access_token']}"}
    dpo = client.get(f"/api/v1/log/entries/{index}", headers=headers).get_json()
    assert dpo["entry"]["fields_withheld"][0]["field"] == "mental_health"  # agency DPO: whole
    assert "subjects" not in dpo["entry"]  # ... but never the subject commitments
    assert verify.verify_entry_view(dpo) == base64.b64decode(dpo["leaf_hash"])
    police = send("kent-police", {**KENT_REFERRAL, "to": "kent-csc"}).get_json()
    other = police.get("receipt", {}).get("index", police.get("ledger_index"))
    assert client.get(f"/api/v1/log/entries/{other}", headers=headers).status_code == 404


def test_governance_entries_are_public_and_plain(client, auth):
    for who in ("kent-police", "kent-syv-provider"):
        view = log_get(client, auth, who, "entries/0").get_json()
        assert view["format"] == 1 and view["entry"]["type"] == "partner"
        assert base64.b64decode(view["leaf_hash"]) == hashlib.sha256(
            b"\x00" + rfc8785.dumps(view["entry"])
        ).digest()


def test_the_hubs_own_subject_search_and_repeat_rule_still_find_every_match(send, client, auth, app):
    """Commitments never leave the hub, but the hub still uses them: a subject-access or
    Art 19 search over the ledger (server side, as the hub DPO console reads it) finds
    every entry about the person, and the 12-month repeat rule still fires."""
    from tests.sharing.test_alerts import MARAC_ALERT, MARAC_REFERRAL, SUBJECT

    referral = send("met-police", MARAC_REFERRAL).get_json()
    client.get("/api/v1/inbox", headers=auth("safer-sutton"))  # a consultation about them
    repeat = client.post("/api/v1/alerts", json=MARAC_ALERT, headers=auth("safer-sutton"))
    assert repeat.get_json()["repeat"] is True  # alerts.is_repeat reads Disclosure.subjects
    withdrawn = client.post(f"/api/v1/referrals/{referral['id']}/withdraw",
                            json={"reason": "sent_in_error"}, headers=auth("met-police"))
    assert withdrawn.status_code == 200
    other = send("kent-csc", KENT_REFERRAL).get_json()  # someone else entirely

    secret = app.extensions["hub.sharing"].subject_secret
    wanted = set(subject_commitments(secret, SUBJECT))
    with app.app_context():
        rows = list(db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index)))
        found = set()
        for row in rows:
            view = service.view_of(row, HUB)
            assert view is not None and verify.verify_entry_view(view) == bytes(row.leaf_hash)
            if wanted & set(view["entry"].get("subjects", [])):
                found.add((row.index, view["entry"]["type"]))
    expected = {(referral["receipt"]["index"], "disclosure")}
    expected |= {(r["receipt"]["index"], "disclosure") for r in repeat.get_json()["recipients"]}
    expected.add((withdrawn.get_json()["ledger_index"], "erasure"))
    assert expected <= found
    assert {kind for _, kind in found} == {"disclosure", "consultation", "erasure"}
    assert other["receipt"]["index"] not in {index for index, _ in found}


def test_the_recipient_can_read_and_verify_the_entries_its_notices_name(send, client, auth):
    sent = send("kent-csc", KENT_REFERRAL).get_json()
    fix = {"data": {"ete_status": "education"}, "reason": "inaccurate"}
    client.post(f"/api/v1/referrals/{sent['id']}/correction", json=fix, headers=auth("kent-csc"))
    client.post(f"/api/v1/referrals/{sent['id']}/withdraw", json={"reason": "sent_in_error"},
                headers=auth("kent-csc"))
    items = client.get("/api/v1/inbox", headers=auth("kent-syv-provider")).get_json()["items"]
    notices = {i["kind"]: i["notice"]["ledger_index"] for i in items if "notice" in i}
    assert set(notices) == {"correction", "erasure"}
    for kind, index in notices.items():
        view = log_get(client, auth, "kent-syv-provider", f"entries/{index}").get_json()
        assert view["entry"]["type"] == kind and "subjects" not in view["entry"]
        assert view["entry"]["recipients"] == ["kent-syv-provider"]
        verify.verify_entry_view(view)
        assert log_get(client, auth, "kent-police", f"entries/{index}").status_code == 404
