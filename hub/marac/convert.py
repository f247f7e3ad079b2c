"""Rows (hub.marac.rows) from the stored models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.marac.models import (
    INCOMPLETE_ACTION_STATUSES,
    Marac,
    MaracAction,
    MaracCase,
    MaracMeeting,
    MaracMeetingCase,
    MaracReferral,
    ResearchRequest,
    StatementSignature,
)
from hub.marac.rows import (
    ActionRow,
    CaseRow,
    MeetingSummary,
    NotShared,
    ResearchRequestRow,
    Signature,
)
from hub.sharing.alerts import REPEAT_WINDOW
from hub.sharing.models import Disclosure


def today() -> dt.date:
    return utcnow().date()


def lapses_on(case: MaracCase) -> dt.date:
    return (case.last_referral_at + REPEAT_WINDOW).date()


def case_row(session: Session, case: MaracCase) -> CaseRow:
    referrals = list(
        session.scalars(select(MaracReferral.repeat).where(MaracReferral.case_id == case.id))
    )
    return CaseRow(
        id=case.id,
        case_number=case.case_number,
        marac_id=case.marac_id,
        children=case.children_in_household,
        first_referral_at=case.first_referral_at,
        last_referral_at=case.last_referral_at,
        referrals=len(referrals),
        repeat=any(referrals),
        lapses_on=lapses_on(case),
    )


def meeting_summary(session: Session, meeting: MaracMeeting) -> MeetingSummary:
    def count(query: object) -> int:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]

    requests = ResearchRequest.__table__.c
    return MeetingSummary(
        id=meeting.id,
        marac_id=meeting.marac_id,
        held_on=meeting.held_on,
        research_due=meeting.research_due,
        status=meeting.status,
        cases=count(
            select(func.count())
            .select_from(MaracMeetingCase)
            .where(MaracMeetingCase.meeting_id == meeting.id)
        ),
        research_sent=count(
            select(func.count())
            .select_from(ResearchRequest)
            .where(requests.meeting_id == meeting.id, requests.status != "refused")
        ),
        research_returned=count(
            select(func.count())
            .select_from(ResearchRequest)
            .where(requests.meeting_id == meeting.id, requests.status == "returned")
        ),
        signatures=count(
            select(func.count())
            .select_from(StatementSignature)
            .where(StatementSignature.meeting_id == meeting.id)
        ),
        open_actions=count(
            select(func.count())
            .select_from(MaracAction)
            .where(
                MaracAction.meeting_id == meeting.id,
                MaracAction.status.in_(INCOMPLETE_ACTION_STATUSES),
            )
        ),
    )


def action_row(case_number: str, action: MaracAction) -> ActionRow:
    return ActionRow(
        id=action.id,
        marac_id=action.marac_id,
        case_id=action.case_id,
        case_number=case_number,
        meeting_id=action.meeting_id,
        owner_agency=action.owner_id,
        text=action.text,
        due=action.due,
        status=action.status,
        reported_on=action.reported_on,
        note=action.note,
        overdue=action.status in INCOMPLETE_ACTION_STATUSES and action.due < today(),
        update_index=action.update_index,
    )


def action_rows(session: Session, actions: Sequence[MaracAction]) -> list[ActionRow]:
    numbers = case_numbers(session, {a.case_id for a in actions})
    return [action_row(numbers[a.case_id], a) for a in actions]


def case_numbers(session: Session, case_ids: set[str]) -> dict[str, str]:
    if not case_ids:
        return {}
    rows = session.execute(
        select(MaracCase.id, MaracCase.case_number).where(MaracCase.id.in_(case_ids))
    )
    return {row.id: row.case_number for row in rows}


def request_row(session: Session, request: ResearchRequest) -> ResearchRequestRow:
    meeting = session.get_one(MaracMeeting, request.meeting_id)
    case = session.get_one(MaracCase, request.case_id)
    marac = session.get_one(Marac, meeting.marac_id)
    kind = next(
        (str(m.get("kind", "core")) for m in marac.members if m["partner"] == request.agency_id),
        "core",
    )
    fields: tuple[str, ...] = ()
    if request.circulation_id:
        circulation = session.get_one(Disclosure, request.circulation_id)
        fields = tuple(circulation.fields_released)
    return ResearchRequestRow(
        id=request.id,
        meeting_id=request.meeting_id,
        marac_id=meeting.marac_id,
        case_id=case.id,
        case_number=case.case_number,
        agency_id=request.agency_id,
        member_kind=kind,
        status=request.status,
        circulation_id=request.circulation_id,
        circulation_index=request.circulation_index,
        refusal_reasons=tuple(request.refusal_reasons or ()),
        research_due=meeting.research_due,
        returned_at=request.returned_at,
        return_id=request.return_id,
        fields=fields,
    )


def not_shared_rows(items: Sequence[dict[str, str]]) -> tuple[NotShared, ...]:
    return tuple(
        NotShared(field=i["field"], reason=i["reason"], detail=i.get("detail", "")) for i in items
    )


def signature_row(signature: StatementSignature) -> Signature:
    return Signature(
        meeting_id=signature.meeting_id,
        partner_id=signature.partner_id,
        signed_by=signature.signed_by,
        signed_at=signature.signed_at,
        statement_digest=signature.statement_digest,
    )
