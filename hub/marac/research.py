"""The research list going out, and each agency's research coming back: both disclosures.

Circulation: for each case listed on a meeting, the co-ordinator's latest referral values
(as it received them) plus the case number are decided by ``decide()`` for each member
agency under the MARAC agreement's circulation flow and recorded with ``record_all``: each
agency receives only what its flow releases; with no flow, a refusal is recorded and
nothing is sent. A children-only member is sent only cases with children in the household;
a perpetrator-facing member is never asked at all (not even a refusal names it).

Return: the agency's fields, decided under its return flow to the co-ordinator, recorded the
same way; what it did not share is kept with the request as (field, reason code, short
text), shown to the co-ordinator and never put on the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.agreements.services import live_policy
from hub.db import utcnow
from hub.errors import Conflict
from hub.marac import access
from hub.marac.actor import MaracActor
from hub.marac.convert import request_row
from hub.marac.errors import Invalid, NotFound
from hub.marac.models import (
    MaracCase,
    MaracMeeting,
    MaracMeetingCase,
    MaracReferral,
    ResearchRequest,
)
from hub.marac.rows import NOT_SHARED_REASONS, NotShared, ResearchRequestRow, ResearchReturnRow
from hub.sharing.context import SharingContext
from hub.sharing.disclosures import Pending, record_all
from hub.sharing.models import Disclosure
from hub.sharing.referrals import decide_message
from hub.sharing.views import released_data

MARAC_KIND = "marac"  # Disclosure.kind of every MARAC step (the purpose says which)
# MARAC sharing is without consent where seeking it would put the victim at risk.
UNSAFE = {"state": "not_sought", "reason": "unsafe"}
MAX_DETAIL = 200


def circulate_research(
    session: Session, ctx: SharingContext, who: MaracActor, meeting_id: str
) -> list[ResearchRequestRow]:
    """Send each listed case to each member agency (co-ordinator only); returns every request.

    Idempotent: a (case, agency) already asked is not asked again, so circulating after a
    late referral sends only the new case.
    """
    meeting, place = access.meeting_place(session, who, meeting_id)
    access.coordinator(session, who, place.marac.id)
    if meeting.status == "held":
        raise Invalid("The meeting has been held.", "#/meeting_id", "meeting_held")
    marac = place.marac
    purpose = str(marac.purposes["circulation"])
    listed = session.scalars(
        select(MaracCase)
        .join(MaracMeetingCase, MaracMeetingCase.case_id == MaracCase.id)
        .where(MaracMeetingCase.meeting_id == meeting.id)
        .order_by(MaracCase.case_number)
    )
    asked = {
        (r.case_id, r.agency_id)
        for r in session.scalars(
            select(ResearchRequest).where(ResearchRequest.meeting_id == meeting.id)
        )
    }
    policy = live_policy(session, ctx.catalogues)
    pending: list[tuple[MaracCase, str, Pending]] = []
    for case in listed:
        data = _case_data(session, ctx, case, marac.coordinator_id)
        for agency, kind in access.active_members(marac):
            if agency == marac.coordinator_id or (case.id, agency) in asked:
                continue
            if kind == "children_only" and not case.children_in_household:
                continue
            message = {"to": agency, "purpose": purpose, "consent": UNSAFE, "data": data}
            decision = decide_message(policy, ctx, marac.coordinator_id, message, {})
            pending.append((case, agency, Pending(decision, list(case.subjects), kind=MARAC_KIND)))
    recorded = record_all(session, ctx, who.ledger_actor, [p for _, _, p in pending])
    for (case, agency, _), item in zip(pending, recorded, strict=True):
        session.add(
            ResearchRequest(
                meeting_id=meeting.id,
                case_id=case.id,
                agency_id=agency,
                status="delivered" if item.disclosure is not None else "refused",
                circulation_id=item.disclosure.id if item.disclosure is not None else None,
                circulation_index=item.ledger_index,
                refusal_reasons=sorted({str(r.reason) for r in item.decision.refusals}),
            )
        )
    meeting.status = "in_progress"
    meeting.circulated_at = meeting.circulated_at or utcnow()
    session.flush()
    rows = _rows(session, select(ResearchRequest).where(ResearchRequest.meeting_id == meeting.id))
    session.commit()
    return rows


def _case_data(
    session: Session, ctx: SharingContext, case: MaracCase, coordinator: str
) -> dict[str, Any]:
    """What the co-ordinator holds on the case: its referrals' values, latest winning."""
    data: dict[str, Any] = {}
    disclosures = session.scalars(
        select(Disclosure)
        .join(MaracReferral, MaracReferral.disclosure_id == Disclosure.id)
        .where(MaracReferral.case_id == case.id, Disclosure.recipient_id == coordinator)
        .order_by(Disclosure.created_at, Disclosure.id)
    )
    for disclosure in disclosures:
        data.update(released_data(ctx.master_key, disclosure) or {})
    data["marac_case_number"] = case.case_number
    return data


def research_requests(
    session: Session, who: MaracActor, meeting_id: str | None = None
) -> list[ResearchRequestRow]:
    """The caller's agency's research to do (delivered to it, returned or not); the
    co-ordinator sees every request of its MARACs, refused ones included."""
    query = select(ResearchRequest)
    if meeting_id is not None:
        meeting, place = access.meeting_place(session, who, meeting_id)
        query = query.where(ResearchRequest.meeting_id == meeting.id)
        if not place.is_coordinator:
            query = _own(query, who)
        return _rows(session, query)
    places = access.places(session, who)
    coordinated = [p.marac.id for p in places if p.is_coordinator]
    member_of = [p.marac.id for p in places if not p.is_coordinator]
    rows = []
    if coordinated:
        rows += _rows(session, query.where(ResearchRequest.meeting_id.in_(_meetings(coordinated))))
    if member_of:
        rows += _rows(
            session, _own(query.where(ResearchRequest.meeting_id.in_(_meetings(member_of))), who)
        )
    return rows


