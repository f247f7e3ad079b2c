"""No entry, no release: a referral whose ledger entry is not sequenced yet is invisible.

A request that dies between its commit and its batch (simulated by skipping the wait)
leaves a disclosure nobody can see, read, be pushed or be answered about; the next batch
(another request, ``hub worker``) sequences it and only then releases it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from hub import db
from hub.delivery.models import OutboxMessage
from hub.ledger import sequencer, settling
from hub.ledger.models import LedgerEntry, LedgerUnsequenced
from hub.partners.models import Partner
from hub.sharing.models import Disclosure, InboxItem
from tests.conftest import make_settings
from tests.sharing.conftest import KENT_REFERRAL

RECIPIENT = KENT_REFERRAL["to"]


def _count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def _with_webhook(app) -> None:
    with app.app_context():
        session = db.session()
        session.get_one(Partner, RECIPIENT).webhook_url = "https://syv.example/hook"
        session.commit()


def _sweep(app) -> int:
    with app.app_context():
        return sequencer.sweep(db.session())


def _died_after_commit(monkeypatch) -> None:
    """The request's process dies once its transaction committed, before its batch.

    Only a follower can: it found another transaction leading (the lock was taken), so it
    committed and was waiting for a batch. (A request that leads sequences its entry in
    its own transaction: dying, it leaves nothing behind.)
    """

    def vanish(session, pending):
        raise SystemExit("killed")

    monkeypatch.setattr(settling, "try_lock", lambda session: False)
    monkeypatch.setattr(settling, "settle", vanish)


def test_an_unsequenced_referral_is_neither_shown_nor_delivered(
    send, client, auth, app, monkeypatch
):
    _with_webhook(app)
    logged = _count(app, LedgerEntry)  # hub sync's governance entries
    with monkeypatch.context() as patch:
        _died_after_commit(patch)
        with pytest.raises(SystemExit):
            send("kent-csc", KENT_REFERRAL)
    assert _count(app, LedgerUnsequenced) == 1 and _count(app, LedgerEntry) == logged
    with app.app_context():
        (disclosure,) = db.session().scalars(select(Disclosure)).all()
        hidden_id = disclosure.id
        assert disclosure.ledger_index is None
    # nothing in the inbox, nothing queued for the webhook, no view for either party
    inbox = client.get("/api/v1/inbox", headers=auth(RECIPIENT)).get_json()
    assert inbox["items"] == []
    assert _count(app, InboxItem) == 0 and _count(app, OutboxMessage) == 0
    for party in ("kent-csc", RECIPIENT):
        seen = client.get(f"/api/v1/referrals/{hidden_id}", headers=auth(party))
        assert seen.status_code == 404
    status = client.post(
        f"/api/v1/referrals/{hidden_id}/status", json={"status": "accepted"},
        headers=auth(RECIPIENT),
    )
    assert status.status_code == 404
    # The next batch (here the worker's sweep) sequences it; only then is it released.
    assert _sweep(app) == 1
    assert _count(app, LedgerUnsequenced) == 0 and _count(app, OutboxMessage) == 1
    inbox = client.get("/api/v1/inbox", headers=auth(RECIPIENT)).get_json()
    assert [i["disclosure"]["id"] for i in inbox["items"]] == [hidden_id]
    with app.app_context():
        released = db.session().get_one(Disclosure, hidden_id)
        entry = db.session().get_one(LedgerEntry, released.ledger_index)
        assert b'"ref":"' + hidden_id.encode() in bytes(entry.entry)


def test_inbox_order_follows_sequencing_not_commit(send, client, auth, app, monkeypatch):
    """An item released late still comes after the cursor a reader already holds."""
    with monkeypatch.context() as patch:
        _died_after_commit(patch)
        with pytest.raises(SystemExit):
            send("kent-csc", KENT_REFERRAL)
    later = send("kent-csc", KENT_REFERRAL).get_json()  # its batch takes the straggler along
    page = client.get("/api/v1/inbox", headers=auth(RECIPIENT)).get_json()
    ids = [i["disclosure"]["id"] for i in page["items"]]
    assert len(ids) == 2 and ids[-1] == later["id"]
    with app.app_context():
        session = db.session()
        indexes = [session.get_one(Disclosure, i).ledger_index for i in ids]
    assert indexes == sorted(indexes)


def test_a_retried_key_gets_the_receipt_once_sequenced(send, app, monkeypatch):
    key = {"Idempotency-Key": "seq-retry-0001"}
    with monkeypatch.context() as patch:
        _died_after_commit(patch)
        with pytest.raises(SystemExit):
            send("kent-csc", KENT_REFERRAL, **key)
    again = send("kent-csc", KENT_REFERRAL, **key)
    assert again.status_code == 201
    body = again.get_json()
    with app.app_context():
        disclosure = db.session().get_one(Disclosure, body["id"])
        assert body["receipt"]["index"] == disclosure.ledger_index is not None
    assert _count(app, Disclosure) == 1 and _count(app, LedgerUnsequenced) == 0
    assert send("kent-csc", KENT_REFERRAL, **key).get_json() == body


@pytest.mark.postgres
def test_the_wait_is_bounded_and_the_entry_kept(
    database_url, clean_db, tmp_path, demo_partners, get_token, monkeypatch
):
    """With the sequencer lock held elsewhere the sender gets 503, not a hung request, and
    nothing is visible until a batch runs."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the advisory lock is PostgreSQL's")
    from hub import create_app

    app = create_app(
        make_settings(database_url, tmp_path, db_lock_timeout=0.2, sequencer_wait=0.5)
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {get_token('kent-csc', 'referrals:write referrals:read')}"}
    with clean_db.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": sequencer.LOCK_KEY})
        answer = client.post("/api/v1/referrals", json=KENT_REFERRAL, headers=headers)
        assert answer.status_code == 503, answer.get_json()
        assert answer.get_json()["type"].endswith("unavailable")
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": sequencer.LOCK_KEY})
        holder.commit()
    assert _count(app, InboxItem) == 0 and _count(app, LedgerUnsequenced) == 1
    assert _sweep(app) == 1
    assert _count(app, InboxItem) == 1
    app.extensions["hub.engine"].dispose()
