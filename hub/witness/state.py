"""A witness's own state: the latest checkpoint it cosigned per log, in one SQLite file.

Never the hub's database: a witness is run by a partner, on its own machine. The check of
the old size and the write of the new checkpoint happen in one ``BEGIN IMMEDIATE``
transaction (tlog-witness: otherwise two concurrent requests could roll the log back), and
the cosignature is made inside it, so the state and the answer never disagree.

Refused checkpoints that carry a valid log signature are kept in ``evidence``: a signed
checkpoint inconsistent with one cosigned before is proof the log forked its history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS latest (
        origin TEXT PRIMARY KEY,
        size INTEGER NOT NULL CHECK (size >= 0),
        root BLOB NOT NULL,
        note TEXT NOT NULL,
        cosigned_at INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS evidence (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        origin TEXT NOT NULL,
        old_size INTEGER NOT NULL,
        size INTEGER NOT NULL,
        note TEXT NOT NULL,
        reason TEXT NOT NULL,
        received_at INTEGER NOT NULL
    )""",
)
# Evidence is bounded: a misbehaving client cannot fill the witness's disk.
MAX_EVIDENCE = 10_000


@dataclasses.dataclass(frozen=True)
class Latest:
    """The latest checkpoint cosigned for one origin (note includes the cosignature)."""

    origin: str
    size: int
    root: bytes
    note: str
    cosigned_at: int


@dataclasses.dataclass(frozen=True)
class Evidence:
    """A validly signed checkpoint the witness refused, and why."""

    origin: str
    old_size: int
    size: int
    note: str
    reason: str
    received_at: int


class WitnessState:
    """The state file; each method opens its own short connection (safe across threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            for statement in SCHEMA:
                connection.execute(statement)
        self.path.chmod(0o600)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            yield connection
        finally:
            connection.close()

    def latest(self, origin: str) -> Latest | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT origin, size, root, note, cosigned_at FROM latest WHERE origin = ?",
                (origin,),
            ).fetchone()
        return None if row is None else Latest(row[0], row[1], bytes(row[2]), row[3], row[4])

    @contextlib.contextmanager
    def update(self, origin: str) -> Iterator[Transaction]:
        """One exclusive transaction over ``origin``'s record: read, decide, maybe write.

        Commits if the block ends normally, rolls back if it raises.
        """
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(connection, origin)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def record_evidence(self, evidence: Evidence) -> None:
        with self._connect() as connection:
            (count,) = connection.execute("SELECT count(*) FROM evidence").fetchone()
            if count >= MAX_EVIDENCE:
                return
            connection.execute(
                "INSERT INTO evidence (origin, old_size, size, note, reason, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                dataclasses.astuple(evidence),
            )

    def evidence(self) -> list[Evidence]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT origin, old_size, size, note, reason, received_at FROM evidence "
                "ORDER BY id"
            ).fetchall()
        return [Evidence(*row) for row in rows]


@dataclasses.dataclass
class Transaction:
    """The record of one origin inside :meth:`WitnessState.update`."""

    connection: sqlite3.Connection
    origin: str

    def current(self) -> Latest | None:
        row = self.connection.execute(
            "SELECT origin, size, root, note, cosigned_at FROM latest WHERE origin = ?",
            (self.origin,),
        ).fetchone()
        return None if row is None else Latest(row[0], row[1], bytes(row[2]), row[3], row[4])

    def store(
        self, size: int, root: bytes, note: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.connection.execute(
            "INSERT INTO latest (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (self.origin, size, root, note, int(clock())),
        )
