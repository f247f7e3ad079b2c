"""Append events to the ledger and answer roots and proofs from the database.

Appends run inside the caller's transaction: they insert unsequenced entries, never commit,
so a disclosure and its entry commit together or not at all (docs/architecture.md: no entry,
no release); the sequencer (:mod:`hub.ledger.sequencer`) gives them indexes. Every root or
proof reads the O(log n) completed subtrees its plan names, in one query.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.counters import note_write
from hub.db import built, pg_cursor, utcnow
from hub.ledger import batch_pg, merkle, salted
from hub.ledger.errors import CorruptStore, IndexOutOfRange
from hub.ledger.events import PUBLIC_TYPES, member_slots, validate_event
from hub.ledger.models import (
    HEAD_ID,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerUnsequenced,
)

_entries = cast(Table, LedgerEntry.__table__)
_nodes = cast(Table, LedgerNode.__table__)
_head = cast(Table, LedgerHead.__table__)
_unsequenced = cast(Table, LedgerUnsequenced.__table__)


def canonical_entry(event: dict[str, object]) -> bytes:
    """Validate an event against its allow-list and return its RFC 8785 canonical JSON.

    A validated event holds only ASCII strings, integers below 2**53, booleans, lists and
    objects with ASCII keys. For that subset RFC 8785 output is exactly Python's sorted,
    compact, ASCII JSON, which is ~5x faster than the general ``rfc8785`` encoder on the
    append path; the tests check the two agree.
    """
    validate_event(event)
    return json.dumps(event, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _salts_size(event: dict[str, object]) -> int:
    """Bytes of salts and decoys an entry gets: none for public governance events."""
    if event["type"] in PUBLIC_TYPES:
        return 0
    return salted.salts_size(len(event), member_slots(str(event["type"])))


def lock_head(session: Session) -> merkle.Frontier:
    """Lock the head row (creating it on first use) and return the tree's frontier.

    The lock is held until the caller's transaction ends, so appends and checkpoint signing
    are serialised across processes. ``FOR UPDATE`` is dropped by SQLAlchemy on SQLite,
    where BEGIN IMMEDIATE (``hub.db.make_engine``) already holds the database write lock.
    """
    query = select(_head.c.size, _head.c.frontier).where(_head.c.id == HEAD_ID).with_for_update()
    row = session.execute(query).one_or_none()
    if row is None:
        dialect = session.get_bind().dialect.name
        make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = make_insert(_head).values(id=HEAD_ID, size=0, frontier=b"")
        session.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))
        row = session.execute(query).one()
    return merkle.Frontier.from_bytes(row.size, row.frontier)


def append_entry(session: Session, event: dict[str, object]) -> LedgerEntry:
    """Append one event inside the caller's transaction and return its entry."""
    return append_entries(session, [event])[0]


def append_entries(
    session: Session,
    events: Iterable[dict[str, object]],
    *,
    deferred: bool = False,
    release: Sequence[str | None] | None = None,
) -> list[LedgerEntry]:
    """Append events in order, as one batch, inside the caller's transaction.

    Validation, canonicalisation, salts (format 2; none for public governance events, which
    keep format 1) and leaf hashes are computed here, off the sequencer's critical section,
    and the events are inserted as unsequenced rows (``ledger_unsequenced``). Then:

    - by default the sequencer runs inline (:func:`hub.ledger.sequencer.sequence_pending`):
      the returned entries have their ``index`` at once, and the sequencer lock is held
      until the caller's transaction ends. For rare writes (corrections, erasures, consent,
      governance, the CLI) and for callers that need the index before they commit.
    - ``deferred=True`` (the request hot path): the head is not touched. The returned
      entries are transient, with ``index`` None, until the caller commits; a
      :class:`hub.db.HubSession`'s ``commit()`` then waits for their batch
      (:func:`hub.ledger.settling.settle`) and sets ``index`` before it returns.

    ``release`` gives, per event, what becomes visible when it is sequenced
    (``"disclosure:<id>"``, see :data:`hub.ledger.sequencer.RELEASERS`) or None.
    """
    from hub.ledger import sequencer, settling

    events = list(events)
    blobs = [canonical_entry(event) for event in events]
    if not blobs:
        return []
    releases = list(release) if release is not None else [None] * len(blobs)
    if len(releases) != len(blobs):
        raise ValueError("one release per event")
    sizes = [_salts_size(event) for event in events]
    pool = os.urandom(sum(sizes))
    now = utcnow()
    rows: list[dict[str, object]] = []
    offset = 0
    for blob, size, ref in zip(blobs, sizes, releases, strict=True):
        if not size:
            leaf = merkle.leaf_hash(blob)
            salts = None
        else:
            salts = pool[offset : offset + size]
            offset += size
            leaf = merkle.leaf_hash(salted.stored_leaf_input(blob, salts))
        rows.append(
            {
                "entry": blob,
                "format": 2 if size else 1,
                "salts": salts,
                "leaf_hash": leaf,
                "created_at": now,
                "release": ref,
            }
        )
    ids = _insert_unsequenced(session, rows)
    entries = [  # carriers of the index to come, never added to the session
        built(
            LedgerEntry,
            entry=row["entry"],
            format=row["format"],
            salts=row["salts"],
            leaf_hash=row["leaf_hash"],
            created_at=now,
            pending_id=pending_id,
        )
        for row, pending_id in zip(rows, ids, strict=True)
    ]
    if deferred:
        settling.remember(session, entries)
        return entries
    assigned = sequencer.sequence_pending(session)
    for entry in entries:
        entry.index = assigned[cast(int, entry.pending_id)]
    return entries


