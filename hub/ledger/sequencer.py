"""The sequencer: gives committed, unsequenced entries their indexes, in batches.

In the manner of Trillian and Tessera, a request never appends to the head itself. Its
transaction writes the disclosure together with an *unsequenced* entry (table
``ledger_unsequenced``: canonical JSON, salts and leaf hash already computed); then
:meth:`hub.db.HubSession.commit` calls :func:`commit_and_settle`:

1. **Lead, if the sequencer is free.** Just before the request commits it *tries* the
   sequencer lock (``pg_try_advisory_xact_lock``, which never waits; on SQLite the
   database write lock ``BEGIN IMMEDIATE`` already holds). Got it: the request's own
   transaction leads one batch (:func:`sequence_pending`) — every pending row, its own
   uncommitted ones included, gets the next index; the subtree hashes, audit projection
   and head are written; what the rows release becomes visible (:data:`RELEASERS`); a
   checkpoint is signed when the N-entries-or-T-seconds policy says so — and it all
   commits at once. The lock is taken last, so it is held for the batch alone.
2. **Otherwise follow** (:func:`settle`): another transaction leads. The request commits
   (asynchronously: the batch's commit flushes the WAL past it), waits for the leader
   with a *shared* lock (every follower wakes together when the leader commits) and reads
   its index back. An entry the leader's batch missed (committed after the batch read
   the pending rows) is sequenced by the next leader: the follower then waits for the
   lock exclusively and, if its entry is still pending, leads that batch itself.

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
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hub import metrics
from hub.db import utcnow
from hub.errors import HubError
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
# Session.info key of the entries a session appended and has not yet seen sequenced.
PENDING = "hub.ledger.pending"

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


class SequencingDelayed(HubError):
    """The entry was committed but not sequenced within the bounded wait (503).

    Nothing is lost: the next batch sequences it. The response is withheld because its
    ledger index and receipt do not exist yet.
    """

    problem = "unavailable"


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


def try_lock(session: Session) -> bool:
    """Take the sequencer lock for this transaction if it is free; never waits.

    On PostgreSQL a transaction that does not get it is also marked to commit
    asynchronously: it will be acknowledged only once a leader's batch has sequenced its
    entry, and that batch's (synchronous) commit flushes the WAL past this one's commit
    record, so waiting for a flush of its own would cost a disk sync and protect nothing.
    SQLite: ``BEGIN IMMEDIATE`` already holds the database write lock, so always True.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(_TRY_LOCK, {"key": LOCK_KEY}).scalar_one())


_TRY_LOCK = text(
    "SELECT CASE WHEN pg_try_advisory_xact_lock(:key) THEN true "
    "ELSE set_config('synchronous_commit', 'off', true) IS NULL END"
)


def sequence_pending(
    session: Session, limit: int = BATCH_LIMIT, *, locked: bool = False
) -> dict[int, int]:
    """Sequence up to ``limit`` pending entries in this transaction; ``{pending id: index}``.

    Takes the sequencer lock (unless ``locked``: this transaction holds it) and the head
    row, so it is safe in any transaction (the caller's own uncommitted rows are included).
    Never commits. Leaves in ``session.info`` (:data:`CHECKPOINTED`) the largest tree size
    a checkpoint may have when the batch commits, so a receipt knows without a query
    whether one covers its entry.
    """
    from hub.ledger import store

    started = time.perf_counter()
    if not locked:
        lock(session)
    raw = _postgres_connection(session)
    head = None if raw is None else batch_pg.lock_head(raw)
    frontier = store.lock_head(session) if head is None else merkle.Frontier.from_bytes(*head)
    rows: Sequence[Any] = (
        sorted(session.execute(_take_pending(limit)).all(), key=lambda row: int(row.id))
        if raw is None
        else batch_pg.take_pending(raw, limit)
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
            lambda: projection.insert_rows(session, projected),
        )
    else:
        _write(session, entry_rows, node_rows)
        session.execute(
            update(_head)
            .where(_head.c.id == HEAD_ID)
            .values(size=frontier.size, frontier=frontier.to_bytes())
        )
        projection.insert_rows(session, projected)
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
    if try_lock(session):
        assigned = sequence_pending(session, locked=True)
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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOCK_KEY})


def _indexes(session: Session, ids: set[int] | Any) -> dict[int, int]:
    """The indexes of those of ``ids`` already sequenced, with the latest checkpoint's size
    (kept as :data:`CHECKPOINTED` for the receipt) in the same statement."""
    if not ids:
        return {}
    latest = select(func.coalesce(func.max(_checkpoints.c.tree_size), 0)).scalar_subquery()
    rows = session.execute(
        select(_entries.c.pending_id, _entries.c.idx, latest).where(
            _entries.c.pending_id.in_(list(ids))
        )
    ).all()
    if rows:
        session.info[CHECKPOINTED] = int(rows[0][2])
    return {int(pending_id): int(index) for pending_id, index, _size in rows}


def _delayed() -> SequencingDelayed:
    return SequencingDelayed(
        "The request was recorded but its ledger entry is not sequenced yet; retry with "
        "the same Idempotency-Key, or read it back later."
    )


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


def index_of(session: Session, pending_id: int) -> int:
    """The index the entry committed as ``pending_id`` received, waiting for it if need be."""
    found = _indexes(session, {pending_id})
    if pending_id in found:
        return found[pending_id]
    session.commit()
    entry = LedgerEntry(pending_id=pending_id)
    settle(session, [entry])
    return entry.index
