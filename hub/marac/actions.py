"""Actions agreed at a meeting, and each owner agency's report on them.

The co-ordinator agrees (and may edit) any action in its MARAC. Only a person or client of
the owner agency may report on it; any other member gets Forbidden, anyone without a place
NotFound. A report from a member agency is a disclosure to the co-ordinator under the
MARAC's action-update flow (``decide()`` + ``record_all``); if the policy refuses it, the
refusal is recorded and the action is unchanged. The co-ordinator's own changes, and its
own agency's reports, stay inside the co-ordinating partner: nothing is shared, so there is
no disclosure to record.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.agreements.services import live_policy
from hub.db import utcnow
from hub.marac import access
from hub.marac.actor import MaracActor
from hub.marac.convert import action_row, action_rows, today
from hub.marac.errors import Forbidden, Invalid, NotFound
from hub.marac.models import (
    ACTION_STATUSES,
    Marac,
    MaracAction,
    MaracCase,
    MaracMeeting,
    MaracMeetingCase,
)
from hub.marac.research import MARAC_KIND, UNSAFE
from hub.marac.rows import ActionRow
from hub.sharing.context import SharingContext
from hub.sharing.disclosures import Pending, record_all
from hub.sharing.referrals import PolicyRefused, decide_message, refused_body

MAX_TEXT = 500
MAX_NOTE = 1000


def add_action(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    meeting_id: str,
    case_id: str,
    owner_agency: str,
    text: str,
    due: dt.date,
) -> ActionRow:
    """Agree an action for a member agency on a case listed for the meeting (co-ordinator).

    The text is an instruction to the agency; it must not name anyone (the case number
    says who it is about).
    """
    meeting, place = access.meeting_place(session, who, meeting_id)
    access.coordinator(session, who, place.marac.id)
    case = _listed_case(session, meeting, case_id)
    owners = dict(access.active_members(place.marac))
    if owner_agency not in owners:
        raise Invalid(
            "the owner must be a member agency of this MARAC", "#/owner_agency", "not_a_member"
        )
    if owners[owner_agency] == "children_only" and not case.children_in_household:
        raise Invalid(
            "a children-only member can own actions only on cases with children",
            "#/owner_agency",
            "children_only",
        )
    _check_text(text, "#/text", MAX_TEXT)
    if due < meeting.held_on:
        raise Invalid("the due date cannot be before the meeting", "#/due", "before_meeting")
    now = utcnow()
    action = MaracAction(
        marac_id=place.marac.id,
        case_id=case.id,
        meeting_id=meeting.id,
        owner_id=owner_agency,
        text=text.strip(),
        due=due,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.commit()
    return action_row(case.case_number, action)


def _listed_case(session: Session, meeting: MaracMeeting, case_id: str) -> MaracCase:
    case = session.get(MaracCase, case_id)
    listed = session.scalar(
        select(MaracMeetingCase.id).where(
            MaracMeetingCase.meeting_id == meeting.id, MaracMeetingCase.case_id == case_id
        )
    )
    if case is None or listed is None:
        raise NotFound("no such case on this meeting")
    return case


def _check_text(text: str, pointer: str, limit: int) -> None:
    if not isinstance(text, str) or not text.strip():
        raise Invalid("must not be empty", pointer, "missing")
    if len(text) > limit:
        raise Invalid(f"at most {limit} characters", pointer, "too_long")


def update_action(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    action_id: str,
    status: str,
    note: str | None = None,
) -> ActionRow:
    """Report on an action: the owner agency (a disclosure) or the co-ordinator."""
    action = session.get(MaracAction, action_id)
    if action is None:
        raise NotFound("no such MARAC action")
    try:
        place = access.place(session, who, action.marac_id)
    except NotFound:
        raise NotFound("no such MARAC action") from None
    if action.owner_id != who.partner_id and not place.is_coordinator:
        raise Forbidden("only the agency that owns this action may report on it")
    if status not in ACTION_STATUSES:
        raise Invalid(
            f"status must be one of {', '.join(ACTION_STATUSES)}", "#/status", "not_in_enum"
        )
    if note is not None:
        _check_text(note, "#/note", MAX_NOTE)
    case = session.get_one(MaracCase, action.case_id)
    if who.partner_id == action.owner_id and action.owner_id != place.marac.coordinator_id:
        _share_update(session, ctx, who, place.marac, action, case, status, note)
    action.status = status
    action.note = note.strip() if note else action.note
    action.reported_on = today() if status != "open" else action.reported_on
    action.updated_at = utcnow()
    session.commit()
    return action_row(case.case_number, action)


def _share_update(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    marac: Marac,
    action: MaracAction,
    case: MaracCase,
    status: str,
    note: str | None,
) -> None:
    data: dict[str, object] = {
        "marac_case_number": case.case_number,
        "actions": action.text,
        "marac_action_status": status,
    }
    if note:
        data["outcome_summary"] = note.strip()
    message = {
        "to": marac.coordinator_id,
        "purpose": str(marac.purposes["action_update"]),
        "consent": UNSAFE,
        "data": data,
    }
    policy = live_policy(session, ctx.catalogues)
    decision = decide_message(policy, ctx, who.partner_id, message, {})
    (item,) = record_all(
        session, ctx, who.ledger_actor, [Pending(decision, list(case.subjects), kind=MARAC_KIND)]
    )
    if item.disclosure is None:
        session.commit()  # the refusal stays on the ledger; the action is unchanged
        body = refused_body(decision, item.ledger_index)
        raise PolicyRefused(body["detail"], reasons=body["reasons"], ledger_index=item.ledger_index)
    action.update_id = item.disclosure.id
    action.update_index = item.ledger_index


def actions(
    session: Session, who: MaracActor, meeting_id: str | None = None, *, own_only: bool = False
) -> list[ActionRow]:
    """Actions the caller may see: its own agency's; the co-ordinator every one of its MARACs
    (``own_only`` for its own agency's). ``meeting_id``: those agreed at that meeting."""
    query = select(MaracAction)
    if meeting_id is not None:
        meeting, place = access.meeting_place(session, who, meeting_id)
        query = query.where(MaracAction.meeting_id == meeting.id)
        places = [place]
    else:
        places = access.places(session, who)
        query = query.where(MaracAction.marac_id.in_([p.marac.id for p in places]))
    if own_only or not all(p.is_coordinator for p in places):
        coordinated = [p.marac.id for p in places if p.is_coordinator and not own_only]
        query = query.where(
            (MaracAction.owner_id == who.partner_id) | MaracAction.marac_id.in_(coordinated)
        )
    found = list(session.scalars(query.order_by(MaracAction.due, MaracAction.id)))
    return action_rows(session, found)


def action(session: Session, who: MaracActor, action_id: str) -> ActionRow:
    """One action the caller may see (its own agency's, or any for the co-ordinator)."""
    found = session.get(MaracAction, action_id)
    if found is None:
        raise NotFound("no such MARAC action")
    try:
        place = access.place(session, who, found.marac_id)
    except NotFound:
        raise NotFound("no such MARAC action") from None
    if not place.is_coordinator and found.owner_id != who.partner_id:
        raise NotFound("no such MARAC action")
    (row,) = action_rows(session, [found])
    return row
