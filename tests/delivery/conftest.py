"""Fixtures for webhook delivery: a real HTTP receiver, a controllable clock, rows to push."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_sessionmaker, utcnow
from hub.delivery.outbox import DeliveryPolicy, enqueue
from hub.delivery.signing import ensure_webhook_key
from hub.delivery.worker import Worker
from hub.partners.models import Partner
from hub.settings import Settings
from hub.sharing.crypto import MasterKey, seal
from hub.sharing.models import Disclosure, InboxItem
from tests.conftest import make_settings

SENDER = "test-sender"
RECIPIENT = "test-recipient"


@pytest.fixture
def settings(clean_db: Engine, database_url: str, tmp_path: Path) -> Settings:
    """Test settings with the webhook key in ``tmp_path`` and a fast retry policy."""
    return make_settings(
        database_url,
        tmp_path,
        webhook_key_path=tmp_path / "webhook-signing.jwk",
        webhook_max_attempts=3,
        webhook_backoff_base=0.05,
        webhook_backoff_cap=0.2,
        webhook_timeout=2.0,
    )


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Callable[..., Result]:
    """Run ``hub ...`` against the test database with this test's keys."""
    from hub.cli import main

    env = {
        "HUB_ROOT": str(tmp_path),
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_HUB_KEY": str(settings.signing_key_file),
        "HUB_WEBHOOK_KEY": str(settings.webhook_key_file),
        "HUB_MASTER_KEY": str(tmp_path / "master.key"),
        "HUB_SECRET_KEY": "k" * 40,
        "HUB_SUBJECT_SECRET": "s" * 40,
    }

    def run(*args: str, **extra_env: str) -> Result:
        return CliRunner(env={**env, **extra_env}).invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def webhook_key(settings: Settings) -> Any:
    return ensure_webhook_key(settings.webhook_key_file)


@pytest.fixture
def sessions(clean_db: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(clean_db)


# -- a receiver -------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 recording each POST; ``status`` is what it answers."""

    status: int = 204
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hub"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


# -- time and randomness you can control --------------------------------------------------


class FakeClock:
    """The worker's ``now``: starts just after the real time and moves only when told.

    (Just after, so rows queued during the test are already due.)
    """

    def __init__(self) -> None:
        self.now = utcnow() + dt.timedelta(seconds=10)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class MaxJitter(random.Random):
    """Full jitter pinned to its ceiling, so the backoff is exact in assertions."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fake_view(_session: Session, item: InboxItem, _master: MasterKey | None) -> dict[str, Any]:
    """Stands in for hub.sharing.views.inbox_item_view where the payload does not matter."""
    return {"item_id": item.id, "kind": item.kind, "data": {"given_name": "Canary-Alex"}}


@pytest.fixture
def make_worker(
    sessions: sessionmaker[Session], settings: Settings, webhook_key: Any, clock: FakeClock
) -> Callable[..., Worker]:
    def _make(**overrides: Any) -> Worker:
        values: dict[str, Any] = {
            "policy": DeliveryPolicy.from_settings(settings),
            "render": fake_view,
            "rng": MaxJitter(),
            "clock": clock,
        }
        values.update(overrides)
        return Worker(sessions, webhook_key, **values)

    return _make


# -- rows -------------------------------------------------------------------------------


def add_partner(session: Session, partner_id: str, webhook_url: str | None = None) -> Partner:
    partner = Partner(
        id=partner_id,
        name=partner_id.replace("-", " ").title(),
        type="police",
        webhook_url=webhook_url,
        jwks={"keys": []},
        scopes=[],
        digest="0" * 64,
    )
    session.add(partner)
    session.flush()
    return partner


def add_inbox_item(
    session: Session,
    master: MasterKey,
    recipient: Partner,
    data: dict[str, Any] | None = None,
    *,
    ledger_index: int = 0,
) -> InboxItem:
    """A sealed referral disclosure from SENDER to ``recipient`` and its inbox item."""
    disclosure = Disclosure(
        kind="referral",
        sender_id=SENDER,
        recipient_id=recipient.id,
        purpose="syv_intervention",
        agreement_id="ISA-TEST",
        agreement_version=1,
        agreement_digest="a" * 64,
        flow_index=0,
        basis=["CDA_S115"],
        fields_released=sorted(data or {}),
        fields_withheld=[],
        transforms={},
        consent_state="given",
        subjects=[],
        master_key_id=master.key_id,
        payload_digest="sha256:" + "b" * 64,
        ledger_index=ledger_index,
        retention_until=utcnow() + dt.timedelta(days=365),
    )
    session.add(disclosure)
    session.flush()
    plain = json.dumps(data or {}).encode()
    disclosure.ciphertext, disclosure.wrapped_key = seal(master, plain, disclosure.id.encode())
    item = InboxItem(recipient_id=recipient.id, disclosure_id=disclosure.id, kind="referral")
    session.add(item)
    session.flush()
    return item


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(b"\x07" * 32)


@pytest.fixture
def queue(
    sessions: sessionmaker[Session], master: MasterKey, receiver: Receiver
) -> Callable[..., list[int]]:
    """Partners (SENDER, RECIPIENT with the receiver's URL) and ``n`` queued items."""

    def _queue(n: int = 1, url: str | None = None) -> list[int]:
        with sessions() as session:
            if session.get(Partner, SENDER) is None:
                add_partner(session, SENDER)
                add_partner(session, RECIPIENT, url or receiver.url)
            recipient = session.get_one(Partner, RECIPIENT)
            ids = []
            for _ in range(n):
                item = add_inbox_item(session, master, recipient)
                message = enqueue(session, recipient, item)
                assert message is not None
                session.flush()
                ids.append(message.id)
            session.commit()
        return ids

    return _queue
