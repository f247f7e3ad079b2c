"""MARACs, their meetings, the confidentiality statement and the agenda (SafeLives order)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.marac import access, audit
from hub.marac.actor import MaracActor
from hub.marac.convert import action_rows, case_row, lapses_on, meeting_summary, signature_row
from hub.marac.errors import Invalid, NotFound
from hub.marac.intake import list_case
from hub.marac.models import (
    INCOMPLETE_ACTION_STATUSES,
    MaracAction,
    MaracCase,
    MaracMeeting,
    MaracMeetingCase,
    MaracReferral,
    ResearchRequest,
    StatementSignature,
)
from hub.marac.rows import Agenda, CaseRow, MaracSummary, MeetingSummary, Signature
from hub.marac.statement import statement_digest

# SafeLives: research is returned ahead of the meeting so the chair can prepare.
RESEARCH_DAYS_BEFORE = 3
# A notice of a lapsed case goes on the first meeting after its 12 months ran out.
NOTICE_WINDOW = dt.timedelta(days=31)


def maracs_for(session: Session, who: MaracActor) -> list[MaracSummary]:
    """The MARACs the caller's agency co-ordinates or sits on (none if perpetrator-facing)."""
    return [
        MaracSummary(
            id=p.marac.id,
            name=p.marac.name,
            coordinator_id=p.marac.coordinator_id,
            role=p.role,
            member_kind=p.member_kind,
            agreement_ids=tuple(p.marac.agreement_ids),
            members=tuple(
                (
                    str(m["partner"]),
                    "perpetrator_facing"
                    if m.get("perpetrator_facing", True)
                    else str(m.get("kind", "core")),
                )
                for m in p.marac.members
            ),
        )
        for p in access.places(session, who)
    ]


def meetings(session: Session, who: MaracActor, marac_id: str) -> list[MeetingSummary]:
    """The MARAC's calendar, soonest first: date, status and counts."""
    access.place(session, who, marac_id)
    rows = session.scalars(
        select(MaracMeeting)
        .where(MaracMeeting.marac_id == marac_id)
        .order_by(MaracMeeting.held_on, MaracMeeting.id)
    )
    return [meeting_summary(session, m) for m in rows]


def meeting(session: Session, who: MaracActor, meeting_id: str) -> MeetingSummary:
    """One meeting of a MARAC the caller has a place in."""
    found, _ = access.meeting_place(session, who, meeting_id)
    return meeting_summary(session, found)


def create_meeting(
    session: Session, who: MaracActor, marac_id: str, held_on: dt.date
) -> MeetingSummary:
    """Put a meeting on the calendar (co-ordinator only) and list every waiting case on it.

    Waiting: a case with a referral not yet listed for any meeting. Research is due
    three days before the meeting.
    """
    access.coordinator(session, who, marac_id)
    clash = session.scalar(
        select(MaracMeeting.id).where(
            MaracMeeting.marac_id == marac_id, MaracMeeting.held_on == held_on
        )
    )
    if clash is not None:
        raise Invalid("This MARAC already meets on that day.", "#/held_on", "duplicate")
    created = MaracMeeting(
        marac_id=marac_id,
        held_on=held_on,
        research_due=held_on - dt.timedelta(days=RESEARCH_DAYS_BEFORE),
        status="planned",
    )
    session.add(created)
    session.flush()
    waiting = session.scalars(
        select(MaracReferral)
        .join(MaracCase, MaracCase.id == MaracReferral.case_id)
        .where(MaracCase.marac_id == marac_id, MaracReferral.status == "new")
    )
    for referral in waiting:
        list_case(session, created.id, referral.case_id)
        referral.status = "listed"
    session.commit()
    return meeting_summary(session, created)


def add_case_to_meeting(session: Session, who: MaracActor, meeting_id: str, case_id: str) -> None:
    """List a case of the MARAC for a meeting not yet held (co-ordinator only)."""
    found, place = access.meeting_place(session, who, meeting_id)
    access.coordinator(session, who, place.marac.id)
    case = session.get(MaracCase, case_id)
    if case is None or case.marac_id != found.marac_id:
        raise NotFound("no such MARAC case")
    if found.status == "held":
        raise Invalid(
            "The meeting has been held; list the case for a later one.",
            "#/meeting_id",
            "meeting_held",
        )
    list_case(session, found.id, case.id)
    for referral in session.scalars(
        select(MaracReferral).where(MaracReferral.case_id == case.id, MaracReferral.status == "new")
    ):
        referral.status = "listed"
    session.commit()


