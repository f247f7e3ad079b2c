"""Referrals become MARAC cases as they are recorded, in the same transaction.

``hub.sharing.disclosures.record_all`` calls :func:`take_in` with what it just recorded. A
disclosure or alert to a MARAC's co-ordinating partner, for one of the MARAC's referral
purposes, opens a case or re-opens the victim's case (found by subject commitment, so no
name is compared or stored). The criteria are read from the released values in memory,
and only their codes are kept.

Repeat (SafeLives): the case had a referral within 12 months of its **last** referral,
whichever agency made either. A case whose last referral is older re-opens, not as a repeat.

A new referral is listed for the MARAC's next meeting not yet held (on or after the day it
arrived); with none on the calendar it waits, and ``create_meeting`` lists every waiting case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import counters
from hub.marac.models import Marac, MaracCase, MaracMeeting, MaracMeetingCase, MaracReferral
from hub.sharing.alerts import DASH_THRESHOLD, REPEAT_WINDOW

if TYPE_CHECKING:
    from hub.sharing.disclosures import Recorded
    from hub.sharing.models import Disclosure

INTAKE_KINDS = ("referral", "alert")


def takes_in(session: Session, disclosures: Sequence[Disclosure]) -> bool:
    """True if any of ``disclosures`` (not yet recorded) is a referral a MARAC takes in."""
    candidates = [d for d in disclosures if d.kind in INTAKE_KINDS]
    if not candidates:
        return False
    routes = _routes(session)
    return any(route.takes(d) for d in candidates for route in routes)


def take_in(session: Session, recorded: Sequence[Recorded]) -> None:
    """Open or re-open a case for each MARAC referral among ``recorded``.

    Each one's ledger entry must be sequenced already (``record_all`` sees to it), so a
    case never shows a disclosure that is not released.
    """
    candidates = [
        r for r in recorded if r.disclosure is not None and r.disclosure.kind in INTAKE_KINDS
    ]
    if not candidates:
        return
    routes = _routes(session)
    taken = False
    for item in candidates:
        disclosure = item.disclosure
        assert disclosure is not None
        for route in routes:
            if route.takes(disclosure):
                if disclosure.ledger_index is None:
                    raise RuntimeError("a MARAC takes in only a released disclosure")
                marac = session.get(Marac, route.marac_id)
                assert marac is not None
                _take(session, marac, disclosure, item.decision.released)
                taken = True
    if taken:
        session.flush()


class Route(NamedTuple):
    """What decides whether a MARAC takes a disclosure in (plain data, safe to cache)."""

    marac_id: str
    coordinator_id: str
    purposes: frozenset[str]

    def takes(self, disclosure: Disclosure) -> bool:
        return (
            disclosure.recipient_id == self.coordinator_id
            and disclosure.purpose in self.purposes
        )


# (policy stamp) -> the active MARACs' routes. Every recorded referral asks, so the rows
# are read only when the policy counter moved (hub sync, or a trigger on ``maracs``).
_ROUTES: dict[counters.Stamp, tuple[Route, ...]] = {}


def _routes(session: Session) -> tuple[Route, ...]:
    stamp = counters.current(session)  # before the rows: see hub.counters.current
    if stamp is not None and stamp.policy in _ROUTES:
        return _ROUTES[stamp.policy]
    routes = tuple(
        Route(m.id, m.coordinator_id, frozenset(m.purposes.get("referral", ())))
        for m in session.scalars(select(Marac).where(Marac.active.is_(True)))
    )
    if stamp is not None:
        _ROUTES.clear()
        _ROUTES[stamp.policy] = routes
    return routes


def criteria_of(data: Mapping[str, Any]) -> list[str]:
    """The SafeLives criteria the released values show (``marac_criterion`` codes)."""
    met = set()
    criterion = data.get("marac_criterion")
    if isinstance(criterion, str) and criterion:
        met.add(criterion)
    score = data.get("dash_score")
    if isinstance(score, int) and not isinstance(score, bool) and score >= DASH_THRESHOLD:
        met.add("visible_high_risk")
    if data.get("professional_judgement"):
        met.add("professional_judgement")
    return sorted(met)


def _take(session: Session, marac: Marac, disclosure: Any, released: Mapping[str, Any]) -> None:
    now = disclosure.created_at
    subjects = set(disclosure.subjects or ())
    children = bool(str(released.get("children_in_household") or "").strip())
    case = _case_for(session, marac.id, subjects) if subjects else None
    repeat = case is not None and case.last_referral_at >= now - REPEAT_WINDOW
    if case is None:
        case = MaracCase(
            marac_id=marac.id,
            case_number=_next_number(session, marac, now),
            subjects=sorted(subjects),
            children_in_household=children,
            first_referral_at=now,
            last_referral_at=now,
        )
        session.add(case)
        session.flush()
    else:
        case.subjects = sorted(subjects | set(case.subjects))
        case.children_in_household = case.children_in_household or children
        case.last_referral_at = max(case.last_referral_at, now)
    criteria = criteria_of(released)
    if repeat:
        criteria = sorted({*criteria, "repeat"})
    referral = MaracReferral(
        case_id=case.id,
        disclosure_id=disclosure.id,
        from_partner_id=disclosure.sender_id,
        received_at=now,
        criteria=criteria,
        repeat=repeat,
        status="new",
    )
    session.add(referral)
    meeting = session.scalar(
        select(MaracMeeting)
        .where(
            MaracMeeting.marac_id == marac.id,
            MaracMeeting.status != "held",
            MaracMeeting.held_on >= now.date(),
        )
        .order_by(MaracMeeting.held_on)
        .limit(1)
    )
    if meeting is not None:
        list_case(session, meeting.id, case.id)
        referral.status = "listed"


def list_case(session: Session, meeting_id: str, case_id: str) -> bool:
    """Put the case on the meeting (once); True if it was not there yet."""
    present = session.scalar(
        select(MaracMeetingCase.id).where(
            MaracMeetingCase.meeting_id == meeting_id, MaracMeetingCase.case_id == case_id
        )
    )
    if present is not None:
        return False
    session.add(MaracMeetingCase(meeting_id=meeting_id, case_id=case_id))
    session.flush()
    return True


def _case_for(session: Session, marac_id: str, subjects: set[str]) -> MaracCase | None:
    """The MARAC's case sharing a subject commitment (latest referral first).

    Compared in Python for portability (JSON lists; see ``hub.sharing.alerts.is_repeat``).
    """
    cases = session.scalars(
        select(MaracCase)
        .where(MaracCase.marac_id == marac_id)
        .order_by(MaracCase.last_referral_at.desc())
    )
    return next((c for c in cases if subjects.intersection(c.subjects or ())), None)


def _next_number(session: Session, marac: Marac, now: dt.datetime) -> str:
    """``<PREFIX>-<year>-<nnn>``: the year's next number at this MARAC (never a name)."""
    prefix = f"{marac.case_prefix}-{now.year}-"
    count = session.scalar(
        select(func.count())
        .select_from(MaracCase)
        .where(MaracCase.marac_id == marac.id, MaracCase.case_number.startswith(prefix))
    )
    return f"{prefix}{(count or 0) + 1:03d}"
