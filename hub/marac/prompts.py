"""What is overdue for the caller's agency, shown at sign-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.marac import access
from hub.marac.actor import MaracActor
from hub.marac.convert import case_numbers, today
from hub.marac.models import (
    INCOMPLETE_ACTION_STATUSES,
    MaracAction,
    MaracMeeting,
    ResearchRequest,
)
from hub.marac.rows import Prompt


def overdue_prompts(session: Session, who: MaracActor) -> list[Prompt]:
    """Overdue actions of the caller's agency; research it has not returned by the deadline;
    a meeting today its agency has not signed the statement for. A co-ordinator also gets
    every member's research overdue and every unsigned statement for a meeting today."""
    now = today()
    prompts: list[Prompt] = []
    for place in access.places(session, who):
        marac = place.marac
        owners = None if place.is_coordinator else who.partner_id
        query = select(MaracAction).where(
            MaracAction.marac_id == marac.id,
            MaracAction.status.in_(INCOMPLETE_ACTION_STATUSES),
            MaracAction.due < now,
        )
        if owners is not None:
            query = query.where(MaracAction.owner_id == owners)
        overdue = list(session.scalars(query.order_by(MaracAction.due)))
        numbers = case_numbers(session, {a.case_id for a in overdue})
        prompts += [
            Prompt(
                "action_overdue",
                marac.id,
                a.meeting_id,
                numbers[a.case_id],
                a.id,
                a.due,
                a.owner_id,
                f"Action on {numbers[a.case_id]} was due {a.due.isoformat()}.",
            )
            for a in overdue
        ]
        open_meetings = list(
            session.scalars(
                select(MaracMeeting).where(
                    MaracMeeting.marac_id == marac.id, MaracMeeting.status != "held"
                )
            )
        )
        for meeting in open_meetings:
            if meeting.research_due < now:
                prompts += _research_overdue(session, who, place, meeting)
            if meeting.held_on == now:
                prompts += _unsigned(session, who, place, meeting)
    return prompts


def _research_overdue(
    session: Session, who: MaracActor, place: access.Place, meeting: MaracMeeting
) -> list[Prompt]:
    query = select(ResearchRequest).where(
        ResearchRequest.meeting_id == meeting.id, ResearchRequest.status == "delivered"
    )
    if not place.is_coordinator:
        query = query.where(ResearchRequest.agency_id == who.partner_id)
    late = list(session.scalars(query))
    numbers = case_numbers(session, {r.case_id for r in late})
    return [
        Prompt(
            "research_overdue",
            place.marac.id,
            meeting.id,
            numbers[r.case_id],
            r.id,
            meeting.research_due,
            r.agency_id,
            f"Research on {numbers[r.case_id]} for the meeting on "
            f"{meeting.held_on.isoformat()} was due {meeting.research_due.isoformat()}.",
        )
        for r in late
    ]


def _unsigned(
    session: Session, who: MaracActor, place: access.Place, meeting: MaracMeeting
) -> list[Prompt]:
    agencies = (
        [p for p, _ in access.active_members(place.marac)]
        if place.is_coordinator
        else [who.partner_id]
    )
    return [
        Prompt(
            "statement_unsigned",
            place.marac.id,
            meeting.id,
            None,
            None,
            meeting.held_on,
            agency,
            f"The confidentiality statement for today's meeting is not signed by {agency}.",
        )
        for agency in agencies
        if not access.has_signed(session, meeting.id, agency)
    ]