def finish_meeting(session: Session, who: MaracActor, meeting_id: str) -> MeetingSummary:
    """Mark the meeting held (co-ordinator only): its referrals are heard; open actions carry."""
    found, place = access.meeting_place(session, who, meeting_id)
    access.coordinator(session, who, place.marac.id)
    found.status = "held"
    listed = select(MaracMeetingCase.case_id).where(MaracMeetingCase.meeting_id == found.id)
    for referral in session.scalars(
        select(MaracReferral).where(
            MaracReferral.case_id.in_(listed), MaracReferral.status == "listed"
        )
    ):
        referral.status = "heard"
    session.commit()
    return meeting_summary(session, found)


def sign_statement(session: Session, who: MaracActor, meeting_id: str) -> Signature:
    """Sign the meeting's confidentiality statement for the caller's agency (idempotent)."""
    found, _ = access.meeting_place(session, who, meeting_id)
    existing = session.scalar(
        select(StatementSignature).where(
            StatementSignature.meeting_id == found.id,
            StatementSignature.partner_id == who.partner_id,
        )
    )
    if existing is not None:
        return signature_row(existing)
    signature = StatementSignature(
        meeting_id=found.id,
        partner_id=who.partner_id,
        signed_by=who.signer,
        statement_digest=statement_digest(),
    )
    session.add(signature)
    session.commit()
    return signature_row(signature)


def signatures(session: Session, who: MaracActor, meeting_id: str) -> list[Signature]:
    """Which agencies have signed the meeting's statement, in order of signing."""
    found, _ = access.meeting_place(session, who, meeting_id)
    rows = session.scalars(
        select(StatementSignature)
        .where(StatementSignature.meeting_id == found.id)
        .order_by(StatementSignature.signed_at, StatementSignature.id)
    )
    return [signature_row(s) for s in rows]


def visible_cases(
    session: Session, who: MaracActor, meeting: MaracMeeting, place: access.Place
) -> list[MaracCase]:
    """The meeting's cases the caller may know of: all for the co-ordinator; for a member,
    those circulated to it (a children-only member gets only cases with children)."""
    listed = select(MaracMeetingCase.case_id).where(MaracMeetingCase.meeting_id == meeting.id)
    query = select(MaracCase).where(MaracCase.id.in_(listed))
    if not place.is_coordinator:
        delivered = select(ResearchRequest.case_id).where(
            ResearchRequest.meeting_id == meeting.id,
            ResearchRequest.agency_id == who.partner_id,
            ResearchRequest.status != "refused",
        )
        query = query.where(MaracCase.id.in_(delivered))
        if place.member_kind == "children_only":
            query = query.where(MaracCase.children_in_household.is_(True))
    return list(session.scalars(query.order_by(MaracCase.case_number)))


def agenda(session: Session, who: MaracActor, meeting_id: str) -> Agenda:
    """The agenda in SafeLives order; NotSigned until the agency signed; a consultation.

    1. incomplete actions carried from earlier meetings (open, not done, circumstances
       changed); 2. cases with children in the household; 3. adult-only cases; 4. notices of
       cases whose 12 months since the last referral ran out in the month before the meeting.
    A member sees only the cases circulated to it and only its own carried actions.
    """
    found, place = access.meeting_place(session, who, meeting_id)
    access.require_signed(session, found.id, who)
    cases = [case_row(session, c) for c in visible_cases(session, who, found, place)]
    earlier = select(MaracMeeting.id).where(
        MaracMeeting.marac_id == found.marac_id, MaracMeeting.held_on < found.held_on
    )
    carried_query = select(MaracAction).where(
        MaracAction.meeting_id.in_(earlier),
        MaracAction.status.in_(INCOMPLETE_ACTION_STATUSES),
    )
    if not place.is_coordinator:
        carried_query = carried_query.where(MaracAction.owner_id == who.partner_id)
    carried = action_rows(
        session, list(session.scalars(carried_query.order_by(MaracAction.due, MaracAction.id)))
    )
    notices = _notices(session, found) if place.is_coordinator else []
    index = audit.record_view(session, who, audit.AGENDA_VIEW)
    session.commit()
    return Agenda(
        meeting_id=found.id,
        marac_id=found.marac_id,
        held_on=found.held_on,
        carried_actions=tuple(carried),
        children_cases=tuple(c for c in cases if c.children),
        adult_cases=tuple(c for c in cases if not c.children),
        notices=tuple(notices),
        ledger_index=index,
    )


def _notices(session: Session, meeting: MaracMeeting) -> list[CaseRow]:
    cases = session.scalars(select(MaracCase).where(MaracCase.marac_id == meeting.marac_id))
    start = meeting.held_on - NOTICE_WINDOW
    return sorted(
        (case_row(session, c) for c in cases if start < lapses_on(c) <= meeting.held_on),
        key=lambda c: c.case_number,
    )
