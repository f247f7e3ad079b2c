"""Streaming reads for ``hub log verify``: entries and stored subtree levels in chunks.

Kept apart from :mod:`hub.ledger.store` (appends and proofs) because these reads trade
generality for speed: raw driver cursors, no per-row ORM objects. A reader works on the
session's own connection (:meth:`ChunkReader.for_session`, read by a prefetch thread on
PostgreSQL) or, in a verification worker process, on a read-only connection of its own
(:meth:`ChunkReader.connect` from a picklable :class:`Source`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from hub.ledger.models import LedgerNode

_node_table = cast(Table, LedgerNode.__table__)
Row = tuple[int, bytes, bytes, int, bytes | None]


def _first(row: tuple[Any, ...]) -> int:
    return int(row[0])


@dataclasses.dataclass(frozen=True)
class Source:
    """How a verification worker process opens its own connection to the same database:
    a psycopg connection string (without the password, which travels apart) or the path of
    a SQLite file (opened read-only)."""

    postgres: bool
    dsn: str
    password: str | None = None


def source_of(session: Session) -> Source | None:
    """The session's database as a :class:`Source`, or None if another process cannot open
    it (an in-memory SQLite database)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        info = connection.connection.driver_connection.info  # type: ignore[union-attr]
        return Source(True, info.dsn, info.password)
    database = connection.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Source(False, database)


@dataclasses.dataclass(slots=True)
class Chunk:
    """What verification needs for entries ``[start, stop)``, in index order.

    ``entries`` are the entry bytes and ``leaf_hashes`` the stored leaf hashes concatenated;
    ``formats`` and ``salts`` are each entry's format and salts (``None`` for format 1), or
    both empty when every entry of the chunk is format 1 (the plain hashing loop applies);
    ``levels[level]`` is the concatenation of the stored hashes of the complete subtrees at
    ``level`` inside the chunk. ``complete`` is False when the rows read are not exactly the
    indexes ``[start, stop)`` (missing rows); the caller then takes the exact, slow path.
    """

    start: int
    stop: int
    complete: bool
    entries: list[bytes]
    leaf_hashes: bytes
    levels: dict[int, bytes]
    formats: list[int] = dataclasses.field(default_factory=list)
    salts: list[bytes | None] = dataclasses.field(default_factory=list)


