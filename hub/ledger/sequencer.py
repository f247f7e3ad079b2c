"""The sequencer: gives committed, unsequenced entries their indexes, in batches.

In the manner of Trillian and Tessera, a request never touches the ledger head. Its
transaction commits the disclosure together with an *unsequenced* entry (table
``ledger_unsequenced``: canonical JSON, salts and leaf hash already computed), then
:func:`settle` waits, boundedly, until that entry has an index:

1. it takes the sequencer lock — ``pg_advisory_xact_lock`` on PostgreSQL (held by one
   transaction of one process at a time, released at commit or when a dead process's
   connection drops), SQLite's database write lock (``BEGIN IMMEDIATE``) on SQLite;
2. if its entry is still unsequenced it becomes the leader for one batch
   (:func:`sequence_pending`): every pending row, oldest first, gets the next index; the
   subtree hashes, the audit projection and the head are written, the rows are deleted,
   what they release becomes visible (:data:`RELEASERS`) and a checkpoint is signed when the
   N-entries-or-T-seconds policy says so — all in the leader's one transaction;
3. otherwise another request's batch took it along (group commit) and it only reads its
   index back.

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
from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hub import metrics
from hub.db import utcnow
from hub.errors import HubError
from hub.ledger import projection
from hub.ledger.models import HEAD_ID, LedgerEntry, LedgerHead, LedgerNode, LedgerUnsequenced

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


def sequence_pending(
    session: Session, limit: int = BATCH_LIMIT, *, locked: bool = False
) -> dict[int, int]:
    """Sequence up to ``limit`` pending entries in this transaction; ``{pending id: index}``.

    Takes the sequencer lock (unless ``locked``: this transaction holds it) and the head
    row, so it is safe in any transaction (the caller's own uncommitted rows are included).
    Never commits.
    """
    from hub.ledger import store

    started = time.perf_counter()
    if not locked:
        lock(session)
    frontier = store.lock_head(session)
    rows = session.execute(
        select(
            _unsequenced.c.id,
            _unsequenced.c.entry,
            _unsequenced.c.format,
            _unsequenced.c.salts,
            _unsequenced.c.leaf_hash,
            _unsequenced.c.release,
        )
        .order_by(_unsequenced.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return {}
    now = utcnow()
    entry_rows: list[tuple[object, ...]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    projected = []
    releases: dict[str, list[tuple[str, int]]] = {}
    assigned: dict[int, int] = {}
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
    _write(session, entry_rows, node_rows, list(assigned))
    session.execute(
        update(_head)
        .where(_head.c.id == HEAD_ID)
        .values(size=frontier.size, frontier=frontier.to_bytes())
    )
    projection.insert_rows(session, projected)
    for kind, refs in releases.items():
        _releaser(kind)(session, refs)
    _checkpoint_if_due(session, frontier.size - len(rows), frontier.size)
    metrics.record_sequencer_batch(len(rows), time.perf_counter() - started)
    return assigned


# From this many entries a batch is written by COPY on PostgreSQL (two round trips per
# table, but no per-row parameters).
COPY_FROM = 64
_ENTRY_COLUMNS = ("idx", "entry", "leaf_hash", "created_at", "format", "salts", "pending_id")


def _write(
    session: Session,
    entries: list[tuple[object, ...]],
    nodes: list[tuple[int, int, bytes]],
    done: list[int],
) -> None:
    """Insert the batch's entries and subtree hashes and delete its unsequenced rows.

    A large batch on PostgreSQL: ``COPY`` for the inserts and one array parameter for the
    delete (thousands of rows: per-row statements or bind parameters would dominate). A
    small one (a quiet hub, one round trip each) or SQLite: multi-row INSERTs.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(entries) < COPY_FROM:
        session.execute(
            insert(_entries), [dict(zip(_ENTRY_COLUMNS, row, strict=True)) for row in entries]
        )
        if nodes:
            node_rows = [{"level": level, "idx": i, "hash": h} for level, i, h in nodes]
            session.execute(insert(_nodes), node_rows)
        session.execute(delete(_unsequenced).where(_unsequenced.c.id.in_(done)))
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
        cursor.execute("DELETE FROM ledger_unsequenced WHERE id = ANY(%s)", (done,))


def _releaser(kind: str) -> Callable[[Session, list[tuple[str, int]]], None]:
    target = RELEASERS.get(kind)
    if target is None:  # fail closed: the batch rolls back, nothing is sequenced
        raise LookupError(f"no releaser for unsequenced entries of kind {kind!r}")
    module, _, name = target.partition(":")
    return cast(Callable[[Session, list[tuple[str, int]]], None], getattr(
        importlib.import_module(module), name
    ))


def _checkpoint_if_due(session: Session, first: int, size: int) -> None:
    """The N-entries-or-T-seconds policy, applied by the batch that appended.

    The N rule is arithmetic on the batch's indexes (a multiple of N was crossed); the T
    rule (which queries) runs at most once per interval per process and engine, and
    ``hub worker`` applies it when nothing is being appended.
    """
    from hub.ledger.checkpoint import maybe_checkpoint, sign_checkpoint

    config = config_for(session)
    if config.signing_key is None:
        return
    if first // config.checkpoint_every != size // config.checkpoint_every:
        sign_checkpoint(session, config.signing_key, config.origin)
        return
    engine = cast(Engine, session.get_bind())
    now = time.monotonic()
    if now - _time_rule_checked.get(engine, 0.0) < config.checkpoint_interval:
        return
    _time_rule_checked[engine] = now
    maybe_checkpoint(
        session,
        config.signing_key,
        config.origin,
        every=config.checkpoint_every,
        interval=config.checkpoint_interval,
    )


def remember(session: Session, pending: Sequence[LedgerEntry]) -> None:
    """Note entries this session appended; :meth:`HubSession.commit` settles them."""
    session.info.setdefault(PENDING, []).extend(pending)


def forget(session: Session) -> None:
    """The transaction rolled back: its unsequenced rows are gone, nothing to wait for."""
    session.info.pop(PENDING, None)


def settle(session: Session, pending: Sequence[LedgerEntry]) -> None:
    """Wait until every entry in ``pending`` (committed, unsequenced) has its index.

    Sets each entry's ``index``. Leads a batch when the entries are still pending once the
    lock is ours. Bounded: a lock wait past the database's ``lock_timeout`` raises its
    ``OperationalError`` (503 with ``Retry-After``); entries still not sequenced after the
    configured wait raise :class:`SequencingDelayed` (503). Runs its own short
    transactions on ``session``.
    """
    wanted = {cast(int, entry.pending_id): entry for entry in pending}
    found: dict[int, int] = {}
    deadline = time.monotonic() + config_for(session).wait
    while True:
        try:
            with session.begin():
                lock(session)
                # Whatever is pending now: ours, unless an earlier batch took it along.
                assigned = sequence_pending(session, locked=True)
                found.update((k, v) for k, v in assigned.items() if k in wanted)
        except OperationalError:
            # The lock wait itself is bounded (HUB_DB_LOCK_TIMEOUT): the app answers 503
            # with Retry-After, like any database wait, and the entry waits for a batch.
            log.warning("sequencer_lock_wait_timed_out")
            raise
        missing = wanted.keys() - found
        if missing:
            found.update(_indexes(session, missing))
            session.commit()
        if len(found) == len(wanted):
            break
        if time.monotonic() > deadline:
            raise _delayed()
    for pending_id, entry in wanted.items():
        entry.index = found[pending_id]


def _indexes(session: Session, ids: set[int]) -> dict[int, int]:
    rows = session.execute(
        select(_entries.c.pending_id, _entries.c.idx).where(_entries.c.pending_id.in_(list(ids)))
    )
    return {int(pending_id): int(index) for pending_id, index in rows}


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
    from sqlalchemy import func

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
