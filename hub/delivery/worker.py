"""The webhook worker (``hub worker``): claim due pushes, sign, send, record.

Each push runs in three short steps so no database transaction is open while we wait on a
partner's server: claim (lease) and commit; render and sign in a read-only session, closed
before the request; send; record the outcome in a fresh transaction. Several workers may
run at once: claims use ``SKIP LOCKED`` on PostgreSQL (see :mod:`hub.delivery.outbox`).

The worker is also the hub's clock for the ledger: once per loop it applies the checkpoint
policy, so "sign every T seconds" holds even when nothing is being appended.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import utcnow
from hub.delivery.models import OutboxMessage
from hub.delivery.outbox import DeliveryPolicy, Outcome, claim_due, record_attempt
from hub.delivery.signing import sign_webhook
from hub.delivery.transport import Sender, check_url, post
from hub.partners.models import Partner
from hub.sharing.models import InboxItem

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from joserfc.jwk import OKPKey

    from hub.settings import Settings
    from hub.sharing.crypto import MasterKey

log = structlog.get_logger("hub.delivery")

USER_AGENT = "hub-webhook/1"
# The recipient's view of one inbox item, payload decrypted (hub.sharing.views).
Renderer = Callable[[Session, InboxItem, "MasterKey | None"], Mapping[str, Any]]

__all__ = [
    "USER_AGENT",
    "Renderer",
    "Worker",
    "render_inbox_item",
    "tick_checkpoint",
    "webhook_body",
]


def render_inbox_item(
    session: Session, item: InboxItem, master_key: MasterKey | None
) -> Mapping[str, Any]:
    """The real renderer: what the recipient would see in its inbox for ``item``."""
    from hub.sharing.views import inbox_item_view

    if master_key is None:
        raise RuntimeError("the master key is needed to decrypt pushed payloads")
    return inbox_item_view(session, item, master_key)


def webhook_body(delivery_id: int, view: Mapping[str, Any]) -> bytes:
    """The pushed JSON: the inbox view wrapped with the delivery id (signed with it)."""
    envelope = {"type": "inbox_item", "delivery_id": str(delivery_id), "item": view}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@dataclass(frozen=True)
class _Push:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Worker:
    """Delivers due outbox rows; every collaborator is a parameter so tests can swap it."""

    sessions: sessionmaker[Session]
    key: OKPKey
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    master_key: MasterKey | None = None
    render: Renderer = render_inbox_item
    send: Sender = post
    rng: random.Random = field(default_factory=random.SystemRandom)
    clock: Callable[[], dt.datetime] = utcnow

    def deliver_due(self, limit: int = 50) -> dict[int, Outcome]:
        """Claim up to ``limit`` due rows, push each, record each; return the outcomes."""
        with self.sessions() as session:
            ids = claim_due(session, limit, self.policy, self.clock())
            session.commit()
        return {message_id: self.deliver(message_id) for message_id in ids}

    def deliver(self, message_id: int) -> Outcome:
        """Push one claimed row (outside any transaction) and record what happened."""
        prepared = self._prepare(message_id)
        if isinstance(prepared, Outcome):
            outcome = prepared
        else:
            outcome = self.send(prepared.url, prepared.body, prepared.headers, self.policy.timeout)
        with self.sessions() as session:
            message = record_attempt(
                session, message_id, outcome, self.policy, self.rng, self.clock()
            )
            session.commit()
        if message is not None:
            _log_outcome(message, outcome)
        return outcome

    def _prepare(self, message_id: int) -> _Push | Outcome:
        """Render and sign in a read-only session that is closed before we send."""
        with self.sessions() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                return Outcome(error="message_missing", retryable=False)
            partner = session.get(Partner, message.partner_id)
            if partner is None or not partner.active:
                return Outcome(error="partner_inactive", retryable=False)
            if not partner.webhook_url:
                return Outcome(error="no_webhook_url", retryable=False)
            refused = check_url(partner.webhook_url, https_only=self.policy.https_only)
            if refused:
                return Outcome(error=refused, retryable=False)
            item = session.scalar(select(InboxItem).where(InboxItem.id == message.inbox_item_id))
            if item is None:
                return Outcome(error="item_missing", retryable=False)
            try:
                body = webhook_body(message.id, self.render(session, item, self.master_key))
            except Exception as exc:  # noqa: BLE001 - recorded by type only, never by message
                reason = f"render_failed:{type(exc).__name__}"[:200]
                log.warning("webhook_render_failed", outbox_id=message_id, reason=reason)
                return Outcome(error=reason)
            url, attempt = partner.webhook_url, message.attempts + 1
        iat = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Hub-Delivery-Id": str(message_id),
            "Hub-Timestamp": str(iat),
            "Hub-Attempt": str(attempt),
            "Hub-Signature": sign_webhook(body, self.key, iat=iat),
        }
        return _Push(url, body, headers)


def _log_outcome(message: OutboxMessage, outcome: Outcome) -> None:
    """One line per attempt: ids, status and reason only (never a URL or a body)."""
    fields = {
        "outbox_id": message.id,
        "partner_id": message.partner_id,
        "status": outcome.status,
        "attempts": message.attempts,
    }
    if message.state == "delivered":
        log.info("webhook_delivered", **fields)
    elif message.state == "dead":
        log.warning("webhook_dead_lettered", reason=message.last_error, **fields)
    else:
        log.info("webhook_retry_scheduled", reason=message.last_error, **fields)


def tick_checkpoint(
    sessions: sessionmaker[Session], key: Ed25519PrivateKey | None, settings: Settings
) -> bool:
    """Sequence stragglers, then apply the ledger's checkpoint policy once; True if a new
    checkpoint was signed.

    A refusal (the store disagrees with itself or with the last checkpoint) is logged and
    the worker carries on delivering: the ledger never signs a forked history, and
    ``hub log verify`` names the damage.
    """
    from hub.ledger import sequencer
    from hub.ledger.checkpoint import maybe_checkpoint
    from hub.ledger.errors import LedgerError

    with sessions() as session:
        # Entries whose request died before its batch (a crash, a timeout) are sequenced
        # here at the latest, releasing what they carry (docs/ledger.md "Sequencing").
        swept = sequencer.sweep(session)
        if swept:
            log.info("sequencer_swept", entries=swept)
    if key is None:
        return False
    with sessions() as session:
        try:
            signed = maybe_checkpoint(
                session,
                key,
                settings.log_origin,
                every=settings.checkpoint_every,
                interval=settings.checkpoint_interval,
            )
            session.commit()
        except LedgerError as exc:
            session.rollback()
            log.error("checkpoint_refused", exc_type=type(exc).__name__)
            return False
    return signed is not None


def run_loop(
    worker: Worker,
    checkpoint: Callable[[], object],
    *,
    once: bool,
    batch: int,
    poll: float,
    stop: threading.Event,
) -> int:
    """Loop until ``stop`` (or one pass with ``once``); return how many were delivered.

    A full batch means more may be due, so the next pass starts at once; otherwise wait
    ``poll`` seconds (interruptibly).
    """
    delivered = 0
    while True:
        checkpoint()
        outcomes = worker.deliver_due(batch)
        delivered += sum(1 for outcome in outcomes.values() if outcome.ok)
        if once or stop.is_set():
            return delivered
        if len(outcomes) < batch and stop.wait(poll):
            return delivered
