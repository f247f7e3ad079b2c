"""Retention: erase every payload kept longer than its flow allows (``hub retention purge``).

Storage limitation (UK GDPR Art 5(1)(e)) and the agreement's own retention clause: once a
disclosure's ``retention_until`` (the flow's ``retention_days`` from the share) has passed,
the data is no longer necessary for the purpose and must be erased (Art 17(1)(a)). The hub
erases it exactly as a withdrawal does: the data key and ciphertext are destroyed, an
``erasure`` entry with reason ``retention_expired`` is appended (DPA 2018 s62), and the
recipient is told (Art 19), which is its cue to delete its own copy under the agreement.
The workflow status is left as it was: the referral ran its course; only its data is gone.

The purge is idempotent (erased rows are never selected again) and works in transactions
of a few hundred rows, so a large backlog neither holds long locks nor loses progress.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.sharing.context import SharingContext
from hub.sharing.corrections import RETENTION_EXPIRED, erase_disclosures
from hub.sharing.models import Disclosure

RETENTION_ACTOR = {"partner": "hub", "user": "hub-retention"}
CHUNK = 500


@dataclasses.dataclass(frozen=True, order=True)
class FlowKey:
    """The flow a disclosure was made under: how the purge report groups its counts."""

    agreement_id: str
    agreement_version: int
    flow_index: int
    sender: str
    recipient: str
    purpose: str

    def label(self) -> str:
        return (
            f"{self.agreement_id} v{self.agreement_version} flow {self.flow_index} "
            f"({self.sender} -> {self.recipient}, {self.purpose})"
        )


@dataclasses.dataclass(frozen=True)
class PurgeReport:
    """How many payloads past retention were (or, in a dry run, would be) erased, per flow."""

    dry_run: bool
    counts: dict[FlowKey, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """The report for an operator: a total, then one line per flow."""
        if self.dry_run:
            head = (
                f"retention (dry run): {self.total} payloads past retention would be erased; "
                "nothing changed"
            )
        else:
            head = f"retention: {self.total} payloads past retention erased"
        return [head, *(f"  {key.label()}: {n}" for key, n in sorted(self.counts.items()))]


_FLOW_COLUMNS = (
    Disclosure.agreement_id,
    Disclosure.agreement_version,
    Disclosure.flow_index,
    Disclosure.sender_id,
    Disclosure.recipient_id,
    Disclosure.purpose,
)


def purge_expired(
    session: Session,
    ctx: SharingContext,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    chunk: int = CHUNK,
) -> PurgeReport:
    """Erase every disclosure whose retention ended by ``now`` and is not yet erased.

    ``dry_run`` only counts. Otherwise each chunk is locked (``SKIP LOCKED`` on
    PostgreSQL, so a concurrent withdrawal or purge is never erased twice), erased,
    logged and committed before the next.
    """
    now = now or utcnow()
    if dry_run:
        rows = session.execute(
            select(*_FLOW_COLUMNS, func.count()).where(*_expired(now)).group_by(*_FLOW_COLUMNS)
        )
        counts = {FlowKey(*row[:-1]): int(row[-1]) for row in rows}
        session.rollback()
        return PurgeReport(True, counts)
    erased: Counter[FlowKey] = Counter()
    while batch := list(session.scalars(_claim(session, now, chunk))):
        erase_disclosures(session, ctx, RETENTION_ACTOR, batch, RETENTION_EXPIRED)
        erased.update(_flow_key(d) for d in batch)
        session.commit()
    return PurgeReport(False, dict(erased))


def _expired(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Disclosure.retention_until <= now,
        Disclosure.erased_at.is_(None),
        Disclosure.ledger_index.is_not(None),  # released only (hub.sharing.release)
    )


def _claim(session: Session, now: dt.datetime, chunk: int) -> Select[Disclosure]:
    query = (
        select(Disclosure)
        .where(*_expired(now))
        .order_by(Disclosure.retention_until, Disclosure.id)
        .limit(chunk)
    )
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query  # SQLite: BEGIN IMMEDIATE already holds the database write lock


def _flow_key(disclosure: Disclosure) -> FlowKey:
    return FlowKey(
        disclosure.agreement_id,
        disclosure.agreement_version,
        disclosure.flow_index,
        disclosure.sender_id,
        disclosure.recipient_id,
        disclosure.purpose,
    )
