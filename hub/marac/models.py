"""What the hub keeps to run a MARAC: the MARACs, cases, meetings, research, statements, actions.

No personal data in clear here: a case holds the victim's subject commitments (HMAC) and
links to the referrals (``Disclosure`` ids), whose payloads stay sealed. Research going out
and coming back is itself a disclosure; these rows only say which one answered what. Action
text is written by the co-ordinator as an instruction to an agency ("share the risk
assessment with housing"), never with a name in it (the console and API say so).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow
from hub.sharing.models import new_id

MEMBER_KINDS = ("core", "children_only")
MEETING_STATUSES = ("planned", "in_progress", "held")
REQUEST_STATUSES = ("delivered", "refused", "returned")
ACTION_STATUSES = ("open", "done", "not_done", "circumstances_changed")
INCOMPLETE_ACTION_STATUSES = ("open", "not_done", "circumstances_changed")


class Marac(Base):
    """A MARAC as declared in ``policies/maracs/<id>.toml`` and loaded by ``hub sync``.

    ``members``: ``[{"partner": id, "kind": "core" | "children_only"}]`` (the co-ordinating
    partner is a member too). ``purposes``: the purpose of each step, keys ``referral``,
    ``circulation``, ``research_return``, ``action_update`` (``referral`` may be a list).
    """

    __tablename__ = "maracs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    coordinator_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    case_prefix: Mapped[str] = mapped_column(String(8))
    agreement_ids: Mapped[list[str]] = mapped_column(JSON)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    purposes: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaracCase(Base):
    """One victim at one MARAC; known by its case number, never by name."""

    __tablename__ = "marac_cases"
    __table_args__ = (
        UniqueConstraint("marac_id", "case_number"),
        Index("ix_marac_cases_marac_id_last_referral_at", "marac_id", "last_referral_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    marac_id: Mapped[str] = mapped_column(ForeignKey("maracs.id"))
    case_number: Mapped[str] = mapped_column(String(30))
    subjects: Mapped[list[str]] = mapped_column(JSON)  # the victim's HMAC commitments
    children_in_household: Mapped[bool] = mapped_column(Boolean, default=False)
    first_referral_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_referral_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaracReferral(Base):
    """A referral or alert received by the co-ordinator that opened or re-opened a case."""

    __tablename__ = "marac_referrals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("marac_cases.id"), index=True)
    disclosure_id: Mapped[str] = mapped_column(ForeignKey("disclosures.id"), unique=True)
    from_partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    criteria: Mapped[list[str]] = mapped_column(JSON)  # marac_criterion codes
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | listed | heard


class MaracMeeting(Base):
    """A meeting on the MARAC's calendar."""

    __tablename__ = "marac_meetings"
    __table_args__ = (Index("ix_marac_meetings_marac_id_held_on", "marac_id", "held_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    marac_id: Mapped[str] = mapped_column(ForeignKey("maracs.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    research_due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    circulated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaracMeetingCase(Base):
    """A case listed for a meeting."""

    __tablename__ = "marac_meeting_cases"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    meeting_id: Mapped[str] = mapped_column(ForeignKey("marac_meetings.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("marac_cases.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResearchRequest(Base):
    """One case circulated to one member agency for one meeting, and its return."""

    __tablename__ = "marac_research_requests"
    __table_args__ = (
        UniqueConstraint("meeting_id", "case_id", "agency_id"),
        Index("ix_marac_research_requests_agency_id", "agency_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("marac_meetings.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("marac_cases.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    status: Mapped[str] = mapped_column(String(16))  # delivered | refused | returned
    circulation_id: Mapped[str | None] = mapped_column(ForeignKey("disclosures.id"))
    circulation_index: Mapped[int] = mapped_column(BigInteger)
    refusal_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    return_id: Mapped[str | None] = mapped_column(ForeignKey("disclosures.id"), default=None)
    return_index: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # What the agency did not share: [{field, reason (code), detail (short text)}].
    not_shared: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementSignature(Base):
    """An agency's signature of a meeting's confidentiality statement."""

    __tablename__ = "marac_statement_signatures"
    __table_args__ = (UniqueConstraint("meeting_id", "partner_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    meeting_id: Mapped[str] = mapped_column(ForeignKey("marac_meetings.id"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    signed_by: Mapped[str] = mapped_column(String(128))  # person pseudonym or client id
    statement_digest: Mapped[str] = mapped_column(String(71))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaracAction(Base):
    """An action agreed at a meeting for one agency; carried until it is done."""

    __tablename__ = "marac_actions"
    __table_args__ = (Index("ix_marac_actions_owner_id_status", "owner_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    marac_id: Mapped[str] = mapped_column(ForeignKey("maracs.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("marac_cases.id"), index=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("marac_meetings.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), default="open")
    note: Mapped[str | None] = mapped_column(Text, default=None)
    reported_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # The latest update's disclosure (owner -> co-ordinator) and its ledger index.
    update_id: Mapped[str | None] = mapped_column(ForeignKey("disclosures.id"), default=None)
    update_index: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
