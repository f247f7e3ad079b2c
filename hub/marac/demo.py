"""``hub demo``: a MARAC meeting in progress for each demo MARAC (demo-only, invented people).

Everything goes through the real services, so every step is on the ledger as it would be:
referrals sent to the co-ordinator (one a repeat, from another agency), a previous meeting
with an action still open (carried onto this meeting's agenda), the research list
circulated, one agency's research returned, the statement signed by some agencies. Run
once: a database that already has a Leicestershire meeting is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import db, marac
from hub.db import utcnow
from hub.marac.actor import MaracActor
from hub.marac.models import MaracCase, MaracMeeting
from hub.people import accounts
from hub.settings import Settings
from hub.sharing.context import SharingContext
from hub.sharing.referrals import send_referral

UNSAFE = {"state": "not_sought", "reason": "unsafe"}
DANA = {"given_name": "Dana", "family_name": "Whitfield", "date_of_birth": "1991-06-02"}
PRIYA = {"given_name": "Priya", "family_name": "Lamb", "date_of_birth": "1984-09-21"}
ROSE = {"given_name": "Rose", "family_name": "Okoro", "date_of_birth": "1969-02-11"}
MAYA = {"given_name": "Maya", "family_name": "Collins", "date_of_birth": "1995-12-30"}


def _leics_referral(victim: dict[str, str], **data: Any) -> dict[str, Any]:
    return {
        "to": "leics-police",
        "purpose": "marac_referral",
        "consent": UNSAFE,
        "justification": "marac-safety-planning",
        "data": {**victim, **data},
    }


def _actor(session: Session, email: str, partner_id: str, role: str) -> MaracActor:
    person = accounts.find(session, email)
    pseudonym = person.pseudonym if person is not None else f"demo-{partner_id}"
    return MaracActor(partner_id, person_pseudonym=pseudonym, roles=frozenset({role}))


def ensure_demo_marac(session: Session, ctx: SharingContext) -> list[str]:
    """Create the demo meetings unless there already are some; lines of report."""
    if session.scalar(select(MaracMeeting.id).limit(1)) is not None:
        return ["marac: demo meetings already there"]
    today = utcnow().date()
    coordinator = _actor(
        session, "marac@leics-police.demo.hub.example", "leics-police", "marac_coordinator"
    )
    victim_first = _actor(
        session, "rep@victim-first.demo.hub.example", "victim-first", "agency_rep"
    )
    sdvs = _actor(session, "rep@leics-sdvs.demo.hub.example", "leics-sdvs", "agency_rep")

    def refer(sender: str, body: dict[str, Any]) -> None:
        outcome = send_referral(session, ctx, sender, body)
        if outcome.status != 201:
            raise RuntimeError(f"demo MARAC referral refused: {outcome.body.get('detail')}")

    # Last month's meeting: Dana's case heard, one action done, one still open (carried).
    previous = marac.create_meeting(
        session, coordinator, "leics-marac", today - dt.timedelta(days=28)
    )
    refer(
        "victim-first",
        _leics_referral(
            DANA,
            marac_criterion="visible_high_risk",
            dash_score=15,
            risk_level="very_high",
            children_in_household="One child, aged 3",
            perpetrator_name="Carl Whitfield",
            offence_date=(today - dt.timedelta(days=40)).isoformat(),
            victim_current_address="14 Harcourt Road, Wigston",
            safe_time="Weekdays 9-11",
        ),
    )
    dana = session.scalar(select(MaracCase.id).order_by(MaracCase.created_at.desc()).limit(1))
    assert dana is not None
    marac.add_case_to_meeting(session, coordinator, previous.id, dana)
    carried = marac.add_action(
        session,
        ctx,
        coordinator,
        previous.id,
        dana,
        "victim-first",
        "Offer a safety planning session and a target-hardening referral",
        today - dt.timedelta(days=7),
    )
    done = marac.add_action(
        session,
        ctx,
        coordinator,
        previous.id,
        dana,
        "leics-sdvs",
        "Allocate an IDVA",
        today - dt.timedelta(days=21),
    )
    marac.update_action(session, ctx, sdvs, done.id, "done", "IDVA allocated and in contact.")
    marac.finish_meeting(session, coordinator, previous.id)

    # This month's meeting, in two days: three referrals (Dana's again, from the SDVS: a
    # repeat within 12 months of her last referral), research out, one agency back.
    meeting = marac.create_meeting(
        session, coordinator, "leics-marac", today + dt.timedelta(days=2)
    )
    refer(
        "victim-first",
        _leics_referral(
            PRIYA,
            marac_criterion="visible_high_risk",
            dash_score=18,
            risk_level="very_high",
            children_in_household="Two children, aged 6 and 9",
            perpetrator_name="Mark Lamb",
            offence_date=(today - dt.timedelta(days=5)).isoformat(),
            dash_answers="Strangulation; threats to kill; escalation since separation",
        ),
    )
    refer(
        "leics-sdvs",
        _leics_referral(
            ROSE,
            marac_criterion="professional_judgement",
            risk_level="high",
            professional_judgement="Coercive control; isolated from family; recent threats",
            perpetrator_name="Tony Okoro",
            offence_date=(today - dt.timedelta(days=9)).isoformat(),
        ),
    )
    refer(
        "leics-sdvs",
        _leics_referral(
            DANA,
            marac_criterion="repeat",
            risk_level="very_high",
            children_in_household="One child, aged 3",
            perpetrator_name="Carl Whitfield",
            offence_date=(today - dt.timedelta(days=3)).isoformat(),
        ),
    )
    requests = marac.circulate_research(session, ctx, coordinator, meeting.id)
    first = next(
        r
        for r in requests
        if r.agency_id == "victim-first" and r.case_number != _number(session, dana)
    )
    marac.return_research(
        session,
        ctx,
        victim_first,
        first.id,
        {
            "marac_research_summary": "Known since the spring; four contacts, two missed. "
            "Victim reports he waits outside her work.",
            "last_contact_date": (today - dt.timedelta(days=6)).isoformat(),
            "case_status": "in_progress",
            "risk_level": "very_high",
            "professional_judgement": "Risk escalating since the separation.",
        },
        [marac.NotShared("disability", "not_relevant", "held, not relevant to the risk")],
    )
    marac.sign_statement(session, coordinator, meeting.id)
    marac.sign_statement(session, victim_first, meeting.id)
    del carried
    lines = [
        f"marac: Leicestershire MARAC meeting on {meeting.held_on.isoformat()} in progress: "
        f"{len({r.case_id for r in requests})} cases, research circulated, Victim First's "
        "returned, statement signed by Leicestershire Police and Victim First; one action "
        "carried from the last meeting",
    ]
    lines += _sutton(session, ctx, today)
    return lines


def _number(session: Session, case_id: str) -> str:
    return session.get_one(MaracCase, case_id).case_number


def _sutton(session: Session, ctx: SharingContext, today: dt.date) -> list[str]:
    coordinator = _actor(
        session, "marac@safer-sutton.demo.hub.example", "safer-sutton", "marac_coordinator"
    )
    meeting = marac.create_meeting(
        session, coordinator, "sutton-community-marac", today + dt.timedelta(days=5)
    )
    outcome = send_referral(
        session,
        ctx,
        "met-police",
        {
            "to": "safer-sutton",
            "purpose": "community_marac_referral",
            "consent": UNSAFE,
            "justification": "community-marac-safety-planning",
            "data": {
                **MAYA,
                "marac_criterion": "professional_judgement",
                "risk_level": "high",
                "professional_judgement": "Sustained targeting by a group of neighbours",
                "children_in_household": "A boy aged 11",
                "offence": "harassment",
                "perpetrator_name": "Ryan Price",
                "victim_current_address": "2 Benhill Avenue, Sutton",
            },
        },
    )
    if outcome.status != 201:
        raise RuntimeError("demo Community MARAC referral refused")
    marac.circulate_research(session, ctx, coordinator, meeting.id)
    marac.sign_statement(session, coordinator, meeting.id)
    return [
        f"marac: Sutton Community MARAC meeting on {meeting.held_on.isoformat()}: one case, "
        "research circulated to the police and children's services (outreach: no flow, "
        "refused; the YOT is perpetrator-facing and is sent nothing)"
    ]


def demo_marac_report(settings: Settings) -> list[str]:
    """``hub demo``: create the demo MARAC meetings (after the demo people)."""
    from hub.ledger.checkpoint import ensure_signing_key
    from hub.policy import load_catalogues
    from hub.sharing.context import build_context

    key_file = settings.signing_key_file
    ctx = build_context(
        settings,
        load_catalogues(settings.policies_dir),
        ensure_signing_key(key_file) if key_file.exists() else None,
    )
    engine = db.make_engine(settings.database_url)
    try:
        with db.make_sessionmaker(engine)() as session:
            return ensure_demo_marac(session, ctx)
    finally:
        engine.dispose()
