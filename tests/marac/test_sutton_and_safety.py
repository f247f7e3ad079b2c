"""Sutton's Community MARAC: who is sent what, and the perpetrator-facing YOT sees nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from hub import marac
from hub.ledger.access import HUB
from hub.ledger.models import LedgerEntry
from hub.ledger.service import view_of
from hub.marac import NotFound
from hub.marac.models import MaracAction, MaracCase, ResearchRequest
from tests.marac.conftest import (
    CSC,
    MET,
    OUTSIDER,
    SUTTON_COORDINATOR,
    VICTIM,
    YOT_CLIENT,
    YOT_COORDINATOR_ROLE,
    YOT_REP,
    sutton_referral,
)

TODAY = dt.datetime.now(dt.UTC).date()
NOBODIES = [YOT_REP, YOT_CLIENT, YOT_COORDINATOR_ROLE, OUTSIDER]


@pytest.fixture
def cycle(session, ctx, refer):
    """Two cases (one with children), circulated, signed by all, one action each."""
    refer("met-police", sutton_referral(children="A boy aged 9"))
    refer("met-police", sutton_referral(victim={**VICTIM, "given_name": "Ann"}))
    meeting = marac.create_meeting(
        session, SUTTON_COORDINATOR, "sutton-community-marac", TODAY + dt.timedelta(days=5)
    )
    marac.circulate_research(session, ctx, SUTTON_COORDINATOR, meeting.id)
    for who in (SUTTON_COORDINATOR, MET, CSC):
        marac.sign_statement(session, who, meeting.id)
    cases = {c.children_in_household: c for c in session.scalars(select(MaracCase))}
    marac.add_action(session, ctx, SUTTON_COORDINATOR, meeting.id, cases[True].id,
                     "sutton-csc", "Strategy discussion for the child",
                     TODAY + dt.timedelta(days=6))
    marac.add_action(session, ctx, SUTTON_COORDINATOR, meeting.id, cases[False].id,
                     "met-police", "Flag the address for priority response",
                     TODAY + dt.timedelta(days=10))
    return meeting, cases


def test_each_member_gets_what_its_flow_and_kind_allow(session, cycle):
    meeting, cases = cycle
    requests = list(session.scalars(select(ResearchRequest)))
    got = sorted((r.agency_id, r.case_id == cases[True].id, r.status) for r in requests)
    assert got == [
        ("met-police", False, "delivered"),
        ("met-police", True, "delivered"),
        ("sutton-csc", True, "delivered"),  # children only: not the adult-only case
        ("sutton-outreach", False, "refused"),  # no circulation flow: a refusal, nothing sent
        ("sutton-outreach", True, "refused"),
    ]
    refused = [r for r in requests if r.status == "refused"]
    assert all(r.circulation_id is None and r.refusal_reasons for r in refused)


def test_the_perpetrator_facing_agency_is_never_named_on_the_ledger(session, cycle):
    for row in session.scalars(select(LedgerEntry)):
        entry = view_of(row, HUB)["entry"]
        if entry["type"] in ("disclosure", "refusal") and entry.get("kind") == "marac":
            assert "sutton-yot" not in json.dumps(entry)


@pytest.mark.parametrize("who", NOBODIES, ids=["yot-rep", "yot-client", "yot-roles", "kent"])
def test_perpetrator_facing_and_outsiders_see_nothing_exist(session, ctx, cycle, who):
    meeting, cases = cycle
    assert marac.maracs_for(session, who) == []
    assert marac.research_requests(session, who) == []
    assert marac.actions(session, who) == []
    assert marac.overdue_prompts(session, who) == []
    action_id = session.scalar(select(MaracAction.id))
    request_id = session.scalar(select(ResearchRequest.id))
    calls = [
        lambda: marac.meetings(session, who, "sutton-community-marac"),
        lambda: marac.meeting(session, who, meeting.id),
        lambda: marac.create_meeting(session, who, "sutton-community-marac", TODAY),
        lambda: marac.referrals(session, who, "sutton-community-marac"),
        lambda: marac.lapsed(session, who, "sutton-community-marac", TODAY),
        lambda: marac.research_requests(session, who, meeting.id),
        lambda: marac.research_request(session, who, request_id),
        lambda: marac.return_research(session, ctx, who, request_id, {"risk_level": "high"}),
        lambda: marac.sign_statement(session, who, meeting.id),
        lambda: marac.signatures(session, who, meeting.id),
        lambda: marac.agenda(session, who, meeting.id),
        lambda: marac.case_view(session, ctx, who, cases[True].id),
        lambda: marac.case_view(session, ctx, who, cases[False].id, meeting.id),
        lambda: marac.actions(session, who, meeting.id),
        lambda: marac.action(session, who, action_id),
        lambda: marac.update_action(session, ctx, who, action_id, "done"),
        lambda: marac.add_action(session, ctx, who, meeting.id, cases[True].id, "met-police",
                                 "x", TODAY),
        lambda: marac.meeting_pack(session, ctx, who, meeting.id),
        lambda: marac.circulate_research(session, ctx, who, meeting.id),
        lambda: marac.add_case_to_meeting(session, who, meeting.id, cases[True].id),
    ]
    for call in calls:
        with pytest.raises(NotFound) as found:
            call()
        # the same answer a missing id gets, word for word
        assert "no such" in found.value.detail


def test_missing_ids_answer_exactly_as_hidden_ones(session, ctx, cycle):
    meeting, _ = cycle
    with pytest.raises(NotFound) as missing:
        marac.agenda(session, MET, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound) as hidden:
        marac.agenda(session, YOT_REP, meeting.id)
    assert missing.value.detail == hidden.value.detail


def test_an_agency_cannot_update_another_agencys_action(session, ctx, cycle):
    rows = {a.owner_agency: a for a in marac.actions(session, SUTTON_COORDINATOR)}
    with pytest.raises(marac.Forbidden):
        marac.update_action(session, ctx, MET, rows["sutton-csc"].id, "done")
    assert marac.action(session, SUTTON_COORDINATOR, rows["sutton-csc"].id).status == "open"
    # and it only ever sees its own
    assert [a.owner_agency for a in marac.actions(session, MET)] == ["met-police"]


def test_the_owner_reports_and_the_report_is_a_disclosure(session, ctx, cycle):
    rows = {a.owner_agency: a for a in marac.actions(session, SUTTON_COORDINATOR)}
    updated = marac.update_action(session, ctx, CSC, rows["sutton-csc"].id,
                                  "circumstances_changed", "Family moved out of the area")
    assert updated.status == "circumstances_changed" and updated.reported_on == TODAY
    entry = view_of(session.get(LedgerEntry, updated.update_index), HUB)["entry"]
    assert entry["type"] == "disclosure" and entry["purpose"] == "marac_action_update"
    assert entry["actor"] == {"partner": "sutton-csc", "client": "sutton-csc"}
    assert "Family moved" not in json.dumps(entry)
    with pytest.raises(marac.Invalid) as bad:
        marac.update_action(session, ctx, CSC, rows["sutton-csc"].id, "finished")
    assert bad.value.pointer == "#/status"


def test_overdue_actions_are_prompted_to_their_owner(session, ctx, cycle):
    meeting, cases = cycle
    action = session.scalar(select(MaracAction).where(MaracAction.owner_id == "sutton-csc"))
    action.due = TODAY - dt.timedelta(days=1)
    session.commit()
    prompts = marac.overdue_prompts(session, CSC)
    assert [(p.kind, p.ref) for p in prompts] == [("action_overdue", action.id)]
    assert marac.overdue_prompts(session, MET) == []
    kinds = {p.kind for p in marac.overdue_prompts(session, SUTTON_COORDINATOR)}
    assert "action_overdue" in kinds


def test_a_member_sees_only_cases_circulated_to_it(session, ctx, cycle):
    meeting, cases = cycle
    agenda = marac.agenda(session, CSC, meeting.id)
    assert [c.id for c in agenda.children_cases] == [cases[True].id] and not agenda.adult_cases
    with pytest.raises(NotFound):
        marac.case_view(session, ctx, CSC, cases[False].id)
    full = marac.agenda(session, SUTTON_COORDINATOR, meeting.id)
    assert [c.id for c in full.children_cases] == [cases[True].id]
    assert [c.id for c in full.adult_cases] == [cases[False].id]
