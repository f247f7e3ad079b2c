"""The co-ordinator's lists: referrals received (with the repeat badge) and lapsed cases."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.marac import access, audit
from hub.marac.actor import MaracActor
from hub.marac.convert import case_row, lapses_on
from hub.marac.errors import Invalid
from hub.marac.models import MaracCase, MaracReferral
from hub.marac.rows import CaseRow, ReferralRow

CRITERIA = ("visible_high_risk", "professional_judgement", "potential_escalation", "repeat")
REFERRAL_STATUSES = ("new", "listed", "heard")


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
    """Referrals received by the co-ordinator, newest first (co-ordinator only).

    Filters: ``criterion`` (a SafeLives criterion; ``repeat`` is the repeat badge),
    ``agency`` (the referrer), ``since``/``until`` (days received, inclusive), ``status``
    (new, listed, heard). The list is a consultation entry.
    """
    access.coordinator(session, who, marac_id)
    if criterion is not None and criterion not in CRITERIA:
        raise Invalid(
            f"criterion must be one of {', '.join(CRITERIA)}", "#/criterion", "not_in_enum"
        )
    if status is not None and status not in REFERRAL_STATUSES:
        raise Invalid(
            f"status must be one of {', '.join(REFERRAL_STATUSES)}", "#/status", "not_in_enum"
        )
    query = (
        select(MaracReferral, MaracCase)
        .join(MaracCase, MaracCase.id == MaracReferral.case_id)
        .where(MaracCase.marac_id == marac_id)
    )
    if agency:
        query = query.where(MaracReferral.from_partner_id == agency)
    if status:
        query = query.where(MaracReferral.status == status)
    if since:
        query = query.where(MaracReferral.received_at >= _start(since))
    if until:
        query = query.where(MaracReferral.received_at < _start(until + dt.timedelta(days=1)))
    rows = session.execute(query.order_by(MaracReferral.received_at.desc(), MaracReferral.id)).all()
    found = [
        ReferralRow(
            case_id=case.id,
            case_number=case.case_number,
            disclosure_id=referral.disclosure_id,
            received_at=referral.received_at,
            from_agency=referral.from_partner_id,
            criteria=tuple(referral.criteria or ()),
            repeat=referral.repeat,
            status=referral.status,
            children=case.children_in_household,
        )
        for referral, case in rows
        if criterion is None or criterion in (referral.criteria or ())
    ]
    audit.record_view(session, who, audit.REFERRALS_VIEW)
    session.commit()
    return found


def lapsed(session: Session, who: MaracActor, marac_id: str, month: dt.date) -> list[CaseRow]:
    """Cases whose 12 months since the last referral ran out in ``month`` (co-ordinator).

    A further referral after that is a new episode, not a repeat; the list is a
    consultation entry.
    """
    access.coordinator(session, who, marac_id)
    first = month.replace(day=1)
    last = month.replace(day=month_calendar.monthrange(month.year, month.month)[1])
    cases = session.scalars(
        select(MaracCase).where(MaracCase.marac_id == marac_id).order_by(MaracCase.case_number)
    )
    found = [case_row(session, c) for c in cases if first <= lapses_on(c) <= last]
    audit.record_view(session, who, audit.LAPSED_VIEW)
    session.commit()
    return found


def cases(session: Session, who: MaracActor, marac_id: str) -> list[CaseRow]:
    """Every case of the MARAC, latest referral first (co-ordinator only); no names."""
    access.coordinator(session, who, marac_id)
    rows = session.scalars(
        select(MaracCase)
        .where(MaracCase.marac_id == marac_id)
        .order_by(MaracCase.last_referral_at.desc())
    )
    return [case_row(session, c) for c in rows]


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
