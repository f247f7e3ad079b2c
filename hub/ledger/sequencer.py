"""The sequencer: gives committed, unsequenced entries their indexes, in batches.

In the manner of Trillian and Tessera, a request never appends to the head itself. Its
transaction writes the disclosure together with an *unsequenced* entry (table
``ledger_unsequenced``: canonical JSON, salts and leaf hash already computed); then
:meth:`hub.db.HubSession.commit` calls :func:`hub.ledger.settling.commit_and_settle`:

1. **Lead, if the sequencer is free.** Just before the request commits it *tries* the
   sequencer lock (``pg_try_advisory_xact_lock``, which never waits; on SQLite the
   database write lock ``BEGIN IMMEDIATE`` already holds). Got it: the request's own
   transaction leads one batch (:func:`sequence_pending`) — every pending row, its own
   uncommitted ones included, gets the next index; the subtree hashes, audit projection
   and head are written; what the rows release becomes visible (:data:`RELEASERS`); a
   checkpoint is signed when the N-entries-or-T-seconds policy says so — and it all
   commits at once. The lock is taken last, so it is held for the batch alone.
2. **Otherwise follow** (:func:`hub.ledger.settling.settle`): another transaction leads.
   The request commits (asynchronously: the batch's commit flushes the WAL past it),
   waits for the leader with a *shared* lock (every follower wakes together when the
   leader commits) and reads its index back. An entry the leader's batch missed
   (committed after the batch read the pending rows) is sequenced by the next leader: the
   follower then waits for the lock exclusively and, if its entry is still pending, leads
   that batch itself.

Any process may lead any batch, so there is no leader to fail over: when the process that
holds the lock dies, PostgreSQL ends its transaction, nothing of the batch is kept and the
next waiter (in any hub process) sequences the same rows. Rows whose request died before
settling are swept up by the next batch or by ``hub worker``.

"No entry, no release": a disclosure's inbox item and outbox row are created by the batch
that sequences its entry (:mod:`hub.sharing.release`), and :meth:`HubSession.commit` does
not return before the session's entries are sequenced, so no response, inbox item,
webhook, view or receipt exists for an entry without an index.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import metrics
from hub.db import driver_errors, utcnow
from hub.ledger import batch_pg, merkle, projection
from hub.ledger.models import (
    HEAD_ID,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerUnsequenced,
)

log = structlog.get_logger("hub.ledger.sequencer")

# pg_advisory_xact_lock key: "hub_seq" as an integer. Only the sequencer takes it.
LOCK_KEY = 0x6875625F736571
# At most this many entries per batch: bounds the leader's transaction.
BATCH_LIMIT = 5000
_unsequenced = cast(Table, LedgerUnsequenced.__table__)
_entries = cast(Table, LedgerEntry.__table__)
_nodes = cast(Table, LedgerNode.__table__)
_head = cast(Table, LedgerHead.__table__)
_checkpoints = cast(Table, LedgerCheckpoint.__table__)

# What an unsequenced row's ``release`` names ("kind:ref") and the function that makes
# those refs visible once sequenced: f(session, [(ref, index)]). Resolved by import so a
# process that never imported the sharing package still releases (never sequences a
# disclosure's entry without releasing it, and never releases one without an entry).
RELEASERS: dict[str, str] = {"disclosure": "hub.sharing.release:release_disclosures"}


@dataclasses.dataclass(frozen=True)
class Config:
    """What the sequencer of one engine signs with and how long a request may wait."""

    signing_key: Ed25519PrivateKey | None = None
    origin: str = ""
    checkpoint_every: int = 256
    checkpoint_interval: float = 60.0
    wait: float = 10.0


_configs: weakref.WeakKeyDictionary[Engine, Config] = weakref.WeakKeyDictionary()
_time_rule_checked: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def configure(engine: Engine, config: Config) -> None:
    """Attach the checkpoint key and policy to ``engine``'s sequencer (the app factory)."""
    _configs[engine] = config


def config_for(session: Session) -> Config:
    engine = session.get_bind()
    return _configs.get(cast(Engine, getattr(engine, "engine", engine)), Config())