def _insert_unsequenced(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert the unsequenced rows in one statement; their ids, in order.

    PostgreSQL: at the driver, one row by a plain INSERT .. RETURNING, more from arrays
    in one INSERT .. SELECT in parameter order. SQLite cannot order a multi-row
    RETURNING (SQLAlchemy would send one INSERT per row), but this transaction holds the
    database write lock (``BEGIN IMMEDIATE``) and the table is AUTOINCREMENT, so the rows
    got consecutive ids ending at ``last_insert_rowid()``.
    """
    if session.get_bind().dialect.name == "postgresql":
        note_write(session)  # constant texts at the driver: the request's hot path
        with pg_cursor(session) as cursor:
            return batch_pg.insert_pending(cursor, rows)
    session.execute(insert(_unsequenced), rows)
    last = int(session.execute(text("SELECT last_insert_rowid()")).scalar_one())
    return list(range(last - len(rows) + 1, last + 1))


def tree_size(session: Session) -> int:
    """The number of entries appended (and committed, as seen by this transaction)."""
    size = session.execute(select(_head.c.size).where(_head.c.id == HEAD_ID)).scalar_one_or_none()
    return size or 0


_current_size = tree_size  # for functions whose ``tree_size`` argument shadows the name


def head_frontier(session: Session) -> merkle.Frontier:
    """The head row's size and right border, read without locking."""
    row = session.execute(
        select(_head.c.size, _head.c.frontier).where(_head.c.id == HEAD_ID)
    ).one_or_none()
    return merkle.Frontier() if row is None else merkle.Frontier.from_bytes(row.size, row.frontier)


def fetch_nodes(session: Session, refs: set[merkle.NodeRef]) -> dict[merkle.NodeRef, bytes]:
    """Read the given subtree hashes (level 0 = leaf hashes) in one round trip."""
    return _fetch(session, refs, with_size=False)[1]


def fetch_nodes_and_size(
    session: Session, refs: set[merkle.NodeRef]
) -> tuple[int, dict[merkle.NodeRef, bytes]]:
    """The head's tree size and the given subtree hashes, in one statement (one round trip).

    Proofs are on the hot path of every receipt and on PostgreSQL their cost is round trips,
    so the size check rides along with the node read; one statement also means one snapshot.
    Missing nodes are reported only after the caller has checked the size (a tree larger
    than the log is missing nodes by definition).
    """
    return _fetch(session, refs, with_size=True)


_NODES_SQL = (
    "SELECT 0, idx, leaf_hash FROM ledger_entries WHERE idx = ANY(%s) UNION ALL "
    "SELECT n.level, n.idx, n.hash FROM unnest(%s::int2[], %s::int8[]) AS r(level, idx) "
    "JOIN ledger_nodes n ON n.level = r.level AND n.idx = r.idx"
)
_HEAD_SQL = f"SELECT -1, size, NULL FROM ledger_head WHERE id = {HEAD_ID} UNION ALL "  # noqa: S608
# PostgreSQL: one statement text whatever the plan's shape (the refs travel as arrays), so
# psycopg prepares it after a few uses and the server stops planning each proof.
_PG_FETCH = {True: _HEAD_SQL + _NODES_SQL, False: _NODES_SQL}


def _fetch(
    session: Session, refs: set[merkle.NodeRef], *, with_size: bool
) -> tuple[int, dict[merkle.NodeRef, bytes]]:
    """Plain SQL on the driver cursor: building the equivalent SQLAlchemy expression costs
    ~10x more than running it. On SQLite one equality per level keeps the primary key in
    use (a row-value IN list makes SQLite scan); PostgreSQL joins the refs, passed as two
    arrays, to the primary key. The head row comes back as level -1."""
    if not refs and not with_size:
        return 0, {}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        leaves = [index for level, index in refs if not level]
        nodes = [(level, index) for level, index in refs if level]
        raw = connection.connection.driver_connection
        with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            cursor.execute(
                _PG_FETCH[with_size],
                (leaves, [level for level, _ in nodes], [index for _, index in nodes]),
            )
            rows = cast(list[tuple[int, int, bytes]], cursor.fetchall())
    else:
        rows = _sqlite_rows(session, refs, with_size)
    size = 0
    found: dict[merkle.NodeRef, bytes] = {}
    for level, index, value in rows:
        if level == -1:
            size = int(index)
        else:
            found[int(level), int(index)] = bytes(value)
    if not with_size:
        _check_complete(refs, found)
    return size, found


def _sqlite_rows(
    session: Session, refs: set[merkle.NodeRef], with_size: bool
) -> list[tuple[int, int, bytes]]:
    by_level: dict[int, list[int]] = {}
    for level, index in refs:
        by_level.setdefault(level, []).append(index)
    parts, params = [], []
    if with_size:
        parts.append(f"SELECT -1, size, NULL FROM ledger_head WHERE id = {HEAD_ID}")  # noqa: S608
    leaves = by_level.pop(0, [])
    if leaves:
        marks = ",".join("?" * len(leaves))
        parts.append(f"SELECT 0, idx, leaf_hash FROM ledger_entries WHERE idx IN ({marks})")  # noqa: S608 - placeholders only
        params.extend(leaves)
    if by_level:
        tests = []
        for level, indexes in by_level.items():
            tests.append(f"(level = ? AND idx IN ({','.join('?' * len(indexes))}))")
            params.extend([level, *indexes])
        parts.append("SELECT level, idx, hash FROM ledger_nodes WHERE " + " OR ".join(tests))  # noqa: S608
    return cast(
        list[tuple[int, int, bytes]],
        raw_rows(session, " UNION ALL ".join(parts), tuple(params)),
    )


def _check_complete(refs: set[merkle.NodeRef], found: dict[merkle.NodeRef, bytes]) -> None:
    missing = refs - found.keys()
    if missing:
        level, index = min(missing, key=lambda ref: ref[1] << ref[0])
        raise CorruptStore(f"subtree (level {level}, index {index}) is missing from the store")


def _check_size(size: int, current: int) -> None:
    if not 0 <= size <= current:
        raise IndexOutOfRange(f"tree size {size} is outside the log (current size {current})")


def _read_plan(
    session: Session, size: int, refs: set[merkle.NodeRef]
) -> dict[merkle.NodeRef, bytes]:
    """Check ``size`` against the head and read ``refs``, in one round trip."""
    current, found = fetch_nodes_and_size(session, refs)
    _check_size(size, current)
    _check_complete(refs, found)
    return found


def root_hash(session: Session, size: int | None = None) -> bytes:
    """The root of the tree of ``size`` entries (default: the current tree)."""
    if size is None:
        return head_frontier(session).root()
    if size < 0:
        _check_size(size, 0)
    plan = merkle.root_plan(size)
    nodes = _read_plan(session, size, set(plan))
    return merkle.fold([nodes[ref] for ref in plan])


def stored_root(session: Session, size: int) -> bytes:
    """The root of ``size`` entries recomputed from stored subtrees (ignores the head row)."""
    plan = merkle.root_plan(size)
    nodes = fetch_nodes(session, set(plan))
    return merkle.fold([nodes[ref] for ref in plan])


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) from stored subtrees."""
    if not 0 <= index < tree_size:
        if tree_size < 0:
            _check_size(tree_size, 0)
        _check_size(tree_size, _current_size(session))
        raise IndexOutOfRange(f"index {index} is not in the tree of size {tree_size}")
    plan = merkle.inclusion_plan(index, tree_size)
    return merkle.resolve(plan, _read_plan(session, tree_size, merkle.plan_refs(plan)))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) from stored subtrees."""
    if not 0 <= first <= second:
        if second < 0:
            _check_size(second, 0)
        _check_size(second, _current_size(session))
        raise IndexOutOfRange(f"no consistency proof from size {first} to size {second}")
    plan = merkle.consistency_plan(first, second)
    return merkle.resolve(plan, _read_plan(session, second, merkle.plan_refs(plan)))


