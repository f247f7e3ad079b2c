"""The indexed audit projection: what DPO queries read instead of ledger bodies.

The ledger is the source of truth but its bodies are opaque blobs, so a search over them is a
scan. The projection keeps one row per entry with the DPA 2018 s62 items a DPO filters on
(type, time, actor, agreement, purpose, basis, kind, result) plus two association tables
(recipients and subject commitments), each indexed for the lookups the console makes.

Invariants:

- It is written by :func:`record_entries`, called at the end of
  :func:`hub.ledger.store.append_entries`, so projection rows commit in the same transaction
  as their entries, or not at all.
- It is derived data: :func:`first_mismatch` recomputes it from the entries (``hub log
  verify``) and names the first index whose rows differ. It never holds anything the entry
  does not (no identities: subjects are the entry's own keyed commitments).
- :func:`event_of` is the one place that turns a stored entry back into its event, so a new
  entry format changes one function.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub.db import Base, UTCDateTime
from hub.ledger.models import LedgerEntry

# Results a DPO filters on (Ranger's "result" column): derived, never stored in the entry.
RESULT_SHARED, RESULT_PARTIAL, RESULT_REFUSED = "shared", "partial", "refused"


class AuditEvent(Base):
    """One ledger entry's searchable items (``idx`` is the ledger index)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_type_idx", "type", "idx"),
        Index("ix_audit_events_actor_partner_idx", "actor_partner", "idx"),
        Index("ix_audit_events_agreement_idx", "agreement_id", "agreement_version", "idx"),
        Index("ix_audit_events_purpose_idx", "purpose", "idx"),
        Index("ix_audit_events_time", "time"),
    )

    index: Mapped[int] = mapped_column(
        "idx", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    type: Mapped[str] = mapped_column(String(16))
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_partner: Mapped[str] = mapped_column(String(128))
    actor_user: Mapped[str | None] = mapped_column(String(128), default=None)
    agreement_id: Mapped[str | None] = mapped_column(String(128), default=None)
    agreement_version: Mapped[str | None] = mapped_column(String(128), default=None)
    purpose: Mapped[str | None] = mapped_column(String(64), default=None)
    # Codes joined by single spaces with a space either side, so " CODE " matches one code.
    basis: Mapped[str | None] = mapped_column(String(1100), default=None)
    kind: Mapped[str | None] = mapped_column(String(64), default=None)
    result: Mapped[str | None] = mapped_column(String(16), default=None)
    reasons: Mapped[str | None] = mapped_column(String(4200), default=None)
    ref: Mapped[str | None] = mapped_column(String(128), default=None)
    # The earlier entry a consultation, correction or erasure is about.
    about_entry: Mapped[int | None] = mapped_column(BigInteger, default=None)


class AuditRecipient(Base):
    """A recipient of an entry (primary key by partner first: "what went to X")."""

    __tablename__ = "audit_recipients"
    __table_args__ = (Index("ix_audit_recipients_idx", "idx"),)

    partner: Mapped[str] = mapped_column(String(128), primary_key=True)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)


class AuditSubject(Base):
    """A subject commitment named by an entry (subject access and Art 19 look-ups)."""

    __tablename__ = "audit_subjects"
    __table_args__ = (Index("ix_audit_subjects_idx", "idx"),)

    commitment: Mapped[str] = mapped_column(String(64), primary_key=True)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)


events_table = cast(Table, AuditEvent.__table__)
recipients_table = cast(Table, AuditRecipient.__table__)
subjects_table = cast(Table, AuditSubject.__table__)
PROJECTION_TABLES = (events_table, recipients_table, subjects_table)


@dataclass(frozen=True)
class Rows:
    """The projection rows one entry yields (what is inserted and what verify compares)."""

    event: dict[str, Any]
    recipients: tuple[str, ...]
    subjects: tuple[str, ...]


def event_of(blob: bytes) -> dict[str, Any]:
    """The event a stored entry holds (the one decoder of the entry format)."""
    value = json.loads(blob)
    if not isinstance(value, dict):
        raise ValueError("a ledger entry is not a JSON object")
    return value


def _codes(values: Iterable[str]) -> str | None:
    codes = list(values)
    return " " + " ".join(codes) + " " if codes else None


def _result(event: Mapping[str, Any]) -> str | None:
    if event["type"] == "disclosure":
        return RESULT_PARTIAL if event.get("fields_withheld") else RESULT_SHARED
    if event["type"] == "refusal":
        return RESULT_REFUSED
    return None


