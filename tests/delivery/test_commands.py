"""``hub init`` makes the webhook key, ``hub worker`` pushes the real inbox view, JWKS route."""

from __future__ import annotations

import json
import stat
from typing import Any

from sqlalchemy import select

from hub.delivery.outbox import enqueue
from hub.delivery.signing import (
    ensure_webhook_key,
    load_webhook_key,
    public_jwks,
    verify_webhook,
)
from hub.delivery.worker import Worker
from hub.ledger import store
from hub.ledger.events import disclosure_event
from hub.ledger.models import LedgerCheckpoint
from hub.partners.models import Partner
from hub.sharing.crypto import MasterKey
from hub.sharing.models import InboxItem
from hub.sharing.views import inbox_item_view
from tests.delivery.conftest import RECIPIENT, SENDER, add_inbox_item, add_partner

DATA = {"given_name": "Canary-Released-Alexandra-4412", "ete_status": "neet"}


def _queue_real_item(sessions, master: MasterKey, url: str) -> tuple[int, str]:
    """A disclosure with a real ledger entry (the view includes its receipt), queued."""
    with sessions() as session:
        add_partner(session, SENDER)
        recipient = add_partner(session, RECIPIENT, url)
        entry = store.append_entry(
            session,
            disclosure_event(
                {"partner": SENDER},
                recipients=[RECIPIENT],
                agreement={"id": "ISA-TEST", "version": "1", "digest": "sha256:" + "a" * 64},
                basis=["CDA_S115"],
                purpose="syv_intervention",
                subjects=[],
                fields_released=sorted(DATA),
                fields_withheld=[],
                payload_digest="sha256:" + "b" * 64,
            ),
        )
        item = add_inbox_item(session, master, recipient, DATA, ledger_index=entry.index)
        message = enqueue(session, recipient, item)
        assert message is not None
        session.commit()
        return message.id, item.id


def test_init_creates_the_webhook_key_once(cli, settings):
    first = cli("init")
    assert first.exit_code == 0, first.output
    key = load_webhook_key(settings.webhook_key_file)
    assert (
        f"webhook signing key: created at {settings.webhook_key_file} (kid {key.thumbprint()})"
        in first.stdout
    )
    assert stat.S_IMODE(settings.webhook_key_file.stat().st_mode) == 0o600
    assert "webhook signing key: present" in cli("init").stdout
    assert load_webhook_key(settings.webhook_key_file).thumbprint() == key.thumbprint()


def test_worker_once_pushes_the_real_inbox_view_and_signs_a_due_checkpoint(
    cli, settings, sessions, master: MasterKey, receiver, tmp_path
):
    (tmp_path / "master.key").write_bytes(master.key)
    assert cli("init").exit_code == 0
    message_id, item_id = _queue_real_item(sessions, master, receiver.url)

    result = cli("worker", "--once", HUB_CHECKPOINT_EVERY="1")
    assert result.exit_code == 0, result.output
    assert "hub worker: 1 delivered" in result.stdout
    (push,) = receiver.received
    jwks = public_jwks(load_webhook_key(settings.webhook_key_file))
    verify_webhook(push.body, push.headers["Hub-Signature"], jwks)
    body = json.loads(push.body)
    assert body["delivery_id"] == str(message_id)
    with sessions() as session:
        item = session.scalars(select(InboxItem).where(InboxItem.id == item_id)).one()
        expected: dict[str, Any] = inbox_item_view(session, item, master)
    assert body["item"]["item_id"] == expected["item_id"] == item_id
    assert body["item"]["disclosure"]["data"] == DATA == expected["disclosure"]["data"]
    assert "withheld" not in body["item"]["disclosure"]
    with sessions() as session:
        assert session.scalars(select(LedgerCheckpoint)).all() != []


def test_the_default_renderer_is_the_real_inbox_view(
    sessions, master: MasterKey, receiver, webhook_key, clock
):
    message_id, _ = _queue_real_item(sessions, master, receiver.url)
    worker = Worker(sessions, webhook_key, master_key=master, clock=clock)
    assert worker.deliver_due()[message_id].ok
    (push,) = receiver.received
    assert json.loads(push.body)["item"]["disclosure"]["data"] == DATA


def test_worker_without_a_webhook_key_says_run_init(cli):
    result = cli("worker", "--once")
    assert result.exit_code != 0
    assert "run `hub init`" in result.output


def test_outbox_list_rejects_a_database_not_migrated(cli, tmp_path):
    result = cli("outbox", "list", HUB_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code != 0 and "hub init" in result.output


def test_jwks_route_is_503_until_the_key_exists_then_public_only(client, settings):
    missing = client.get("/.well-known/jwks.json")
    assert missing.status_code == 503
    assert missing.mimetype == "application/problem+json"
    assert "hub init" in missing.get_json()["detail"]
    created = ensure_webhook_key(settings.webhook_key_file)
    published = client.get("/.well-known/jwks.json")
    assert published.status_code == 200
    assert published.get_json() == public_jwks(created)
    assert "d" not in published.get_json()["keys"][0]
    assert published.headers["Cache-Control"] == "public, max-age=300"


def test_partner_webhook_url_is_read_at_send_time(sessions, master, receiver, webhook_key, clock):
    """A URL changed after queueing (hub sync) is where the push goes."""
    message_id, _ = _queue_real_item(sessions, master, "http://127.0.0.1:9/old")
    with sessions() as session:
        session.get_one(Partner, RECIPIENT).webhook_url = receiver.url
        session.commit()
    worker = Worker(sessions, webhook_key, master_key=master, clock=clock)
    assert worker.deliver_due()[message_id].ok
