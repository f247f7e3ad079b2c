"""The MARAC cycle through the services, on the real policy, ledger and database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from hub import marac
from hub.agreements.services import live_policy
from hub.errors import Conflict
from hub.ledger.access import HUB
from hub.ledger.models import LedgerEntry, LedgerUnsequenced
from hub.ledger.service import view_of
from hub.marac import NotFound, NotShared, NotSigned
from hub.marac.models import MaracCase, MaracReferral
from hub.sharing.disclosures import record_all
from hub.sharing.models import Disclosure
from hub.sharing.referrals import actor_for, decide_message, pending_for
from tests.marac.conftest import (
    CANARY_ADDRESS,
    LEICS_COORDINATOR,
    SDVS,
    VICTIM,
    VICTIM_FIRST,
    leics_referral,
)
from tests.sharing.conftest import KENT_REFERRAL

TODAY = dt.datetime.now(dt.UTC).date()


def _meeting(session, days: int = 7) -> marac.MeetingSummary:
    return marac.create_meeting(
        session, LEICS_COORDINATOR, "leics-marac", TODAY + dt.timedelta(days=days)
    )


def test_a_referral_opens_a_case_and_a_second_agency_makes_it_a_repeat(session, refer):
    refer("victim-first", leics_referral())
    first = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    assert [(r.case_number, r.repeat, r.from_agency) for r in first] == [
        (f"LEI-{TODAY.year}-001", False, "victim-first")
    ]
    assert first[0].criteria == ("visible_high_risk",) and first[0].children
    refer("leics-sdvs", leics_referral("leics-sdvs", children=None))
    rows = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    assert [(r.case_number, r.repeat, r.from_agency) for r in rows] == [
        (f"LEI-{TODAY.year}-001", True, "leics-sdvs"),
        (f"LEI-{TODAY.year}-001", False, "victim-first"),
    ]
    assert "repeat" in rows[0].criteria
    assert marac.referrals(session, LEICS_COORDINATOR, "leics-marac", criterion="repeat") == [
        rows[0]
    ]
    assert marac.referrals(session, LEICS_COORDINATOR, "leics-marac", agency="victim-first") == [
        rows[1]
    ]
    other = {**VICTIM, "given_name": "Sam"}
    refer("victim-first", leics_referral(victim=other))
    numbers = {r.case_number for r in marac.referrals(session, LEICS_COORDINATOR, "leics-marac")}
    assert numbers == {f"LEI-{TODAY.year}-001", f"LEI-{TODAY.year}-002"}


def test_referral_lists_are_consultation_entries_and_name_nobody(session, refer):
    refer("victim-first", leics_referral())
    before = session.scalar(select(LedgerEntry.index).order_by(LedgerEntry.index.desc()))
    rows = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    assert "Jo" not in repr(rows) and "Marsh" not in repr(rows)
    last = session.scalar(select(LedgerEntry).order_by(LedgerEntry.index.desc()))
    assert last.index == before + 1
    case = session.scalar(select(MaracCase))
    assert "Jo" not in json.dumps(case.subjects)


def test_only_the_coordinator_lists_referrals(session, refer):
    refer("victim-first", leics_referral())
    with pytest.raises(marac.Forbidden):
        marac.referrals(session, VICTIM_FIRST, "leics-marac")
    with pytest.raises(NotFound):
        marac.referrals(session, LEICS_COORDINATOR, "sutton-community-marac")


def test_research_goes_to_each_member_as_its_flow_allows(session, ctx, refer):
    refer("victim-first", leics_referral())
    meeting = _meeting(session)
    requests = marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    assert sorted((r.agency_id, r.status) for r in requests) == [
        ("leics-sdvs", "delivered"),
        ("victim-first", "delivered"),
    ]
    for request in requests:
        disclosure = session.get(Disclosure, request.circulation_id)
        assert disclosure.sender_id == "leics-police" and disclosure.purpose == "marac_research"
        assert "victim_current_address" not in disclosure.fields_released
        assert "dash_answers" not in disclosure.fields_released
        assert "marac_case_number" in disclosure.fields_released
    # circulating again asks nobody twice
    again = marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    assert {r.id for r in again} == {r.id for r in requests}
    inbox = marac.research_requests(session, VICTIM_FIRST)
    assert [(r.case_number, r.status) for r in inbox] == [(f"LEI-{TODAY.year}-001", "delivered")]


def test_research_return_is_a_disclosure_with_what_was_not_shared(session, ctx, refer):
    refer("victim-first", leics_referral())
    meeting = _meeting(session)
    marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    (request,) = marac.research_requests(session, SDVS)
    returned = marac.return_research(
        session,
        ctx,
        SDVS,
        request.id,
        {
            "marac_research_summary": "IDVA in contact weekly",
            "risk_level": "very_high",
            "mental_health": "Canary-Not-In-Flow",
        },
        [NotShared("substance_misuse", "not_relevant", "held, not relevant to the risk")],
    )
    assert returned.status == "returned"
    assert "mental_health" in dict(returned.withheld)
    assert "marac_case_number" in returned.released
    disclosure = session.get(Disclosure, returned.disclosure_id)
    assert (disclosure.sender_id, disclosure.recipient_id) == ("leics-sdvs", "leics-police")
    assert disclosure.purpose == "marac_research_return"
    with pytest.raises(Conflict):
        marac.return_research(session, ctx, SDVS, request.id, {"risk_level": "high"})
    with pytest.raises(NotFound):  # another agency's request is not yours to answer
        marac.return_research(session, ctx, VICTIM_FIRST, request.id, {"risk_level": "high"})
    with pytest.raises(marac.Invalid) as bad:
        (vf,) = marac.research_requests(session, VICTIM_FIRST)
        marac.return_research(
            session, ctx, VICTIM_FIRST, vf.id, {}, [NotShared("not_a_field", "not_held")]
        )
    assert bad.value.pointer == "#/not_shared/0/field"


def test_statement_gates_the_agenda_and_the_case_view(session, ctx, refer):
    refer("victim-first", leics_referral())
    meeting = _meeting(session)
    marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    case_id = session.scalar(select(MaracCase.id))
    with pytest.raises(NotSigned):
        marac.agenda(session, LEICS_COORDINATOR, meeting.id)
    with pytest.raises(NotSigned):
        marac.case_view(session, ctx, VICTIM_FIRST, case_id)
    marac.sign_statement(session, LEICS_COORDINATOR, meeting.id)
    assert marac.agenda(session, LEICS_COORDINATOR, meeting.id).children_cases
    with pytest.raises(NotSigned):
        marac.agenda(session, VICTIM_FIRST, meeting.id)
    signed = marac.sign_statement(session, VICTIM_FIRST, meeting.id)
    assert signed == marac.sign_statement(session, VICTIM_FIRST, meeting.id)  # idempotent
    assert [s.partner_id for s in marac.signatures(session, SDVS, meeting.id)] == [
        "leics-police",
        "victim-first",
    ]
    view = marac.case_view(session, ctx, VICTIM_FIRST, case_id)
    assert [c.step for c in view.contributions] == ["circulation"]


def test_case_view_shows_fact_apart_from_opinion(session, ctx, refer):
    refer("victim-first", leics_referral())
    meeting = _meeting(session)
    marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    (request,) = marac.research_requests(session, VICTIM_FIRST)
    marac.return_research(
        session,
        ctx,
        VICTIM_FIRST,
        request.id,
        {
            "marac_research_summary": "Three contacts since May",
            "professional_judgement": "Fear is escalating",
        },
        [NotShared("disability", "third_party", "about her mother")],
    )
    marac.sign_statement(session, LEICS_COORDINATOR, meeting.id)
    case_id = session.scalar(select(MaracCase.id))
    view = marac.case_view(session, ctx, LEICS_COORDINATOR, case_id)
    referral, research = view.contributions
    assert referral.step == "referral" and research.step == "research_return"
    assert referral.fact["victim_current_address"] == CANARY_ADDRESS
    assert referral.opinion["dash_score"] == 16 and "dash_score" not in referral.fact
    assert referral.opinion["marac_criterion"] == "visible_high_risk"
    assert research.fact["marac_research_summary"] == "Three contacts since May"
    assert research.opinion == {"professional_judgement": "Fear is escalating"}
    assert research.not_shared == (NotShared("disability", "third_party", "about her mother"),)
    assert (research.agreement_id, research.agreement_version) == ("leics-marac", 1)
    assert "CDA_S115" in research.basis
    # each disclosure read is a consultation entry naming it
    consultations = [e for e in _entries(session)[-2:] if e["type"] == "consultation"]
    assert {c["ref"] for c in consultations} == {referral.disclosure_id, research.disclosure_id}
    assert {c["purpose"] for c in consultations} == {"marac_case_view"}


def _entries(session) -> list[dict]:
    rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.index)).all()
    return [view_of(r, HUB)["entry"] for r in rows]


def test_an_agency_reads_what_was_circulated_to_it_before_signing(session, ctx, refer):
    refer("victim-first", leics_referral())
    meeting = _meeting(session)
    marac.circulate_research(session, ctx, LEICS_COORDINATOR, meeting.id)
    (request,) = marac.research_requests(session, SDVS)
    seen = marac.research_case(session, ctx, SDVS, request.id)
    assert seen.step == "circulation" and seen.fact["family_name"] == VICTIM["family_name"]
    assert seen.opinion["risk_level"] == "very_high"
    assert "victim_current_address" not in seen.fact
    last = _entries(session)[-1]
    assert (last["type"], last["purpose"], last["ref"]) == (
        "consultation", "marac_research_view", request.circulation_id
    )
    with pytest.raises(NotFound):
        marac.research_case(session, ctx, VICTIM_FIRST, request.id)


def test_an_alert_to_the_coordinator_opens_a_case_too(session, ctx):
    from hub.sharing.alerts import send_alert

    body = leics_referral()
    alert = {"kind": "marac_high_risk", **{k: v for k, v in body.items() if k != "to"}}
    outcome = send_alert(session, ctx, "victim-first", alert)
    assert outcome.status == 201, outcome.body
    (row,) = marac.referrals(session, LEICS_COORDINATOR, "leics-marac")
    assert row.from_agency == "victim-first" and row.criteria == ("visible_high_risk",)



def test_a_marac_referral_is_sequenced_before_its_case_opens(session, ctx):
    """On the request (deferred) path a referral a MARAC takes in is sequenced inline, so
    its case never shows a disclosure that is not released; any other stays deferred."""
    policy = live_policy(session, ctx.catalogues)

    def record(sender, body):
        decision = decide_message(policy, ctx, sender, body, {})
        assert decision.allowed, decision.refusals
        pending = [pending_for(ctx, decision, body)]
        (item,) = record_all(session, ctx, actor_for(sender), pending, deferred=True)
        return item

    def waiting() -> int:
        return session.scalar(select(func.count()).select_from(LedgerUnsequenced))

    plain = record("kent-csc", KENT_REFERRAL)
    assert plain.entry.index is None and plain.disclosure.ledger_index is None
    assert waiting() == 1
    item = record("victim-first", leics_referral())
    # Not yet committed: the MARAC referral has its index (its batch took the other along)
    # and its case exists with it, in this one transaction.
    assert item.entry.index is not None and item.disclosure.ledger_index == item.ledger_index
    assert waiting() == 0
    referral = session.scalar(select(MaracReferral))
    assert referral is not None and referral.disclosure_id == item.disclosure.id
    session.commit()
    assert marac.referrals(session, LEICS_COORDINATOR, "leics-marac")[0].from_agency == (
        "victim-first"
    )


def test_a_direct_edit_of_a_marac_is_seen_by_the_next_referral(session, refer):
    """Intake routes are cached under the policy counter; a trigger on ``maracs`` moves it,
    so a MARAC switched off in the database (not through ``hub sync``) takes nothing in."""
    from sqlalchemy import text

    refer("victim-first", leics_referral())
    assert len(marac.referrals(session, LEICS_COORDINATOR, "leics-marac")) == 1
    session.execute(text("UPDATE maracs SET active = false WHERE id = 'leics-marac'"))
    session.commit()
    refer("victim-first", leics_referral(victim={**VICTIM, "given_name": "Sam"}))
    assert session.scalar(select(func.count()).select_from(MaracReferral)) == 1