def _meetings(marac_ids: list[str]) -> Any:
    return select(MaracMeeting.id).where(MaracMeeting.marac_id.in_(marac_ids))


def _own(query: Any, who: MaracActor) -> Any:
    return query.where(
        ResearchRequest.agency_id == who.partner_id, ResearchRequest.status != "refused"
    )


def _rows(session: Session, query: Any) -> list[ResearchRequestRow]:
    found = session.scalars(query.order_by(ResearchRequest.created_at, ResearchRequest.id))
    return [request_row(session, r) for r in found]


def research_request(session: Session, who: MaracActor, request_id: str) -> ResearchRequestRow:
    """One request: the agency's own (delivered), or any of the co-ordinator's MARAC."""
    return request_row(session, request_for(session, who, request_id, own=False))


def request_for(
    session: Session, who: MaracActor, request_id: str, *, own: bool
) -> ResearchRequest:
    request = session.get(ResearchRequest, request_id)
    if request is None:
        raise NotFound("no such research request")
    meeting = session.get_one(MaracMeeting, request.meeting_id)
    try:
        place = access.place(session, who, meeting.marac_id)
    except NotFound:
        raise NotFound("no such research request") from None
    mine = request.agency_id == who.partner_id and request.status != "refused"
    if (own or not place.is_coordinator) and not mine:
        raise NotFound("no such research request")
    return request


def return_research(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    request_id: str,
    data: Mapping[str, object],
    not_shared: Sequence[NotShared] = (),
    consent: Mapping[str, object] | None = None,
) -> ResearchReturnRow:
    """The agency's research, decided and recorded as a disclosure to the co-ordinator.

    Only the agency the request was delivered to may return it, once. ``data`` is checked
    against the field catalogue (422 naming the field, nothing recorded); the policy may
    still withhold fields (listed in the answer) or refuse the lot (a refusal entry, the
    request stays open). ``not_shared``: each field the agency held back, with a reason code
    from ``NOT_SHARED_REASONS`` and a short text with no personal data.
    """
    request = request_for(session, who, request_id, own=True)
    if request.status == "returned":
        raise Conflict("This research has already been returned.")
    meeting = session.get_one(MaracMeeting, request.meeting_id)
    place = access.place(session, who, meeting.marac_id)
    items = _checked_not_shared(ctx, data, not_shared)
    case = session.get_one(MaracCase, request.case_id)
    marac = place.marac
    message = {
        "to": marac.coordinator_id,
        "purpose": str(marac.purposes["research_return"]),
        "consent": dict(consent) if consent else UNSAFE,
        "data": {**dict(data), "marac_case_number": case.case_number},
    }
    policy = live_policy(session, ctx.catalogues)
    decision = decide_message(policy, ctx, who.partner_id, message, {})
    (item,) = record_all(
        session, ctx, who.ledger_actor, [Pending(decision, list(case.subjects), kind=MARAC_KIND)]
    )
    if item.disclosure is not None:
        request.status = "returned"
        request.return_id = item.disclosure.id
        request.return_index = item.ledger_index
        request.returned_at = item.disclosure.created_at
        request.not_shared = [dict(i) for i in items]
    session.commit()
    return ResearchReturnRow(
        request_id=request.id,
        status="returned" if item.disclosure is not None else "refused",
        disclosure_id=item.disclosure.id if item.disclosure is not None else None,
        ledger_index=item.ledger_index,
        released=tuple(sorted(decision.released)),
        withheld=tuple((w.field, str(w.reason)) for w in decision.withheld),
        not_shared=tuple(NotShared(i["field"], i["reason"], i["detail"]) for i in items),
        refusal_reasons=tuple(sorted({str(r.reason) for r in decision.refusals})),
    )


def _checked_not_shared(
    ctx: SharingContext, data: Mapping[str, object], not_shared: Sequence[NotShared]
) -> list[dict[str, str]]:
    items = []
    seen: set[str] = set()
    for number, entry in enumerate(not_shared):
        pointer = f"#/not_shared/{number}"
        if entry.field not in ctx.catalogues.fields:
            raise Invalid("not a field of the catalogue", f"{pointer}/field", "unknown_field")
        if entry.field in data:
            raise Invalid(
                "a field cannot be both shared and not shared",
                f"{pointer}/field",
                "shared_and_not_shared",
            )
        if entry.field in seen:
            raise Invalid("each field once", f"{pointer}/field", "duplicate")
        if entry.reason not in NOT_SHARED_REASONS:
            raise Invalid(
                f"reason must be one of {', '.join(NOT_SHARED_REASONS)}",
                f"{pointer}/reason",
                "not_in_enum",
            )
        if len(entry.detail) > MAX_DETAIL:
            raise Invalid(f"at most {MAX_DETAIL} characters", f"{pointer}/detail", "too_long")
        if entry.reason == "other" and not entry.detail.strip():
            raise Invalid("say why, briefly", f"{pointer}/detail", "missing")
        seen.add(entry.field)
        items.append({"field": entry.field, "reason": entry.reason, "detail": entry.detail})
    if not data and not items:
        raise Invalid("return at least one field, or say what was not shared", "#/data", "empty")
    return items
