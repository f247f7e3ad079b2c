"""Settling: how a request that appended learns its entries' indexes (the request side of
the sequencer, :mod:`hub.ledger.sequencer`).

:meth:`hub.db.HubSession.commit` calls :func:`commit_and_settle`. It *tries* the sequencer
lock last, just before the commit (``pg_try_advisory_xact_lock`` never waits; on SQLite
``BEGIN IMMEDIATE`` already holds the write lock). Got it: this very transaction leads
the batch, and the request's rows and their indexes commit together. Otherwise another
transaction is leading: the request commits (asynchronously, see :func:`try_lock`),
waits for that leader with a *shared* lock, so every follower is let through together,
and reads its indexes back; an entry the leader's batch missed (it committed after the
batch read the pending rows) then waits for the lock exclusively and is sequenced by
whichever follower gets it first. The wait is bounded (:class:`SequencingDelayed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, cast

import structlog
from sqlalchemy import Table, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hub.db import on_postgres, pg_cursor
from hub.errors import HubError
from hub.ledger import batch_pg
from hub.ledger.models import LedgerCheckpoint, LedgerEntry
from hub.ledger.sequencer import (
    BATCH_LIMIT,
    CHECKPOINTED,
    LOCK_KEY,
    config_for,
    lock,
    sequence_pending,
)

log = structlog.get_logger("hub.ledger.settling")

# Session.info key of the entries a session appended and has not yet seen sequenced.
PENDING = "hub.ledger.pending"

_entries = cast(Table, LedgerEntry.__table__)
_checkpoints = cast(Table, LedgerCheckpoint.__table__)


class SequencingDelayed(HubError):
    """The entry was committed but not sequenced within the bounded wait (503).

    Nothing is lost: the next batch sequences it. The response is withheld because its
    ledger index and receipt do not exist yet.
    """

    problem = "unavailable"


def try_lock(session: Session) -> batch_pg.Lead | bool:
    """Take the sequencer lock for this transaction if it is free; never waits.

    On PostgreSQL the same statement, when it gets the lock, locks the head and takes the
    pending rows for the batch (:func:`hub.ledger.batch_pg.try_lead`); a transaction that
    does not get it is marked to commit asynchronously: it will be acknowledged only once a
    leader's batch has sequenced its entry, and that batch's (synchronous) commit flushes
    the WAL past this one's commit record, so waiting for a flush of its own would cost a
    disk sync and protect nothing. Falsy when another transaction leads.
    SQLite: ``BEGIN IMMEDIATE`` already holds the database write lock, so always True.
    """
    if not on_postgres(session):
        return True
    with pg_cursor(session) as cursor:
        return batch_pg.try_lead(cursor, LOCK_KEY, BATCH_LIMIT) or False


def remember(session: Session, pending: Sequence[LedgerEntry]) -> None:
    """Note entries this session appended; :meth:`HubSession.commit` settles them."""
    session.info.setdefault(PENDING, []).extend(pending)


def forget(session: Session) -> None:
    """The transaction rolled back: its unsequenced rows are gone, nothing to wait for."""
    session.info.pop(PENDING, None)


def commit_and_settle(
    session: Session, pending: Sequence[LedgerEntry], commit: Callable[[], None]
) -> None:
    """Commit the transaction that appended ``pending`` and set each entry's ``index``.

    Leads the batch in this very transaction when the sequencer is free (the lock taken
    last, just before ``commit``); otherwise commits and follows (:func:`settle`).
    """
    session.info.pop(CHECKPOINTED, None)
    wanted = {cast(int, entry.pending_id): entry for entry in pending}
    found: dict[int, int] = {}
    lead = try_lock(session)
    if lead:
        taken = lead if isinstance(lead, batch_pg.Lead) else None
        assigned = sequence_pending(session, locked=True, lead=taken)
        found = {k: v for k, v in assigned.items() if k in wanted}
    commit()
    if len(found) < len(wanted):  # a follower (or a backlog larger than one batch)
        settle(session, [e for k, e in wanted.items() if k not in found])
        return
    for pending_id, entry in wanted.items():
        entry.index = found[pending_id]


def settle(session: Session, pending: Sequence[LedgerEntry]) -> None:
    """Wait until every entry in ``pending`` (committed, unsequenced) has its index.

    Sets each entry's ``index``. First waits for the current leader, if any, with a shared
    lock and reads the indexes back; an entry still pending then waits for the lock
    exclusively and, if no batch took it along meanwhile, leads one. Bounded: a lock wait
    past the database's ``lock_timeout`` raises its ``OperationalError`` (503 with
    ``Retry-After``); entries still not sequenced after the configured wait raise
    :class:`SequencingDelayed` (503). Runs its own short transactions on ``session``.
    """
    wanted = {cast(int, entry.pending_id): entry for entry in pending}
    found: dict[int, int] = {}
    deadline = time.monotonic() + config_for(session).wait
    exclusive = False
    while True:
        try:
            with session.begin():
                if exclusive:
                    lock(session)
                else:
                    _await_leader(session)
                found.update(_indexes(session, wanted.keys() - found))
                if exclusive and len(found) < len(wanted):
                    assigned = sequence_pending(session, locked=True)
                    found.update((k, v) for k, v in assigned.items() if k in wanted)
        except OperationalError:
            # The lock wait itself is bounded (HUB_DB_LOCK_TIMEOUT): the app answers 503
            # with Retry-After, like any database wait, and the entry waits for a batch.
            log.warning("sequencer_lock_wait_timed_out")
            raise
        if len(found) == len(wanted):
            break
        if time.monotonic() > deadline:
            raise _delayed()
        exclusive = True
    for pending_id, entry in wanted.items():
        entry.index = found[pending_id]


def _await_leader(session: Session) -> None:
    """Wait until the transaction leading a batch, if any, has ended (PostgreSQL).

    A shared lock: every waiting follower is let through together when the leader commits.
    On SQLite ``BEGIN IMMEDIATE`` has already waited for the write lock.
    """
    if on_postgres(session):
        with pg_cursor(session) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", (LOCK_KEY,))


def _indexes(session: Session, ids: Collection[int]) -> dict[int, int]:
    """The indexes of those of ``ids`` already sequenced, with the latest checkpoint's size
    (kept as :data:`CHECKPOINTED` for the receipt) in the same statement."""
    if not ids:
        return {}
    rows: Sequence[Any]
    if on_postgres(session):  # every follower reads its index back: at the driver
        with pg_cursor(session) as cursor:
            cursor.execute(_PG_INDEXES, (list(ids),))
            rows = cursor.fetchall()
    else:
        latest = select(func.coalesce(func.max(_checkpoints.c.tree_size), 0)).scalar_subquery()
        rows = session.execute(
            select(_entries.c.pending_id, _entries.c.idx, latest).where(
                _entries.c.pending_id.in_(list(ids))
            )
        ).all()
    if rows:
        session.info[CHECKPOINTED] = int(rows[0][2])
    return {int(pending_id): int(index) for pending_id, index, _size in rows}


_PG_INDEXES = (
    "SELECT pending_id, idx, (SELECT coalesce(max(tree_size), 0) FROM ledger_checkpoints) "
    "FROM ledger_entries WHERE pending_id = ANY(%s::bigint[])"
)


def _delayed() -> SequencingDelayed:
    return SequencingDelayed(
        "The request was recorded but its ledger entry is not sequenced yet; retry with "
        "the same Idempotency-Key, or read it back later."
    )


def index_of(session: Session, pending_id: int) -> int:
    """The index the entry committed as ``pending_id`` received, waiting for it if need be."""
    found = _indexes(session, {pending_id})
    if pending_id in found:
        return found[pending_id]
    session.commit()
    entry = LedgerEntry(pending_id=pending_id)
    settle(session, [entry])
    return entry.index
