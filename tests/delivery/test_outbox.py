"""The outbox rows: enqueue, backoff, claims (SKIP LOCKED), dead letters and re-drives."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from hub.delivery.models import OutboxMessage
from hub.delivery.outbox import (
    DeliveryPolicy,
    Outcome,
    claim_due,
    enqueue,
    record_attempt,
    redrive,
    retry_delay,
)
from hub.sharing.crypto import MasterKey
from hub.sharing.models import InboxItem, new_id
from tests.delivery.conftest import RECIPIENT, SENDER, MaxJitter, add_inbox_item, add_partner

POLICY = DeliveryPolicy(max_attempts=3, backoff_base=1.0, backoff_cap=10.0, lease=60.0)


def test_enqueue_without_a_webhook_url_does_nothing(sessions, master: MasterKey):
    with sessions() as session:
        add_partner(session, SENDER)
        quiet = add_partner(session, RECIPIENT, webhook_url=None)
        item = add_inbox_item(session, master, quiet)
        assert enqueue(session, quiet, item) is None
        session.commit()
        assert session.scalars(select(OutboxMessage)).all() == []


def test_enqueue_joins_the_callers_transaction(sessions, master: MasterKey):
    """Added (not committed) with the item: a rollback takes both away, a commit keeps both."""
    with sessions() as session:
        add_partner(session, SENDER)
        partner = add_partner(session, RECIPIENT, "https://partner.example/hook")
        disclosure_item = add_inbox_item(session, master, partner)
        session.commit()
        # As the sharing service does it: a new item and its outbox row in one flush.
        item = InboxItem(
            recipient_id=partner.id, disclosure_id=disclosure_item.disclosure_id, kind="alert"
        )
        session.add(item)
        message = enqueue(session, partner, item)
        assert message is not None and message.inbox_item_id == item.id
        session.rollback()
        assert session.scalars(select(OutboxMessage)).all() == []
        item = InboxItem(
            id=new_id(),
            recipient_id=partner.id,
            disclosure_id=disclosure_item.disclosure_id,
            kind="alert",
        )
        session.add(item)
        enqueue(session, partner, item)
        session.commit()
        (stored,) = session.scalars(select(OutboxMessage)).all()
        assert (stored.state, stored.attempts, stored.partner_id) == ("pending", 0, RECIPIENT)
        assert stored.inbox_item_id == item.id


@pytest.mark.parametrize("attempts", [0, 1, 2, 5, 40, 10_000])
def test_retry_delay_is_full_jitter_under_a_capped_exponential(attempts: int):
    ceiling = min(POLICY.backoff_cap, POLICY.backoff_base * 2 ** min(attempts, 32))
    rng = random.Random(attempts)
    delays = [retry_delay(attempts, POLICY, rng) for _ in range(200)]
    assert all(0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling / 2  # spread over the range, not pinned at zero
    assert retry_delay(attempts, POLICY, MaxJitter()) == ceiling


def _queue(sessions: sessionmaker[Session], master: MasterKey, n: int) -> list[int]:
    with sessions() as session:
        add_partner(session, SENDER)
        partner = add_partner(session, RECIPIENT, "https://partner.example/hook")
        messages = [
            enqueue(session, partner, add_inbox_item(session, master, partner)) for _ in range(n)
        ]
        session.commit()
        return [m.id for m in messages if m is not None]


def test_claim_leases_rows_so_a_second_claim_does_not_see_them(sessions, master, clock):
    ids = _queue(sessions, master, 3)
    with sessions() as session:
        assert claim_due(session, 2, POLICY, clock()) == ids[:2]
        session.commit()
    with sessions() as session:
        assert claim_due(session, 10, POLICY, clock()) == ids[2:]
        session.commit()
        assert claim_due(session, 10, POLICY, clock()) == []
    # A lease is the base lease plus one timeout per row claimed with it (sent one by one).
    clock.advance(POLICY.lease + POLICY.timeout - 1)
    with sessions() as session:
        assert claim_due(session, 10, POLICY, clock()) == []
    clock.advance(POLICY.timeout + 2)  # workers that died: their leases run out
    with sessions() as session:
        assert claim_due(session, 10, POLICY, clock()) == [ids[2], ids[0], ids[1]]


def test_concurrent_claims_skip_locked_rows_on_postgresql(sessions, master, clock, clean_db):
    """An uncommitted claim holds its rows; another worker takes the rest without waiting."""
    if clean_db.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises claims with its write lock")
    ids = _queue(sessions, master, 5)
    with sessions() as first, sessions() as second:
        assert claim_due(first, 2, POLICY, clock()) == ids[:2]  # not committed: rows locked
        second.execute(text("SET LOCAL lock_timeout = '2s'"))  # would fail if it blocked
        assert claim_due(second, 10, POLICY, clock()) == ids[2:]
        second.commit()
        first.commit()


def test_failures_back_off_then_dead_letter_after_max_attempts(sessions, master, clock):
    (message_id,) = _queue(sessions, master, 1)
    rng = MaxJitter()
    with sessions() as session:
        for attempt in (1, 2):
            message = record_attempt(
                session, message_id, Outcome(503, "http_503"), POLICY, rng, clock()
            )
            assert message is not None and message.state == "pending"
            delay = (message.next_attempt_at - clock()).total_seconds()
            assert delay == pytest.approx(min(POLICY.backoff_cap, 2**attempt))
        message = record_attempt(
            session, message_id, Outcome(error="timeout"), POLICY, rng, clock()
        )
        assert message is not None
        assert (message.state, message.attempts, message.last_error) == ("dead", 3, "timeout")
        session.commit()


def test_unretryable_failures_go_straight_to_dead(sessions, master, clock):
    (message_id,) = _queue(sessions, master, 1)
    with sessions() as session:
        outcome = Outcome(error="unsupported_url", retryable=False)
        message = record_attempt(session, message_id, outcome, POLICY, MaxJitter(), clock())
        assert message is not None and (message.state, message.attempts) == ("dead", 1)


def test_success_and_redrive_rules(sessions, master, clock):
    delivered, dead, pending = _queue(sessions, master, 3)
    with sessions() as session:
        record_attempt(session, delivered, Outcome(204), POLICY, MaxJitter(), clock())
        record_attempt(
            session, dead, Outcome(error="x", retryable=False), POLICY, MaxJitter(), clock()
        )
        report = redrive(session, [delivered, dead, pending, 999_999], now=clock())
        session.commit()
        assert report.redriven == [dead, pending]
        assert sorted(report.skipped) == [(delivered, "already delivered"), (999_999, "not found")]
        row = session.get_one(OutboxMessage, dead)
        assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == (
            "pending",
            0,
            None,
            clock(),
        )
        # A late result for a row no longer pending changes nothing.
        late = record_attempt(session, delivered, Outcome(500), POLICY, MaxJitter(), clock())
        assert late is not None and late.state == "delivered" and late.attempts == 1
