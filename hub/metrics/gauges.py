"""Gauges read from the database at scrape time, so every worker reports the same values.

One short read-only transaction per scrape. A database that cannot be reached reports
``hub_metrics_database_up 0`` and no database gauges, and the scrape still answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.db import utcnow

log = structlog.get_logger("hub.metrics")

UNSEQUENCED_TABLE = "ledger_unsequenced"
OUTBOX_STATES = ("pending", "delivered", "dead")


class DatabaseGauges(Collector):
    """A collector that reads its values from the database each time it is collected."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "hub_metrics_database_up", "1 if the database gauges below were read at this scrape."
        )
        try:
            with self.sessions() as session:
                families = list(_read(session, utcnow()))
        except SQLAlchemyError as exc:
            log.warning("metrics_database_unreadable", exc_type=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(now: dt.datetime, then: dt.datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def _read(session: Session, now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    scalar = session.execute
    size = scalar(text("SELECT size FROM ledger_head WHERE id = 1")).scalar() or 0
    yield _gauge("hub_ledger_entries", "Entries in the ledger (the head's tree size).", size)
    latest = scalar(
        text("SELECT tree_size, created_at FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1")
    ).one_or_none()
    signed = latest[0] if latest else 0
    yield _gauge("hub_checkpoint_tree_size", "Tree size of the latest signed checkpoint.", signed)
    yield _gauge(
        "hub_checkpoint_unsigned_entries",
        "Entries appended since the latest checkpoint.",
        max(0, size - signed),
    )
    created = _utc(latest[1]) if latest else None
    yield _gauge(
        "hub_checkpoint_age_seconds",
        "Seconds since the latest checkpoint was signed (0 when none was).",
        _age(now, created),
    )
    count, oldest = _unsequenced(session)
    yield _gauge(
        "hub_ledger_unsequenced_entries",
        "Entries committed but not yet given an index by the sequencer.",
        count,
    )
    yield _gauge(
        "hub_sequencer_lag_seconds",
        "Age of the oldest unsequenced entry (0 when none is waiting).",
        _age(now, oldest),
    )
    by_state = dict.fromkeys(OUTBOX_STATES, 0)
    for state, number in scalar(text("SELECT state, count(*) FROM outbox GROUP BY state")):
        by_state[str(state)] = int(number)
    outbox = GaugeMetricFamily(
        "hub_outbox_messages", "Webhook pushes in the outbox by state.", labels=["state"]
    )
    for state, number in sorted(by_state.items()):
        outbox.add_metric([state], number)
    yield outbox
    yield _gauge("hub_outbox_depth", "Webhook pushes waiting to be delivered.", by_state["pending"])
    yield _gauge(
        "hub_outbox_dead_letters", "Webhook pushes that ran out of attempts.", by_state["dead"]
    )


def _unsequenced(session: Session) -> tuple[int, dt.datetime | None]:
    """Rows waiting in the sequencer's table and the oldest one's time."""
    row = session.execute(
        text(f"SELECT count(*), min(created_at) FROM {UNSEQUENCED_TABLE}")  # noqa: S608 - constant
    ).one()
    return int(row[0]), _utc(row[1])


def _utc(value: object) -> dt.datetime | None:
    """A timestamp from raw SQL: SQLite returns text, PostgreSQL an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)  # noqa: S101 - narrowing for mypy
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
