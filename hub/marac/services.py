"""The MARAC use cases (skeleton: signatures and contracts; bodies land module by module).

Every function takes a Session and a :class:`MaracActor` and enforces who may do it:
co-ordinator = role ``marac_coordinator`` at the co-ordinating partner (or its API client);
member = any person or client of a member agency; a perpetrator-facing agency gets
:class:`NotFound` for everything, exactly as for a missing id. Functions that write (ledger
entries, rows) commit their own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from hub.marac.actor import MaracActor
from hub.marac.rows import (
    ActionRow,
    Agenda,
    CaseRow,
    CaseView,
    MaracSummary,
    MeetingPack,
    MeetingSummary,
    NotShared,
    Prompt,
    ReferralRow,
    ResearchRequestRow,
    ResearchReturnRow,
    Signature,
)
from hub.sharing.context import SharingContext


def maracs_for(session: Session, who: MaracActor) -> list[MaracSummary]:
    """The MARACs the caller's agency co-ordinates or sits on (none if perpetrator-facing)."""
    raise NotImplementedError


def meetings(session: Session, who: MaracActor, marac_id: str) -> list[MeetingSummary]:
    """The MARAC's calendar, soonest first: date, status and counts."""
    raise NotImplementedError


def create_meeting(
    session: Session, who: MaracActor, marac_id: str, held_on: dt.date
) -> MeetingSummary:
    """Put a meeting on the calendar (co-ordinator only); cases waiting are listed on it."""
    raise NotImplementedError


def referrals(
    session: Session,
    who: MaracActor,
    marac_id: str,
    *,
    criterion: str | None = None,
    agency: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    status: str | None = None,
) -> list[ReferralRow]:
    """Referrals received by the co-ordinator (co-ordinator only); a consultation entry."""
    raise NotImplementedError


def lapsed(session: Session, who: MaracActor, marac_id: str, month: dt.date) -> list[CaseRow]:
    """Cases whose 12 months since the last referral ran out in ``month`` (co-ordinator)."""
    raise NotImplementedError


def overdue_prompts(session: Session, who: MaracActor) -> list[Prompt]:
    """Overdue actions of the caller's agency; for a co-ordinator also research not returned
    by its deadline and statements unsigned for a meeting today."""
    raise NotImplementedError


def add_case_to_meeting(session: Session, who: MaracActor, meeting_id: str, case_id: str) -> None:
    """List a case for a meeting (co-ordinator only)."""
    raise NotImplementedError


def circulate_research(
    session: Session, ctx: SharingContext, who: MaracActor, meeting_id: str
) -> list[ResearchRequestRow]:
    """Send each listed case to each member agency as a disclosure (decide + record_all)."""
    raise NotImplementedError


def research_requests(
    session: Session, who: MaracActor, meeting_id: str | None = None
) -> list[ResearchRequestRow]:
    """The caller's agency's research to do; the co-ordinator sees every request."""
    raise NotImplementedError


def return_research(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    request_id: str,
    data: Mapping[str, object],
    not_shared: Sequence[NotShared] = (),
) -> ResearchReturnRow:
    """The agency's research, as a disclosure to the co-ordinator, and what it did not share."""
    raise NotImplementedError


def sign_statement(session: Session, who: MaracActor, meeting_id: str) -> Signature:
    """Sign the meeting's confidentiality statement for the caller's agency (idempotent)."""
    raise NotImplementedError


def signatures(session: Session, who: MaracActor, meeting_id: str) -> list[Signature]:
    """Which agencies have signed the meeting's statement."""
    raise NotImplementedError


def agenda(session: Session, who: MaracActor, meeting_id: str) -> Agenda:
    """The agenda in SafeLives order; NotSigned until the agency signed; a consultation."""
    raise NotImplementedError


def case_view(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    case_id: str,
    meeting_id: str | None = None,
) -> CaseView:
    """The case with each contribution the caller may see, fact apart from opinion."""
    raise NotImplementedError


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
    """Agree an action for an agency (co-ordinator only)."""
    raise NotImplementedError


def update_action(
    session: Session,
    ctx: SharingContext,
    who: MaracActor,
    action_id: str,
    status: str,
    note: str | None = None,
) -> ActionRow:
    """Report on an action: only the owner agency (or the co-ordinator); a disclosure."""
    raise NotImplementedError


def actions(
    session: Session, who: MaracActor, meeting_id: str | None = None, *, own_only: bool = False
) -> list[ActionRow]:
    """Actions the caller may see: its own agency's; the co-ordinator every one."""
    raise NotImplementedError


def meeting_pack(
    session: Session, ctx: SharingContext, who: MaracActor, meeting_id: str
) -> MeetingPack:
    """Statement, signatures, agenda, per-case research as ``who`` may see it, actions."""
    raise NotImplementedError