class ChunkReader:
    """Bulk reads for :mod:`hub.ledger.fsck`, straight off the driver connection.

    Moving rows through the driver is most of the cost of verification, so each chunk is
    two statements: the entries (only the columns verification needs) and every level's
    stored subtree hashes, concatenated by the database in index order (PostgreSQL) or read
    as one column (SQLite). The driver connection is taken once, in the caller's thread, so
    :meth:`read` can run in a prefetching thread; callers must not use the session's
    connection concurrently (:mod:`hub.ledger.fsck` serialises with a lock).
    """

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    @classmethod
    def for_session(cls, session: Session) -> ChunkReader:
        """A reader on the session's own connection (taken now, in the caller's thread)."""
        connection = session.connection()
        postgres = connection.dialect.name == "postgresql"
        return cls(connection.connection.driver_connection, postgres)

    @classmethod
    def connect(cls, source: Source) -> ChunkReader:
        """A reader on a new connection of its own (a verification worker process)."""
        if source.postgres:
            import psycopg

            raw = psycopg.connect(source.dsn, password=source.password, autocommit=True)
            return cls(raw, True)
        import sqlite3

        return cls(sqlite3.connect(f"file:{source.dsn}?mode=ro", uri=True), False)

    def close(self) -> None:
        self.raw.close()

    def entries(self, start: int, stop: int) -> list[Row]:
        """Rows ``(index, entry, leaf_hash, format, salts)`` in ``[start, stop)``, by index
        (the slow path that names a missing or altered entry)."""
        sql = (
            "SELECT idx, entry, leaf_hash, format, salts FROM ledger_entries "
            "WHERE idx >= ? AND idx < ?"
        )
        rows: list[Row] = self._rows(sql, (start, stop))  # type: ignore[assignment]
        rows.sort(key=_first)
        return rows

    def nodes(self, level: int, first: int, last: int) -> dict[int, bytes]:
        """Stored subtree hashes at ``level`` with ``first <= index <= last``."""
        sql = "SELECT idx, hash FROM ledger_nodes WHERE level = ? AND idx >= ? AND idx <= ?"
        return {int(i): bytes(h) for i, h in self._rows(sql, (level, first, last))}

    def _rows(self, sql: str, params: tuple[int, ...]) -> list[tuple[Any, ...]]:
        if self.postgres:
            with self.raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
                cursor.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall()  # type: ignore[no-any-return]
        cursor = self.raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()  # type: ignore[no-any-return]
        finally:
            cursor.close()

    def read(self, start: int, stop: int) -> Chunk:
        """Entries, stored leaf hashes and stored subtree levels for ``[start, stop)``.

        ``start`` must be a multiple of a power of two at least ``stop - start`` (verification
        chunks are), so the complete subtrees at ``level`` are indexes
        ``[start >> level, stop >> level)``.
        """
        count = stop - start
        levels = range(1, count.bit_length())
        if self.postgres:
            # No ORDER BY (stale statistics make PostgreSQL sort on disk): the index comes
            # back with each row and is checked; heap order is index order in practice.
            rows = self._rows(
                "SELECT idx, entry, leaf_hash, format, salts FROM ledger_entries "
                "WHERE idx >= ? AND idx < ?",
                (start, stop),
            )
            expected = tuple(range(start, stop))
            columns = _columns(rows, 5)
            if columns[0] != expected:
                rows.sort(key=_first)
                columns = _columns(rows, 5)
            complete = columns[0] == expected
            entries = list(columns[1])
            leaf_hashes = b"".join(columns[2])
            blobs: dict[int, bytes] = {}
            if levels:
                sql = " UNION ALL ".join(
                    f"SELECT {level}, string_agg(hash, ''::bytea ORDER BY idx) FROM ledger_nodes "  # noqa: S608 - integers only
                    f"WHERE level = {level} AND idx >= ? AND idx < ?"
                    for level in levels
                )
                params = tuple(x for level in levels for x in (start >> level, stop >> level))
                blobs = {
                    lv: bytes(b) if b is not None else b"" for lv, b in self._rows(sql, params)
                }
            formats, salts = _formats(columns[3], columns[4])
            return Chunk(start, stop, complete, entries, leaf_hashes, blobs, formats, salts)
        # SQLite: idx is the rowid, so ORDER BY is free and, with the primary key, exactly
        # ``count`` rows in the range means exactly the indexes [start, stop) in order.
        rows = self._rows(
            "SELECT entry, leaf_hash, format, salts FROM ledger_entries "
            "WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, stop),
        )
        columns = _columns(rows, 4)
        entries = list(columns[0])
        leaf_hashes = b"".join(columns[1])
        blobs = {}
        for level in levels:
            hashes = self._rows(
                "SELECT hash FROM ledger_nodes WHERE level = ? AND idx >= ? AND idx < ? "
                "ORDER BY idx",
                (level, start >> level, stop >> level),
            )
            blobs[level] = b"".join([row[0] for row in hashes])
        formats, salts = _formats(columns[2], columns[3])
        return Chunk(start, stop, len(rows) == count, entries, leaf_hashes, blobs, formats, salts)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """The rows transposed into ``width`` columns (one C-level pass, no per-row Python)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _formats(
    formats: tuple[int, ...], salts: tuple[bytes | None, ...]
) -> tuple[list[int], list[bytes | None]]:
    """Formats and salts as lists, or two empty lists if all rows are format 1 without salts
    (counted in C: this runs for every entry)."""
    if formats.count(1) == len(formats) and salts.count(None) == len(salts):
        return [], []
    return list(formats), [None if s is None else bytes(s) for s in salts]


def nodes_at_level(session: Session, level: int, first: int, last: int) -> dict[int, bytes]:
    """Stored subtree hashes at ``level`` with ``first <= index <= last``."""
    query = select(_node_table.c.idx, _node_table.c.hash).where(
        _node_table.c.level == level, _node_table.c.idx >= first, _node_table.c.idx <= last
    )
    return {index: bytes(value) for index, value in session.execute(query)}