def parse_time(text: str) -> dt.datetime:
    """An entry's RFC 3339 ``...Z`` time as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def rows_for(index: int, event: Mapping[str, Any]) -> Rows:
    """The projection of one event. Pure, so the migration back-fill and verify reuse it."""
    actor = event.get("actor") or {}
    agreement = event.get("agreement") or {}
    # Partner, key and agreement events name the partner or parties they concern; those
    # count as "recipients" so an agency DPO's scope and the search by partner find them.
    recipients = list(event.get("recipients") or ())
    if event["type"] in ("partner", "key") and event.get("partner"):
        recipients.append(event["partner"])
    recipients += list(event.get("parties") or ())
    about = event.get("entry")
    row = {
        "idx": index,
        "type": event["type"],
        "time": parse_time(event["time"]),
        "actor_partner": actor.get("partner", ""),
        "actor_user": actor.get("user"),
        "agreement_id": agreement.get("id"),
        "agreement_version": agreement.get("version"),
        "purpose": event.get("purpose"),
        "basis": _codes(event.get("basis") or ()),
        "kind": event.get("kind") or event.get("action"),
        "result": _result(event),
        # Refusals carry reason codes; corrections and erasures one reason (Art 16/17 ground).
        "reasons": _codes(event.get("reasons") or ([event["reason"]] if "reason" in event else [])),
        "ref": event.get("ref") or event.get("correlation"),
        "about_entry": about if isinstance(about, int) else None,
    }
    subjects = tuple(sorted(set(event.get("subjects") or ())))
    return Rows(row, tuple(sorted(set(recipients))), subjects)


EVENT_COLUMNS = (
    "idx", "type", "time", "actor_partner", "actor_user", "agreement_id", "agreement_version",
    "purpose", "basis", "kind", "result", "reasons", "ref", "about_entry",
)  # fmt: skip
# PostgreSQL: the three inserts in one statement (one round trip) from one JSON document,
# so the statement and its one parameter are the same for 1 entry or 10,000 and psycopg
# prepares it after a few uses; encoding one JSON text costs a fraction of what dumping
# eighteen typed arrays did. This sits on every append's path: the ledger's append rate is
# a target (docs/architecture.md).
_COLUMN_LIST = ", ".join(EVENT_COLUMNS)
_PG_INSERT = (  # constant column names and placeholders only: nothing from input
    "WITH p AS (SELECT %s::json AS doc), "  # noqa: S608
    f"e AS (INSERT INTO audit_events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} "
    "FROM p, json_populate_recordset(NULL::audit_events, p.doc -> 'e')), "
    "r AS (INSERT INTO audit_recipients (partner, idx) "
    "SELECT x ->> 0, (x ->> 1)::bigint FROM p, json_array_elements(p.doc -> 'r') AS x) "
    "INSERT INTO audit_subjects (commitment, idx) "
    "SELECT x ->> 0, (x ->> 1)::bigint FROM p, json_array_elements(p.doc -> 's') AS x"
)
_SQLITE_INSERTS = (
    "INSERT INTO audit_events (" + ", ".join(EVENT_COLUMNS) + ") VALUES ("  # noqa: S608
    + ", ".join("?" * len(EVENT_COLUMNS)) + ")",
    "INSERT INTO audit_recipients (partner, idx) VALUES (?, ?)",
    "INSERT INTO audit_subjects (commitment, idx) VALUES (?, ?)",
)


def insert_rows(session: Session, rows: Sequence[Rows]) -> None:
    """Insert projection rows on the session's connection (its transaction), driver-level."""
    if not rows:
        return
    recipients = [(p, r.event["idx"]) for r in rows for p in r.recipients]
    subjects = [(c, r.event["idx"]) for r in rows for c in r.subjects]
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        if len(rows) >= _COPY_FROM:
            _copy_rows(raw, rows, recipients, subjects)
            return
        document = {
            "e": [{**r.event, "time": r.event["time"].isoformat()} for r in rows],
            "r": recipients,
            "s": subjects,
        }
        with raw.cursor() as cursor:
            cursor.execute(_PG_INSERT, (json.dumps(document, separators=(",", ":")),))
        return
    events = [
        tuple(_sqlite_time(r.event[n]) if n == "time" else r.event[n] for n in EVENT_COLUMNS)
        for r in rows
    ]
    cursor = raw.cursor()
    try:
        for sql, values in zip(_SQLITE_INSERTS, (events, recipients, subjects), strict=True):
            if values:
                cursor.executemany(sql, values)
    finally:
        cursor.close()


