"""The case view and the meeting pack: each contribution as the caller may see it.

The co-ordinator sees the referrals it received and every research return and action
report sent to it; a member agency sees what was circulated to it and what it returned
itself. Values are decrypted only for those disclosures, and each one read is a
consultation entry (who looked, at which disclosure, for what purpose). Fact is shown apart
from opinion: a released field the catalogue marks ``opinion`` (DASH, MARAC criterion,
professional judgement, risk level) goes in the ``opinion`` block.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.marac import access, audit, calendar
from hub.marac.actor import MaracActor
from hub.marac.convert import action_rows, meeting_summary, not_shared_rows, signature_row
from hub.marac.errors import NotFound
from hub.marac.models import (
    MaracAction,
    MaracCase,
    MaracMeeting,
    MaracMeetingCase,
    MaracReferral,
    ResearchRequest,
    StatementSignature,
)
from hub.marac.rows import CaseView, Contribution, MeetingPack, NotShared
from hub.marac.statement import STATEMENT_TEXT
from hub.sharing.context import SharingContext
from hub.sharing.models import Disclosure
from hub.sharing.views import released_data

MARKING = "OFFICIAL-SENSITIVE"


def case_view(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    case_id: str,
    meeting_id: str | None = None,
) -> CaseView:
    """The case with each contribution the caller may see, fact apart from opinion.

    On a meeting (``meeting_id``, else the latest meeting the case is listed on) the
    caller's agency must have signed that meeting's statement (NotSigned). A member may
    open only a case circulated to it; the co-ordinator may open any case of its MARAC,
    also before it is listed.
    """
    case, place, meeting = _case_place(session, who, case_id, meeting_id)
    view = _case_view(session, ctx, who, case, place, meeting, audit.CASE_VIEW)
    session.commit()
    return view


def _case_place(
    session: Session, who: MaracActor, case_id: str, meeting_id: str | None
) -> tuple[MaracCase, access.Place, MaracMeeting | None]:
    case = session.get(MaracCase, case_id)
    if case is None:
        raise NotFound("no such MARAC case")
    try:
        place = access.place(session, who, case.marac_id)
    except NotFound:
        raise NotFound("no such MARAC case") from None
    meeting = _meeting_of(session, case, meeting_id)
    if meeting is None and not place.is_coordinator:
        raise NotFound("no such MARAC case")
    if meeting is not None:
        if case not in calendar.visible_cases(session, who, meeting, place):
            raise NotFound("no such MARAC case")
        access.require_signed(session, meeting.id, who)
    return case, place, meeting


def _meeting_of(session: Session, case: MaracCase, meeting_id: str | None) -> MaracMeeting | None:
    query = (
        select(MaracMeeting)
        .join(MaracMeetingCase, MaracMeetingCase.meeting_id == MaracMeeting.id)
        .where(MaracMeetingCase.case_id == case.id)
    )
    if meeting_id is not None:
        found = session.scalar(query.where(MaracMeeting.id == meeting_id))
        if found is None:
            raise NotFound("no such MARAC case")
        return found
    return session.scalar(query.order_by(MaracMeeting.held_on.desc()).limit(1))


def _case_view(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    case: MaracCase,
    place: access.Place,
    meeting: MaracMeeting | None,
    purpose: str,
) -> CaseView:
    disclosures = _disclosures(session, who, case, place)
    not_shared = _not_shared(session, case)
    contributions = [_contribution(ctx, d, place, not_shared.get(d.id, ())) for d in disclosures]
    indexes = audit.record_reads(session, who, purpose, disclosures)
    if not indexes:
        indexes = [audit.record_view(session, who, purpose, subjects=case.subjects)]
    action_query = select(MaracAction).where(MaracAction.case_id == case.id)
    if not place.is_coordinator:
        action_query = action_query.where(MaracAction.owner_id == who.partner_id)
    actions = action_rows(session, list(session.scalars(action_query.order_by(MaracAction.due))))
    referrals = list(
        session.scalars(select(MaracReferral.repeat).where(MaracReferral.case_id == case.id))
    )
    return CaseView(
        id=case.id,
        case_number=case.case_number,
        marac_id=case.marac_id,
        children=case.children_in_household,
        repeat=any(referrals),
        first_referral_at=case.first_referral_at,
        last_referral_at=case.last_referral_at,
        contributions=tuple(contributions),
        actions=tuple(actions),
        ledger_index=indexes[-1],
    )


def _disclosures(
    session: Session, who: MaracActor, case: MaracCase, place: access.Place
) -> list[Disclosure]:
    """The case's disclosures the caller is a party to and may read."""
    marac = place.marac
    referral_ids = select(MaracReferral.disclosure_id).where(MaracReferral.case_id == case.id)
    requests = ResearchRequest.__table__.c
    circulated = select(requests.circulation_id).where(
        requests.case_id == case.id, requests.circulation_id.is_not(None)
    )
    returned = select(requests.return_id).where(
        requests.case_id == case.id, requests.return_id.is_not(None)
    )
    updates = select(MaracAction.update_id).where(
        MaracAction.case_id == case.id, MaracAction.update_id.is_not(None)
    )
    query = select(Disclosure).where(Disclosure.ledger_index.is_not(None))  # released only
    if place.is_coordinator:
        query = query.where(
            Disclosure.recipient_id == marac.coordinator_id,
            or_(
                Disclosure.id.in_(referral_ids),
                Disclosure.id.in_(returned),
                Disclosure.id.in_(updates),
            ),
        )
    else:
        query = query.where(
            or_(
                Disclosure.id.in_(circulated) & (Disclosure.recipient_id == who.partner_id),
                (Disclosure.id.in_(returned) | Disclosure.id.in_(updates))
                & (Disclosure.sender_id == who.partner_id),
            )
        )
    return list(session.scalars(query.order_by(Disclosure.created_at, Disclosure.id)))


