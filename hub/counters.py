"""Change counters: a cheap, cross-process "has anything I cached changed?" check.

One row (``change_counters``, id 1) holds two counters and an ``epoch``:

- ``policy`` is bumped by every change to an agreement or partner row (what the live
  policy is built from);
- ``credentials`` by every change to a partner row or an UPDATE/DELETE of an access token
  (revocation, deactivation, purge).

Database triggers do the bumping (migration ``f2a4c6e8b0d3``, PostgreSQL and SQLite), so a
direct ``UPDATE partners`` in psql bites as surely as ``hub sync``; ``hub sync`` also bumps
explicitly. The triggers recreate the row, with a fresh random ``epoch``, if it was removed,
so a counter that restarts never repeats an earlier (epoch, value) pair. Every hub process
reads the row once per request (one primary-key read) and keeps its caches only while the
pair it cached under is still current: no time-based staleness, nothing to broadcast.

A missing row (``None``) means "don't trust any cache": callers then read the rows.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple, cast

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Table, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from hub.db import Base, on_postgres, pg_cursor

ROW_ID = 1


class ChangeCounters(Base):
    """The single row of change counters (see the module docstring)."""

    __tablename__ = "change_counters"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[str] = mapped_column(String(32))
    policy: Mapped[int] = mapped_column(BigInteger, default=1)
    credentials: Mapped[int] = mapped_column(BigInteger, default=1)


class Stamp(NamedTuple):
    """What a cache entry remembers: the epoch and one counter's value."""

    epoch: str
    value: int


class Counters(NamedTuple):
    """The row as read: a stamp for the policy and one for credentials."""

    policy: Stamp
    credentials: Stamp


_MEMO = "hub.counters"
_WROTE = "hub.counters.wrote"
_table = cast(Table, ChangeCounters.__table__)
_SELECT = select(_table.c.epoch, _table.c.policy, _table.c.credentials).where(
    _table.c.id == ROW_ID
)


_PG_SELECT = "SELECT epoch, policy, credentials FROM change_counters WHERE id = %s"


def read(session: Session) -> Counters | None:
    """The counters as this transaction sees them, or ``None`` if the row is missing.

    Every request reads them, so on PostgreSQL it is a constant text at the driver.
    """
    if on_postgres(session):
        with pg_cursor(session) as cursor:
            cursor.execute(_PG_SELECT, (ROW_ID,))
            row = cursor.fetchone()
    else:
        row = session.execute(_SELECT).one_or_none()
    if row is None:
        return None
    epoch, policy, credentials = row
    return Counters(Stamp(epoch, policy), Stamp(epoch, credentials))


def current(session: Session) -> Counters | None:
    """:func:`read`, once per transaction (kept in ``session.info`` until it ends).

    Read it *before* the rows a cache entry is built from: a change committed in between
    then leaves the entry under an older stamp, never a stale entry under a new one. In a
    transaction that has already written, and had not read the counters before, this is
    ``None``: a cache entry built from uncommitted rows under a counter its own trigger
    moved could outlive a rollback.
    """
    if _MEMO in session.info:
        return session.info[_MEMO]  # type: ignore[no-any-return]
    if session.info.get(_WROTE):
        return None
    counters = session.info[_MEMO] = read(session)
    return counters


def note_write(session: Session) -> None:
    """Record that this transaction wrote at the driver (where no ORM event sees it)."""
    session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _wrote_by_flush(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _wrote_by_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_MEMO, None)
    session.info.pop(_WROTE, None)


def bump_policy(session: Session) -> None:
    """Move the policy counter on (``hub sync`` calls it; the triggers do it for edits)."""
    result = session.execute(
        update(_table).where(_table.c.id == ROW_ID).values(policy=_table.c.policy + 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        dialect = session.get_bind().dialect.name
        make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            make_insert(_table)
            .values(id=ROW_ID, epoch=secrets.token_hex(16), policy=1, credentials=1)
            .on_conflict_do_nothing(index_elements=["id"])
        )