# From this many entries (a sequencer batch under load) COPY beats the array statement,
# whose parameter encoding grows with the batch; below it one statement is one round trip.
_COPY_FROM = 64


def _copy_rows(
    raw: Any,
    rows: Sequence[Rows],
    recipients: list[tuple[str, int]],
    subjects: list[tuple[str, int]],
) -> None:
    """PostgreSQL ``COPY`` of the three projection tables (a large batch)."""
    with raw.cursor() as cursor:
        events = f"COPY audit_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with cursor.copy(events) as copy:
            for r in rows:
                copy.write_row(tuple(r.event[name] for name in EVENT_COLUMNS))
        for table, column, values in (
            ("audit_recipients", "partner", recipients),
            ("audit_subjects", "commitment", subjects),
        ):
            if values:
                with cursor.copy(f"COPY {table} ({column}, idx) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)


def _sqlite_time(value: dt.datetime) -> str:
    """The text :class:`hub.db.UTCDateTime` stores on SQLite (naive UTC, microseconds)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def record_entries(session: Session, entries: Sequence[LedgerEntry]) -> None:
    """Project freshly appended entries, inside the append's transaction."""
    insert_rows(session, [rows_for(e.index, event_of(e.entry)) for e in entries])


def backfill(session: Session, chunk: int = 5000) -> int:
    """Rebuild the whole projection from the entries (migration and repair). Returns rows."""
    for table in reversed(PROJECTION_TABLES):
        session.execute(delete(table))
    done = 0
    for batch in _entry_chunks(session, 0, chunk):
        insert_rows(session, [rows_for(index, event_of(blob)) for index, blob in batch])
        done += len(batch)
    return done


def _entry_chunks(session: Session, start: int, chunk: int) -> Iterator[list[tuple[int, bytes]]]:
    entries = cast(Table, LedgerEntry.__table__)
    position = start
    while True:
        query = (
            select(entries.c.idx, entries.c.entry)
            .where(entries.c.idx >= position)
            .order_by(entries.c.idx)
            .limit(chunk)
        )
        batch = [(int(i), bytes(b)) for i, b in session.execute(query)]
        if not batch:
            return
        yield batch
        position = batch[-1][0] + 1


def stored_rows(session: Session, first: int, last: int) -> dict[int, Rows]:
    """The projection rows stored for indexes ``first..last`` (verification reads these)."""
    columns = [c.name for c in events_table.columns]
    found: dict[int, dict[str, Any]] = {}
    query = select(events_table).where(events_table.c.idx.between(first, last))
    for row in session.execute(query):
        found[int(row.idx)] = dict(zip(columns, row, strict=True))
    recipients: dict[int, list[str]] = {}
    query_r = select(recipients_table.c.idx, recipients_table.c.partner).where(
        recipients_table.c.idx.between(first, last)
    )
    for index, partner in session.execute(query_r):
        recipients.setdefault(int(index), []).append(partner)
    subjects: dict[int, list[str]] = {}
    query_s = select(subjects_table.c.idx, subjects_table.c.commitment).where(
        subjects_table.c.idx.between(first, last)
    )
    for index, commitment in session.execute(query_s):
        subjects.setdefault(int(index), []).append(commitment)
    return {
        index: Rows(
            row,
            tuple(sorted(recipients.get(index, ()))),
            tuple(sorted(subjects.get(index, ()))),
        )
        for index, row in found.items()
    }


def _same(expected: Rows, stored: Rows) -> bool:
    a, b = dict(expected.event), dict(stored.event)
    return (
        a == b
        and expected.recipients == stored.recipients
        and expected.subjects == stored.subjects
    )


def first_mismatch(
    session: Session, size: int, chunk: int = 5000, start: int = 0
) -> tuple[int, str] | None:
    """Compare the projection with the entries from ``start``; ``(index, reason)`` of the
    first difference.

    Rows outside ``[0, size)`` count too (a projection row with no entry behind it).
    """
    for batch in _entry_chunks(session, start, chunk):
        first, last = batch[0][0], batch[-1][0]
        stored = stored_rows(session, first, last)
        for index, blob in batch:
            have = stored.get(index)
            if have is None:
                return index, "audit projection has no row for this entry"
            if not _same(rows_for(index, event_of(blob)), have):
                return index, "audit projection row does not match the entry"
    for table in PROJECTION_TABLES:
        stray = session.execute(
            select(table.c.idx).where((table.c.idx >= size) | (table.c.idx < 0)).limit(1)
        ).scalar()
        if stray is not None:
            return int(stray), "audit projection holds a row with no ledger entry"
    return None