def _not_shared(session: Session, case: MaracCase) -> dict[str, tuple[NotShared, ...]]:
    rows = session.scalars(
        select(ResearchRequest).where(
            ResearchRequest.case_id == case.id, ResearchRequest.return_id.is_not(None)
        )
    )
    return {str(r.return_id): not_shared_rows(r.not_shared or []) for r in rows}


def _step(disclosure: Disclosure, place: access.Place) -> str:
    purposes = place.marac.purposes
    if disclosure.purpose == purposes.get("research_return"):
        return "research_return"
    if disclosure.purpose == purposes.get("action_update"):
        return "action_update"
    if disclosure.purpose == purposes.get("circulation"):
        return "circulation"
    return "referral"


def _contribution(
    ctx: SharingContext,
    disclosure: Disclosure,
    place: access.Place,
    not_shared: tuple[NotShared, ...],
) -> Contribution:
    if disclosure.ledger_index is None:  # MARAC steps are sequenced as they are recorded
        raise RuntimeError("a MARAC contribution must be a released disclosure")
    values = released_data(ctx.master_key, disclosure) or {}
    specs = ctx.catalogues.fields
    opinion = {k: v for k, v in values.items() if k in specs and specs[k].opinion}
    fact = {k: v for k, v in values.items() if k not in opinion}
    return Contribution(
        step=_step(disclosure, place),
        agency_id=disclosure.sender_id,
        disclosure_id=disclosure.id,
        received_at=disclosure.created_at,
        agreement_id=disclosure.agreement_id,
        agreement_version=disclosure.agreement_version,
        basis=tuple(disclosure.basis),
        released=tuple(disclosure.fields_released),
        withheld=tuple((w["field"], w["reason"]) for w in disclosure.fields_withheld),
        not_shared=not_shared,
        fact=fact,
        opinion=opinion,
        ledger_index=disclosure.ledger_index,
        erased=disclosure.erased_at is not None,
    )


def meeting_pack(
    session: Session, ctx: SharingContext, who: MaracActor, meeting_id: str
) -> MeetingPack:
    """Statement, signatures, agenda, per-case research as ``who`` may see it, actions.

    NotSigned until the caller's agency signed; the export is a consultation entry (one per
    disclosure read, purpose ``marac_pack_export``).
    """
    meeting, place = access.meeting_place(session, who, meeting_id)
    access.require_signed(session, meeting.id, who)
    agenda = calendar.agenda(session, who, meeting.id)
    cases = [
        _case_view(session, ctx, who, case, place, meeting, audit.PACK_EXPORT)
        for case in calendar.visible_cases(session, who, meeting, place)
    ]
    action_query = select(MaracAction).where(MaracAction.meeting_id == meeting.id)
    if not place.is_coordinator:
        action_query = action_query.where(MaracAction.owner_id == who.partner_id)
    actions = action_rows(session, list(session.scalars(action_query.order_by(MaracAction.due))))
    signed = session.scalars(
        select(StatementSignature)
        .where(StatementSignature.meeting_id == meeting.id)
        .order_by(StatementSignature.signed_at, StatementSignature.id)
    )
    index = audit.record_view(session, who, audit.PACK_EXPORT)
    pack = MeetingPack(
        marac_id=place.marac.id,
        marac_name=place.marac.name,
        meeting=meeting_summary(session, meeting),
        marking=MARKING,
        statement_text=STATEMENT_TEXT,
        signatures=tuple(signature_row(s) for s in signed),
        agenda=agenda,
        cases=tuple(cases),
        actions=tuple(actions),
        generated_at=utcnow(),
        ledger_index=index,
    )
    session.commit()
    return pack


def research_case(
    session: Session, ctx: SharingContext, who: MaracActor, request_id: str
) -> Contribution:
    """What was circulated to the caller's agency for one research request, to research.

    The agency's own inbox item, so the statement is not needed to read it (it is needed to
    open the meeting's case list and case pages). A consultation entry, purpose
    ``marac_research_view``. Anyone but the agency it was sent to gets NotFound.
    """
    from hub.marac.research import request_for

    request = request_for(session, who, request_id, own=True)
    meeting = session.get_one(MaracMeeting, request.meeting_id)
    place = access.place(session, who, meeting.marac_id)
    disclosure = session.get_one(Disclosure, request.circulation_id)
    contribution = _contribution(ctx, disclosure, place, ())
    audit.record_reads(session, who, audit.RESEARCH_VIEW, [disclosure])
    session.commit()
    return contribution
