"""What the DPO console records beside the ledger: the SAR register, checks, Art 19 decisions.

None of these tables holds a subject's identity. A subject access request is registered
under the DPO's own case reference; the identifiers typed into the search are turned into
keyed commitments server-side and only the commitments are kept, so the register links a
request to its report without becoming a second store of names.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow

SAR_STATUSES = ("received", "identity_checked", "searching", "completed", "withdrawn")


class SubjectAccessRequest(Base):
    """One Art 15 request in the register, with its ICO due date and any extension."""

    __tablename__ = "subject_access_requests"
    __table_args__ = (Index("ix_subject_access_requests_partner_id", "partner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64))  # the agency answering it
    reference: Mapped[str] = mapped_column(String(64))  # the DPO's own case reference
    received_on: Mapped[dt.date] = mapped_column(Date)
    identity_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on: Mapped[dt.date] = mapped_column(Date)
    extended_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    extension_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    extended_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(20), default="received")
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)  # commitments only
    created_by: Mapped[str] = mapped_column(String(128))  # person pseudonym
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerCheckRun(Base):
    """One run of a ledger check (full verification or checkpoint consistency)."""

    __tablename__ = "ledger_check_runs"
    __table_args__ = (Index("ix_ledger_check_runs_kind_finished_at", "kind", "finished_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # full | consistency
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(500))
    runner: Mapped[str] = mapped_column(String(64))  # worker | cli | console


class NoticeDecision(Base):
    """An Art 19 decision not to notify a recipient ("disproportionate effort"), with why."""

    __tablename__ = "art19_decisions"
    __table_args__ = (UniqueConstraint("entry_index", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_index: Mapped[int] = mapped_column(BigInteger)  # the correction or erasure entry
    recipient: Mapped[str] = mapped_column(String(128))
    decision: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(1000))
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
