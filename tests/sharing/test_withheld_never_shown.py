""""The recipient never learns which fields were withheld", place by place (issue 8).

Each test sends the Kent referral (``mental_health`` is withheld, reason
``not_in_allow_list``) or a missing-child alert with the same withheld field, then reads
everything one place gives the recipient, as text, through the real API and renderers.
"""

from __future__ import annotations

from typing import Any

from hub import db
from hub.delivery.worker import render_inbox_item, webhook_body
from hub.sharing.models import InboxItem
from tests.sharing.conftest import CANARY_WITHHELD, KENT_REFERRAL
from tests.sharing.test_ledger_privacy import MISSING_CHILD_ALERT, sign

RECIPIENT = "kent-syv-provider"
TELLTALES = ("mental_health", "not_in_allow_list", "fields_withheld", "withheld", CANARY_WITHHELD)


def assert_nothing_withheld_in(text: str) -> None:
    found = [word for word in TELLTALES if word in text]
    assert not found, f"the recipient's view mentions {found}"


def _sent(send: Any, app: Any) -> dict[str, Any]:
    sent = send("kent-csc", KENT_REFERRAL)
    assert sent.status_code == 201
    body = sent.get_json()
    assert body["withheld"] == [{"field": "mental_health", "reason": "not_in_allow_list"}]
    sign(app)  # receipts then carry proofs and checkpoints too
    return body  # type: ignore[no-any-return]


def test_inbox(send, client, auth, app):
    _sent(send, app)
    response = client.get("/api/v1/inbox", headers=auth(RECIPIENT))
    assert response.status_code == 200 and response.get_json()["items"]
    assert_nothing_withheld_in(response.get_data(as_text=True))


def test_get_referral(send, client, auth, app):
    sent = _sent(send, app)
    response = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth(RECIPIENT))
    assert response.status_code == 200 and response.get_json()["data"]["ete_status"] == "neet"
    assert_nothing_withheld_in(response.get_data(as_text=True))


def test_alert_as_its_recipients_see_it(client, auth, app):
    body = {**MISSING_CHILD_ALERT, "data": {**MISSING_CHILD_ALERT["data"], "mental_health": "x"}}
    sent = client.post("/api/v1/alerts", json=body, headers=auth("kent-police")).get_json()
    assert all(r["withheld"][0]["field"] == "mental_health" for r in sent["recipients"])
    sign(app)
    for recipient in ("kent-csc", "medway-csc"):
        inbox = client.get("/api/v1/inbox", headers=auth(recipient))
        (item,) = inbox.get_json()["items"]
        assert item["kind"] == "alert"
        assert_nothing_withheld_in(inbox.get_data(as_text=True))
        one = client.get(f"/api/v1/referrals/{item['disclosure']['id']}", headers=auth(recipient))
        assert_nothing_withheld_in(one.get_data(as_text=True))


def test_webhook_payloads(send, client, auth, app):
    sent = _sent(send, app)
    corrected = client.post(
        f"/api/v1/referrals/{sent['id']}/correction",
        json={"data": {"ete_status": "education"}, "reason": "inaccurate"},
        headers=auth("kent-csc"),
    )
    assert corrected.status_code == 200, corrected.get_json()
    withdrawn = client.post(
        f"/api/v1/referrals/{sent['id']}/withdraw",
        json={"reason": "sent_in_error"},
        headers=auth("kent-csc"),
    )
    assert withdrawn.status_code == 200
    with app.app_context():  # what the delivery worker would push for each inbox item
        session = db.session()
        master = app.extensions["hub.sharing"].master_key
        items = session.query(InboxItem).filter_by(recipient_id=RECIPIENT).all()
        assert {i.kind for i in items} == {"referral", "correction", "erasure"}
        for number, item in enumerate(items):
            payload = webhook_body(number, render_inbox_item(session, item, master))
            assert_nothing_withheld_in(payload.decode())


def test_receipts(send, client, auth, app):
    sent = _sent(send, app)
    got = client.get(f"/api/v1/referrals/{sent['id']}", headers=auth(RECIPIENT)).get_json()
    inbox = client.get("/api/v1/inbox", headers=auth(RECIPIENT)).get_json()
    for receipt in (got["receipt"], inbox["items"][0]["disclosure"]["receipt"]):
        assert {"checkpoint", "inclusion", "salts", "digests"} <= set(receipt)
        assert_nothing_withheld_in(str(receipt))


def test_ledger(send, client, auth, app):
    _sent(send, app)
    client.get("/api/v1/inbox", headers=auth(RECIPIENT))
    sign(app)
    size = client.get("/api/v1/log/proofs/consistency?from=1&to=1", headers=auth(RECIPIENT))
    assert size.status_code == 200
    index, readable = 0, 0
    while True:
        entry = client.get(f"/api/v1/log/entries/{index}", headers=auth(RECIPIENT))
        leaf = client.get(f"/api/v1/log/leaves/{index}", headers=auth(RECIPIENT))
        if leaf.status_code == 404:
            break
        readable += entry.status_code == 200
        assert_nothing_withheld_in(entry.get_data(as_text=True) + leaf.get_data(as_text=True))
        index += 1
    assert readable > 2  # its disclosure and its consultations, besides governance events
