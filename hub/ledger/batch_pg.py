"""The ledger's hot statements on PostgreSQL: constant texts at the driver, pipelined.

A request's unsequenced entries (:func:`insert_pending`) and a sequencer batch's own
statements.

The batch runs while its transaction holds the sequencer lock, so how long it takes bounds
how many batches a second the hub integrates, and it runs on every request that leads.
SQLAlchemy's per-statement work (building, compiling and coercing an expression, setting
up its result) was most of a small batch's CPU; here each statement is a constant text
sent by psycopg. A small batch's writes (entries, subtree hashes, head, audit projection)
go in one pipeline: one round trip instead of four. A large one is written by COPY
(:func:`hub.ledger.sequencer._write`), which a pipeline cannot carry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from hub.ledger.models import HEAD_ID

_LOCK_HEAD = "SELECT size, frontier FROM ledger_head WHERE id = %s FOR UPDATE"

# The oldest pending rows, deleted and returned in one statement.
_TAKE = (
    "DELETE FROM ledger_unsequenced WHERE id IN "
    "(SELECT id FROM ledger_unsequenced ORDER BY id LIMIT %s) "
    "RETURNING id, entry, format, salts, leaf_hash, release"
)
_INSERT_ENTRY = (
    "INSERT INTO ledger_entries (idx, entry, leaf_hash, created_at, format, salts, pending_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_NODE = "INSERT INTO ledger_nodes (level, idx, hash) VALUES (%s, %s, %s)"
_MOVE_HEAD = "UPDATE ledger_head SET size = %s, frontier = %s WHERE id = %s"


class Taken(NamedTuple):
    """A pending row taken by a batch, oldest first."""

    id: int
    entry: bytes
    format: int
    salts: bytes | None
    leaf_hash: bytes
    release: str | None


class Lead(NamedTuple):
    """What a request that got the sequencer lock holds for its batch: the head (locked;
    None if there is no head row yet) and the pending rows it took, oldest first."""

    head: tuple[int, bytes] | None
    rows: list[Taken]


# Try the lock; only if it was got, lock the head and take the oldest pending rows: one
# statement. Its snapshot may predate the commit of the batch that held the lock, which is
# safe: FOR UPDATE returns the head's newest committed version (READ COMMITTED rechecks an
# updated row), and a pending row that batch deleted is skipped by the DELETE (so it is
# taken by no one twice). Not got: the transaction is marked to commit asynchronously
# (:func:`hub.ledger.settling.try_lock`). The first row says which; the rest are taken.
_TRY_LEAD = (
    "WITH lead AS MATERIALIZED (SELECT CASE WHEN pg_try_advisory_xact_lock(%(key)s) THEN true"
    " ELSE set_config('synchronous_commit', 'off', true) IS NULL END AS ok),"
    " head AS (SELECT size, frontier FROM ledger_head"
    " WHERE id = %(head)s AND (SELECT ok FROM lead) FOR UPDATE),"
    " taken AS (DELETE FROM ledger_unsequenced WHERE (SELECT ok FROM lead) AND id IN"
    " (SELECT id FROM ledger_unsequenced ORDER BY id LIMIT %(limit)s)"
    " RETURNING id, entry, format, salts, leaf_hash, release)"
    " SELECT lead.ok, head.size, head.frontier, NULL::bigint, NULL::bytea, NULL::smallint,"
    " NULL::bytea, NULL::bytea, NULL::text FROM lead LEFT JOIN head ON true"
    " UNION ALL SELECT NULL, NULL, NULL, id, entry, format, salts, leaf_hash, release FROM taken"
)


def try_lead(cursor: Any, key: int, limit: int) -> Lead | None:
    """Lead the next batch if the sequencer lock is free (never waits); None if not."""
    cursor.execute(_TRY_LEAD, {"key": key, "head": HEAD_ID, "limit": limit})
    ok, head, rows = False, None, []
    for row in cursor.fetchall():
        if row[3] is None:  # the lock's row
            ok = bool(row[0])
            head = None if row[1] is None else (int(row[1]), bytes(row[2]))
        else:
            rows.append(Taken(*row[3:]))
    if not ok:
        return None
    return Lead(head, sorted(rows, key=lambda row: int(row.id)))


def lock_head(raw: Any) -> tuple[int, bytes] | None:
    """The head row's size and frontier, locked for this transaction (None: no row yet)."""
    with raw.cursor() as cursor:
        cursor.execute(_LOCK_HEAD, (HEAD_ID,))
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), bytes(row[1]))


def take_pending(raw: Any, limit: int) -> list[Taken]:
    """Delete and return the oldest ``limit`` pending rows, oldest first."""
    with raw.cursor() as cursor:
        cursor.execute(_TAKE, (limit,))
        rows = cursor.fetchall()
    return sorted((Taken(*row) for row in rows), key=lambda row: int(row.id))


def write_small(
    raw: Any,
    entries: Sequence[tuple[object, ...]],
    nodes: Sequence[tuple[int, int, bytes]],
    head: tuple[int, bytes, int],
    *,
    then: Callable[[], None],
) -> None:
    """Insert entries and nodes, move the head and run ``then`` (the projection's insert,
    on the same connection) in one pipeline. ``then`` must send at the driver: SQLAlchemy
    cannot read a statement's result in pipeline mode."""
    with raw.pipeline(), raw.cursor() as cursor:
        cursor.executemany(_INSERT_ENTRY, entries)
        if nodes:
            cursor.executemany(_INSERT_NODE, nodes)
        cursor.execute(_MOVE_HEAD, head)
        then()


_PENDING_COLUMNS = ("entry", "format", "salts", "leaf_hash", "created_at", "release")
_INSERT_ONE_PENDING = (
    "INSERT INTO ledger_unsequenced (entry, format, salts, leaf_hash, created_at, release) "
    "VALUES (%(entry)s, %(format)s, %(salts)s, %(leaf_hash)s, %(created_at)s, %(release)s) "
    "RETURNING id"
)
# Any number of rows as six arrays: one statement, one round trip, constant text.
_INSERT_PENDING = (
    "INSERT INTO ledger_unsequenced (entry, format, salts, leaf_hash, created_at, release) "
    "SELECT entry, format, salts, leaf_hash, created_at, release FROM unnest("
    "%s::bytea[], %s::smallint[], %s::bytea[], %s::bytea[], %s::timestamptz[], %s::text[]"
    ") WITH ORDINALITY AS u (entry, format, salts, leaf_hash, created_at, release, n) "
    "ORDER BY n RETURNING id"
)


def insert_pending(cursor: Any, rows: Sequence[dict[str, object]]) -> list[int]:
    """Insert unsequenced rows (dicts of :data:`_PENDING_COLUMNS`); their ids, in order.

    One row by a plain INSERT .. RETURNING; more from arrays in one INSERT .. SELECT in
    parameter order. The ids come from the table's sequence as the rows are inserted, in
    the SELECT's order, so sorted they are the rows' (what SQLAlchemy's insertmanyvalues
    relies on too).
    """
    if len(rows) == 1:
        cursor.execute(_INSERT_ONE_PENDING, rows[0])
        return [int(cursor.fetchone()[0])]
    cursor.execute(_INSERT_PENDING, [[row[c] for row in rows] for c in _PENDING_COLUMNS])
    return sorted(int(row[0]) for row in cursor.fetchall())
