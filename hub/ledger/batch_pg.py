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
