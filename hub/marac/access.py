"""Who the caller is to a MARAC: its co-ordinator, a member agency, or nobody.

Nobody includes a perpetrator-facing member: for it every MARAC, meeting, case, request and
action is :class:`NotFound`, the same answer as for an id that does not exist, so that the
hub never tells the people working with the person causing harm that a case exists.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.marac.actor import MaracActor
from hub.marac.errors import Forbidden, NotFound, NotSigned
from hub.marac.models import Marac, MaracMeeting, StatementSignature

COORDINATOR, MEMBER = "coordinator", "member"


@dataclasses.dataclass(frozen=True)
class Place:
    """The caller's place in one MARAC."""

    marac: Marac
    role: str  # coordinator | member
    member_kind: str  # core | children_only

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR


def member_entry(marac: Marac, partner_id: str) -> dict[str, Any] | None:
    """The member entry for ``partner_id`` (``None`` if not a member)."""
    return next((m for m in marac.members if m.get("partner") == partner_id), None)


def place_in(marac: Marac, who: MaracActor) -> Place | None:
    """The caller's place, or ``None`` (not a member, perpetrator-facing, MARAC inactive).

    The co-ordinator is a person holding ``marac_coordinator`` at the co-ordinating partner;
    anyone else at a member agency (its other staff, its API client) is a member.
    """
    if not marac.active:
        return None
    entry = member_entry(marac, who.partner_id)
    if entry is None or entry.get("perpetrator_facing", True):
        return None  # fail closed: an entry without the flag is treated as facing
    if who.partner_id == marac.coordinator_id and who.is_coordinator_role:
        return Place(marac, COORDINATOR, "core")
    return Place(marac, MEMBER, str(entry.get("kind", "core")))


def place(session: Session, who: MaracActor, marac_id: str) -> Place:
    """The caller's place in ``marac_id``; NotFound when it has none."""
    marac = session.get(Marac, marac_id)
    found = place_in(marac, who) if marac is not None else None
    if found is None:
        raise NotFound("no such MARAC")
    return found


def coordinator(session: Session, who: MaracActor, marac_id: str) -> Place:
    """The caller's place, which must be the co-ordinator's; members get Forbidden."""
    found = place(session, who, marac_id)
    if not found.is_coordinator:
        raise Forbidden("only the MARAC co-ordinator may do this")
    return found


def places(session: Session, who: MaracActor) -> list[Place]:
    """Every MARAC the caller has a place in, by id."""
    found = (place_in(m, who) for m in session.scalars(select(Marac).order_by(Marac.id)))
    return [p for p in found if p is not None]


def meeting_place(session: Session, who: MaracActor, meeting_id: str) -> tuple[MaracMeeting, Place]:
    """The meeting and the caller's place in its MARAC; NotFound for anyone without one."""
    meeting = session.get(MaracMeeting, meeting_id)
    if meeting is None:
        raise NotFound("no such MARAC meeting")
    try:
        return meeting, place(session, who, meeting.marac_id)
    except NotFound:
        raise NotFound("no such MARAC meeting") from None


def has_signed(session: Session, meeting_id: str, partner_id: str) -> bool:
    return (
        session.scalar(
            select(StatementSignature.id).where(
                StatementSignature.meeting_id == meeting_id,
                StatementSignature.partner_id == partner_id,
            )
        )
        is not None
    )


def require_signed(session: Session, meeting_id: str, who: MaracActor) -> None:
    """NotSigned until the caller's agency signed the meeting's confidentiality statement."""
    if not has_signed(session, meeting_id, who.partner_id):
        raise NotSigned(meeting_id)


def active_members(marac: Marac) -> list[tuple[str, str]]:
    """(partner, kind) of every member the hub may send to: never a perpetrator-facing one."""
    return [
        (str(m["partner"]), str(m.get("kind", "core")))
        for m in marac.members
        if not m.get("perpetrator_facing", True)
    ]