def get_entry(session: Session, index: int) -> LedgerEntry:
    """The entry at ``index``."""
    entry = session.get(LedgerEntry, index)
    if entry is None:
        raise IndexOutOfRange(f"no entry at index {index} (current size {tree_size(session)})")
    return entry


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The checkpoint with the largest tree size, if any was signed."""
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)
    return session.scalars(query).first()


def checkpoint_covering(session: Session, index: int) -> LedgerCheckpoint | None:
    """The smallest checkpoint whose tree contains entry ``index`` (for receipts)."""
    query = (
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.tree_size > index)
        .order_by(LedgerCheckpoint.tree_size)
        .limit(1)
    )
    return session.scalars(query).first()


def stray_entries(session: Session, size: int) -> int:
    """Entries outside ``[0, size)`` (a primary-key range probe, not a table scan)."""
    query = select(func.count()).where(or_(_entries.c.idx < 0, _entries.c.idx >= size))
    return session.execute(query).scalar_one()


def node_count(session: Session) -> int:
    """Rows in the nodes table (verification compares it with what the size implies)."""
    return session.execute(select(func.count()).select_from(_nodes)).scalar_one()


def all_checkpoints(session: Session) -> list[LedgerCheckpoint]:
    """Every checkpoint, smallest tree first."""
    return list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)))


def raw_rows(session: Session, sql: str, params: tuple[int, ...]) -> list[tuple[object, ...]]:
    """Run ``sql`` (``?`` placeholders) on the raw driver cursor, binary on psycopg.

    Verification streams every entry; per-row ORM/Core overhead would cost more than
    hashing them.
    """
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            cursor.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall()  # type: ignore[no-any-return]
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()
