"""Repeat and lapse are measured from the LAST referral; agendas carry actions and notices;
the ledger verifies after a whole cycle."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from hub import marac
from hub.db import utcnow
from hub.marac import NotShared
from hub.marac.models import MaracCase
from hub.operations import verify_whole_ledger
from tests.marac.conftest import (
    LEICS_COORDINATOR,
    SDVS,
    VICTIM,
    VICTIM_FIRST,
    leics_referral,
)

OTHER = {**VICTIM, "given_name": "Kim", "date_of_birth": "1990-01-01"}


@pytest.fixture
def refer_at(monkeypatch, refer):
    """Send a referral as if recorded ``days`` ago (the disclosure's time, not the policy's)."""

    def _refer_at(days: int, sender: str, body: dict) -> None:
        shifted = utcnow() - dt.timedelta(days=days)
        monkeypatch.setattr("hub.sharing.disclosures.utcnow", lambda: shifted)
        refer(sender, body)
        monkeypatch.undo()

    return _refer_at


def _repeats(session) -> list[tuple[str, bool]]:
    rows = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    return sorted((r.received_at.date().isoformat(), r.repeat) for r in rows)


def test_repeat_counts_from_the_last_referral_from_any_agency(session, refer_at):
    refer_at(700, "victim-first", leics_referral())
    refer_at(360, "leics-sdvs", leics_referral("leics-sdvs"))  # 340 days after: a repeat
    refer_at(0, "victim-first", leics_referral())  # 360 days after the LAST: a repeat
    rows = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    assert [r.repeat for r in rows] == [True, True, False]
    assert len({r.case_number for r in rows}) == 1


def test_more_than_12_months_after_the_last_referral_is_not_a_repeat(session, refer_at):
    refer_at(400, "victim-first", leics_referral(victim=OTHER))
    today = utcnow().date()
    lapsed_on = today - dt.timedelta(days=35)
    (case,) = marac.lapsed(session, LEICS_COORDINATOR, "leics-marac", lapsed_on)
    assert case.lapses_on == lapsed_on
    assert marac.lapsed(session, LEICS_COORDINATOR, "leics-marac", today) == [] or (
        lapsed_on.month == today.month
    )
    refer_at(0, "leics-sdvs", leics_referral("leics-sdvs", victim=OTHER))
    rows = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    assert [r.repeat for r in rows] == [False, False]
    assert len({r.case_number for r in rows}) == 1  # the same case, re-opened
    assert marac.lapsed(session, LEICS_COORDINATOR, "leics-marac", lapsed_on) == []


def test_agenda_carries_incomplete_actions_and_gives_notices(session, ctx, refer, refer_at):
    today = utcnow().date()
    refer_at(380, "victim-first", leics_referral(victim=OTHER))  # lapsed 15 days ago
    refer("victim-first", leics_referral())
    previous = marac.create_meeting(session, LEICS_COORDINATOR, "leics-marac",
                                    today - dt.timedelta(days=28))
    current, old = f"LEI-{today.year}-", f"LEI-{(today - dt.timedelta(days=380)).year}-"
    case_id = session.scalar(
        select(MaracCase.id).order_by(MaracCase.last_referral_at.desc()).limit(1)
    )
    marac.add_case_to_meeting(session, LEICS_COORDINATOR, previous.id, case_id)
    carried = marac.add_action(session, ctx, LEICS_COORDINATOR, previous.id, case_id,
                               "victim-first", "Offer a safety planning session",
                               today - dt.timedelta(days=7))
    done = marac.add_action(session, ctx, LEICS_COORDINATOR, previous.id, case_id,
                            "leics-sdvs", "Allocate an IDVA", today - dt.timedelta(days=20))
    marac.update_action(session, ctx, SDVS, done.id, "done", "IDVA allocated")
    not_done = marac.add_action(session, ctx, LEICS_COORDINATOR, previous.id, case_id,
                                "leics-sdvs", "Refer to the refuge", today - dt.timedelta(days=20))
    marac.update_action(session, ctx, SDVS, not_done.id, "not_done", "No space yet")
    marac.finish_meeting(session, LEICS_COORDINATOR, previous.id)
    meeting = marac.create_meeting(session, LEICS_COORDINATOR, "leics-marac", today)
    marac.add_case_to_meeting(session, LEICS_COORDINATOR, meeting.id, case_id)
    marac.sign_statement(session, LEICS_COORDINATOR, meeting.id)
    agenda = marac.agenda(session, LEICS_COORDINATOR, meeting.id)
    assert [(a.id, a.status) for a in agenda.carried_actions] == [
        (not_done.id, "not_done"), (carried.id, "open")
    ]
    assert [c.case_number for c in agenda.children_cases] == [
        session.get(MaracCase, case_id).case_number
    ]
    lapsed = session.scalar(select(MaracCase).order_by(MaracCase.last_referral_at).limit(1))
    assert lapsed.case_number.startswith(old)
    assert session.get(MaracCase, case_id).case_number.startswith(current)
    assert [c.case_number for c in agenda.notices] == [lapsed.case_number]
    # the owner sees its own carried action, and the prompt at sign-in
    marac.sign_statement(session, VICTIM_FIRST, meeting.id)
    mine = marac.agenda(session, VICTIM_FIRST, meeting.id)
    assert [a.id for a in mine.carried_actions] == [carried.id] and not mine.notices
    assert [p.ref for p in marac.overdue_prompts(session, VICTIM_FIRST)
            if p.kind == "action_overdue"] == [carried.id]


def test_hub_log_verify_passes_after_a_whole_cycle(session, ctx, refer, settings):
    refer("victim-first", leics_referral())
    refer("leics-sdvs", leics_referral("leics-sdvs"))
    today = utcnow().date()
    meeting = marac.create_meeting(session, LEICS_COORDINATOR, "leics-marac", today)
    marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    for who in (VICTIM_FIRST, SDVS):
        (request,) = marac.research_requests(session, who, meeting.id)
        marac.return_research(session, ctx, who, request.id, {"risk_level": "very_high"},
                              [NotShared("disability", "not_held")])
    for who in (LEICS_COORDINATOR, VICTIM_FIRST, SDVS):
        marac.sign_statement(session, who, meeting.id)
    case_id = session.scalar(select(MaracCase.id))
    marac.agenda(session, LEICS_COORDINATOR, meeting.id)
    marac.case_view(session, ctx, LEICS_COORDINATOR, case_id)
    action = marac.add_action(session, ctx, LEICS_COORDINATOR, meeting.id, case_id,
                              "victim-first", "Weekly contact", today + dt.timedelta(days=14))
    marac.update_action(session, ctx, VICTIM_FIRST, action.id, "done")
    pack = marac.meeting_pack(session, ctx, LEICS_COORDINATOR, meeting.id)
    assert pack.marking == "OFFICIAL-SENSITIVE" and pack.statement_text == marac.STATEMENT_TEXT
    assert [len(c.contributions) for c in pack.cases] == [5]  # 2 referrals, 2 returns, 1 update
    marac.finish_meeting(session, LEICS_COORDINATOR, meeting.id)
    session.close()
    ok, lines = verify_whole_ledger(settings, None)
    assert ok, lines
