"""An inbox page costs a constant number of statements, and its receipts are the same
as the ones read one at a time (issue 13: 4 ms and ~4 queries per item before)."""

from __future__ import annotations

from hub import db
from hub.ledger import verify
from hub.ledger.access import Reader
from hub.ledger.checkpoint import sign_checkpoint
from hub.ledger.service import receipt
from tests.sharing.conftest import KENT_REFERRAL

RECIPIENT = "kent-syv-provider"


def _send(client, auth, count: int) -> None:
    items = [{**KENT_REFERRAL, "client_ref": f"r{i}"} for i in range(count)]
    response = client.post("/api/v1/referrals:batch", json={"items": items}, headers=auth("kent-csc"))
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {201}


def _checkpoint(app) -> None:
    with app.app_context():
        session = db.session()
        settings = app.config["HUB_SETTINGS"]
        sign_checkpoint(session, app.extensions["hub.signing_key"], settings.log_origin)
        session.commit()


def test_a_page_of_fifty_costs_what_a_page_of_five_costs(app, client, auth, statements):
    _send(client, auth, 30)
    _checkpoint(app)
    _send(client, auth, 30)
    _checkpoint(app)
    _send(client, auth, 5)  # the last few have no checkpoint yet
    headers = auth(RECIPIENT)
    warm = client.get("/api/v1/inbox?limit=1", headers=headers).get_json()
    statements.clear()
    five = client.get(f"/api/v1/inbox?limit=5&cursor={warm['next_cursor']}", headers=headers)
    small = len(statements)
    statements.clear()
    fifty = client.get(
        f"/api/v1/inbox?limit=50&cursor={five.get_json()['next_cursor']}", headers=headers
    )
    assert len(fifty.get_json()["items"]) == 50
    assert len(statements) == small, statements


def test_page_receipts_are_the_single_receipts_and_verify(app, client, auth):
    _send(client, auth, 4)
    _checkpoint(app)
    _send(client, auth, 3)
    _checkpoint(app)
    _send(client, auth, 2)
    headers = auth(RECIPIENT)
    page = client.get("/api/v1/inbox?limit=50", headers=headers).get_json()["items"]
    assert len(page) == 9
    key = client.get("/api/v1/log/key", headers=headers).get_data(as_text=True).strip()
    with app.app_context():
        session = db.session()
        for item in page:
            got = item["disclosure"]["receipt"]
            assert got == receipt(session, got["index"], Reader(RECIPIENT))
    covered = [item["disclosure"]["receipt"] for item in page if "checkpoint" in item["disclosure"]["receipt"]]
    assert len(covered) == 7
    assert len({r["inclusion"]["tree_size"] for r in covered}) == 2
    for got in covered:
        verify.verify_receipt(got, key)