def lock(session: Session) -> None:
    """Take the sequencer lock for the rest of this transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    # SQLite: BEGIN IMMEDIATE (hub.db.make_engine) already holds the database write lock.


def sequence_pending(
    session: Session,
    limit: int = BATCH_LIMIT,
    *,
    locked: bool = False,
    lead: batch_pg.Lead | None = None,
) -> dict[int, int]:
    """Sequence up to ``limit`` pending entries in this transaction; ``{pending id: index}``.

    Takes the sequencer lock (unless ``locked``: this transaction holds it) and the head
    row, so it is safe in any transaction (the caller's own uncommitted rows are included).
    ``lead``: the head and rows the lock's own statement already took
    (:func:`hub.ledger.batch_pg.try_lead`). Never commits. Leaves in ``session.info``
    (:data:`CHECKPOINTED`) the largest tree size a checkpoint may have when the batch
    commits, so a receipt knows without a query whether one covers its entry.
    """
    if not locked:
        lock(session)
    with driver_errors(session):  # some of the batch's statements are sent at the driver
        return _sequence_locked(session, limit, lead)


def _sequence_locked(session: Session, limit: int, lead: batch_pg.Lead | None) -> dict[int, int]:
    from hub.ledger import store

    started = time.perf_counter()  # the batch's own time, not the wait for the lock
    raw = _postgres_connection(session)
    if lead is None and raw is not None:  # not taken by the try-lock's statement
        lead = batch_pg.Lead(batch_pg.lock_head(raw), batch_pg.take_pending(raw, limit))
    if lead is None or lead.head is None:  # SQLite, or no head row yet
        frontier = store.lock_head(session)
    else:
        frontier = merkle.Frontier.from_bytes(*lead.head)
    rows: Sequence[Any] = (
        lead.rows
        if lead is not None
        else sorted(session.execute(_take_pending(limit)).all(), key=lambda row: int(row.id))
    )
    if not rows:
        return {}
    now = utcnow()
    entry_rows: list[tuple[object, ...]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    projected = []
    releases: dict[str, list[tuple[str, int]]] = {}
    assigned: dict[int, int] = {}
    first = frontier.size
    for row in rows:
        index, leaf, blob = frontier.size, bytes(row.leaf_hash), bytes(row.entry)
        salts = None if row.salts is None else bytes(row.salts)
        entry_rows.append((index, blob, leaf, now, row.format, salts, row.id))
        projected.append(projection.rows_for(index, projection.event_of(blob)))
        node_rows.extend(frontier.append(leaf))
        assigned[row.id] = index
        if row.release:
            kind, _, ref = str(row.release).partition(":")
            releases.setdefault(kind, []).append((ref, index))
    if raw is not None and len(entry_rows) < COPY_FROM:
        batch_pg.write_small(
            raw,
            entry_rows,
            node_rows,
            (frontier.size, frontier.to_bytes(), HEAD_ID),
            then=lambda: projection.insert_rows(session, projected),
        )
    else:
        _write(session, entry_rows, node_rows)
        session.execute(
            update(_head)
            .where(_head.c.id == HEAD_ID)
            .values(size=frontier.size, frontier=frontier.to_bytes())
        )
        projection.insert_rows(session, projected)
    # After the pipeline: a releaser may go through SQLAlchemy (the outbox rows), which
    # cannot read results in pipeline mode.
    for kind, refs in releases.items():
        _releaser(kind)(session, refs)
    # No checkpoint signed before this batch can cover its entries (checkpoints are signed
    # under this lock at the head's size), so only one this batch signs can.
    session.info[CHECKPOINTED] = _checkpoint_if_due(session, first, frontier.size) or first
    metrics.record_sequencer_batch(len(rows), time.perf_counter() - started)
    return assigned


def _postgres_connection(session: Session) -> Any:
    """The psycopg connection of this transaction on PostgreSQL, else None."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return connection.connection.driver_connection


# session.info key: no checkpoint covers an index at or past this (see sequence_pending).
CHECKPOINTED = "hub.ledger.checkpointed"


def _take_pending(limit: int) -> Any:
    """Delete the oldest ``limit`` pending rows, returning them (one statement, not two)."""
    oldest = select(_unsequenced.c.id).order_by(_unsequenced.c.id).limit(limit)
    return (
        delete(_unsequenced)
        .where(_unsequenced.c.id.in_(oldest.scalar_subquery()))
        .returning(
            _unsequenced.c.id,
            _unsequenced.c.entry,
            _unsequenced.c.format,
            _unsequenced.c.salts,
            _unsequenced.c.leaf_hash,
            _unsequenced.c.release,
        )
    )


# From this many entries a batch is written by COPY on PostgreSQL (two round trips per
# table, but no per-row parameters).
COPY_FROM = 64
_ENTRY_COLUMNS = ("idx", "entry", "leaf_hash", "created_at", "format", "salts", "pending_id")


def _write(
    session: Session, entries: list[tuple[object, ...]], nodes: list[tuple[int, int, bytes]]
) -> None:
    """Insert the batch's entries and subtree hashes.

    A large batch on PostgreSQL: ``COPY`` (thousands of rows: per-row statements or bind
    parameters would dominate). A small one (a quiet hub, one round trip each) or SQLite:
    multi-row INSERTs.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(entries) < COPY_FROM:
        session.execute(
            insert(_entries), [dict(zip(_ENTRY_COLUMNS, row, strict=True)) for row in entries]
        )
        if nodes:
            node_rows = [{"level": level, "idx": i, "hash": h} for level, i, h in nodes]
            session.execute(insert(_nodes), node_rows)
        return
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        columns = ", ".join(_ENTRY_COLUMNS)
        with cursor.copy(f"COPY ledger_entries ({columns}) FROM STDIN") as copy:  # noqa: S608
            for row in entries:
                copy.write_row(row)
        if nodes:
            with cursor.copy("COPY ledger_nodes (level, idx, hash) FROM STDIN") as copy:
                for node in nodes:
                    copy.write_row(node)


def _releaser(kind: str) -> Callable[[Session, list[tuple[str, int]]], None]:
    target = RELEASERS.get(kind)
    if target is None:  # fail closed: the batch rolls back, nothing is sequenced
        raise LookupError(f"no releaser for unsequenced entries of kind {kind!r}")
    module, _, name = target.partition(":")
    return cast(Callable[[Session, list[tuple[str, int]]], None], getattr(
        importlib.import_module(module), name
    ))


def _checkpoint_if_due(session: Session, first: int, size: int) -> int | None:
    """The N-entries-or-T-seconds policy, applied by the batch that appended.

    The N rule is arithmetic on the batch's indexes (a multiple of N was crossed); the T
    rule (which queries) runs at most once per interval per process and engine, and
    ``hub worker`` applies it when nothing is being appended.
    """
    from hub.ledger.checkpoint import maybe_checkpoint, sign_checkpoint

    config = config_for(session)
    if config.signing_key is None:
        return None
    if first // config.checkpoint_every != size // config.checkpoint_every:
        return sign_checkpoint(session, config.signing_key, config.origin).tree_size
    engine = cast(Engine, session.get_bind())
    now = time.monotonic()
    if now - _time_rule_checked.get(engine, 0.0) < config.checkpoint_interval:
        return None
    _time_rule_checked[engine] = now
    signed = maybe_checkpoint(
        session,
        config.signing_key,
        config.origin,
        every=config.checkpoint_every,
        interval=config.checkpoint_interval,
    )
    return None if signed is None else signed.tree_size


def sweep(session: Session) -> int:
    """Sequence whatever is pending (``hub worker``, after a crash); entries sequenced."""
    total = 0
    while True:
        with session.begin():
            done = len(sequence_pending(session))
        total += done
        if done < BATCH_LIMIT:
            return total


def pending_count(session: Session) -> int:
    """Entries committed but not yet sequenced."""
    return int(session.scalar(select(func.count()).select_from(_unsequenced)) or 0)
