"""The transactional outbox: what to push, when to try again, and when to give up.

Rows are added in the sharing transaction (:func:`enqueue`), so an item is pushed if and
only if it was committed. The worker claims due rows in a short transaction
(:func:`claim_due`: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers never take
the same row; SQLite's write lock serialises claims), pushes the lease forward, commits,
sends outside any transaction, then records the outcome (:func:`record_attempt`).

Delivery is at least once: a worker that dies after sending but before recording leaves
the row to be sent again when its lease runs out. Receivers de-duplicate on
``Hub-Delivery-Id``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.delivery.models import OUTBOX_STATES, OutboxMessage

_outbox = cast(Table, OutboxMessage.__table__)

if TYPE_CHECKING:
    from hub.partners.models import Partner
    from hub.settings import Settings
    from hub.sharing.models import InboxItem

__all__ = [
    "DeliveryPolicy",
    "Outcome",
    "RedriveReport",
    "claim_due",
    "enqueue",
    "enqueue_many",
    "list_messages",
    "record_attempt",
    "redrive",
    "retry_delay",
]


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard to try: attempts before dead-lettering, backoff, timeout and lease."""

    max_attempts: int = 8
    backoff_base: float = 10.0
    backoff_cap: float = 3600.0
    timeout: float = 10.0
    # How long a claimed row stays invisible to other workers, on top of one timeout per
    # row in the batch; after a crash the row is retried once this runs out.
    lease: float = 60.0
    # Production refuses plain http: the body carries personal data.
    https_only: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        """The policy from ``HUB_WEBHOOK_*`` settings."""
        return cls(
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_base,
            backoff_cap=settings.webhook_backoff_cap,
            timeout=settings.webhook_timeout,
            https_only=settings.production,
        )


@dataclass(frozen=True)
class Outcome:
    """One push's result: an HTTP status and/or a short machine reason (never a body).

    ``retryable`` is false for failures that another try cannot fix (a refused URL, a
    partner without a webhook); those go straight to the dead-letter state.
    """

    status: int | None = None
    error: str | None = None
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class RedriveReport:
    """Which ids went back to pending, and which were not found or not re-drivable."""

    redriven: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def enqueue(session: Session, partner: Partner, inbox_item: InboxItem) -> OutboxMessage | None:
    """Queue ``inbox_item`` for ``partner``'s webhook, if it has one; never commits.

    Called by the sharing service inside its own transaction, which makes the push
    transactional with the item (the outbox pattern).
    """
    if not partner.webhook_url:
        return None
    if inbox_item.id is None:
        # The id is a client-side default normally set at flush; the outbox row needs it now.
        from hub.sharing.models import new_id

        inbox_item.id = new_id()
    now = utcnow()
    message = OutboxMessage(
        partner_id=partner.id,
        inbox_item=inbox_item,  # orders the inserts: item first, then its outbox row
        inbox_item_id=inbox_item.id,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


def enqueue_many(
    session: Session, deliveries: Sequence[tuple[str, str]], webhooks: dict[str, str | None]
) -> int:
    """Queue each ``(partner_id, inbox_item_id)`` whose partner has a webhook; never commits.

    The hot-path form of :func:`enqueue`: one Core executemany, no unit-of-work flush. The
    inbox items must already be inserted in this transaction. Returns the rows queued.
    """
    now = utcnow()
    rows = [
        {
            "partner_id": partner_id,
            "inbox_item_id": item_id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_status": None,
            "last_error": None,
            "created_at": now,
            "delivered_at": None,
        }
        for partner_id, item_id in deliveries
        if webhooks.get(partner_id)
    ]
    if rows:
        session.execute(insert(_outbox), rows)
    return len(rows)


def retry_delay(attempts: int, policy: DeliveryPolicy, rng: random.Random) -> float:
    """Seconds to wait after ``attempts`` failures: exponential backoff with full jitter.

    ``uniform(0, min(cap, base * 2**attempts))`` (the AWS "full jitter" scheme) spreads
    retries from many workers so a receiver coming back up is not hit by a thundering herd.
    """
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** min(attempts, 32))
    return rng.uniform(0, ceiling)


def claim_due(
    session: Session, limit: int, policy: DeliveryPolicy, now: dt.datetime | None = None
) -> list[int]:
    """Lease up to ``limit`` due pending rows to this worker; return their ids.

    The caller commits at once to keep the claim short. ``SKIP LOCKED`` lets concurrent
    workers on PostgreSQL each take different rows without waiting; on SQLite the write
    lock taken by ``BEGIN IMMEDIATE`` serialises claims instead.
    """
    now = now or utcnow()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    messages = session.scalars(query).all()
    # The batch is sent one by one: the lease must outlast every send in it, or a row
    # near the end could be claimed (and pushed) again by another worker meanwhile.
    lease_until = now + dt.timedelta(seconds=policy.lease + len(messages) * policy.timeout)
    for message in messages:
        message.next_attempt_at = lease_until
    session.flush()
    return [message.id for message in messages]


def record_attempt(
    session: Session,
    message_id: int,
    outcome: Outcome,
    policy: DeliveryPolicy,
    rng: random.Random,
    now: dt.datetime | None = None,
) -> OutboxMessage | None:
    """Record one push: delivered on 2xx; otherwise back off, or dead-letter after N.

    Only a row still pending is changed (an admin may have re-driven or a lease may have
    run out meanwhile; the push itself is at-least-once either way).
    """
    now = now or utcnow()
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.state != "pending":
        return message
    message.attempts += 1
    message.last_status = outcome.status
    if outcome.ok:
        message.state = "delivered"
        message.delivered_at = now
        message.last_error = None
    else:
        message.last_error = (outcome.error or f"http_{outcome.status}")[:200]
        if not outcome.retryable or message.attempts >= policy.max_attempts:
            message.state = "dead"
            message.next_attempt_at = now
        else:
            delay = retry_delay(message.attempts, policy, rng)
            message.next_attempt_at = now + dt.timedelta(seconds=delay)
    session.flush()
    return message


def list_messages(
    session: Session, state: str | None = None, limit: int | None = None
) -> Sequence[OutboxMessage]:
    """Outbox rows, oldest first, optionally of one state (for ``hub outbox list``)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if state is not None:
        if state not in OUTBOX_STATES:
            raise ValueError(f"state must be one of {', '.join(OUTBOX_STATES)}")
        query = query.where(OutboxMessage.state == state)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def redrive(
    session: Session,
    ids: Iterable[int] = (),
    *,
    all_dead: bool = False,
    now: dt.datetime | None = None,
) -> RedriveReport:
    """Put dead (or stuck pending) rows back to pending, attempts reset, due now.

    Delivered rows are left alone: re-sending a delivered item is a new share, not a retry.
    The caller commits.
    """
    now = now or utcnow()
    report = RedriveReport()
    wanted = sorted(set(ids))
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if all_dead:
        query = query.where(OutboxMessage.state == "dead")
    else:
        query = query.where(OutboxMessage.id.in_(wanted))
    found = {message.id: message for message in session.scalars(query.with_for_update())}
    for message_id in wanted:
        if message_id not in found:
            report.skipped.append((message_id, "not found"))
    for message in found.values():
        if message.state == "delivered":
            report.skipped.append((message.id, "already delivered"))
            continue
        message.state = "pending"
        message.attempts = 0
        message.next_attempt_at = now
        message.last_error = None
        message.last_status = None
        report.redriven.append(message.id)
    session.flush()
    return report
