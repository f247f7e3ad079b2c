"""``hub demo``'s MARAC data: a meeting in progress, made through the real services."""

from __future__ import annotations

from hub import marac
from hub.marac.demo import ensure_demo_marac
from hub.operations import verify_whole_ledger
from hub.people import accounts
from hub.people.demo import ensure_demo_people
from tests.marac.conftest import VICTIM_FIRST, YOT_REP


def _coordinator(session, email: str) -> marac.MaracActor:
    person = accounts.find(session, email)
    return marac.MaracActor(person.partner_id, person_pseudonym=person.pseudonym,
                            roles=frozenset(person.roles))


def test_demo_meeting_in_progress(session, ctx, settings):
    rules = accounts.rules_from_settings(settings)
    ensure_demo_people(session, rules)
    session.commit()
    lines = ensure_demo_marac(session, ctx)
    assert lines[0].startswith("marac: Leicestershire MARAC meeting on")
    assert ensure_demo_marac(session, ctx) == ["marac: demo meetings already there"]
    leics = _coordinator(session, "marac@leics-police.demo.hub.example")
    held, current = marac.meetings(session, leics, "leics-marac")
    assert held.status == "held" and current.status == "in_progress"
    assert current.cases == 3 and current.research_returned == 1 and current.signatures == 2
    referrals = marac.referrals(session, leics, "leics-marac")
    assert sum(r.repeat for r in referrals) == 1
    agenda = marac.agenda(session, leics, current.id)
    assert len(agenda.carried_actions) == 1 and agenda.carried_actions[0].overdue
    assert len(agenda.children_cases) == 2 and len(agenda.adult_cases) == 1
    # research was due yesterday: Victim First returned one case of three
    kinds = [p.kind for p in marac.overdue_prompts(session, VICTIM_FIRST)]
    assert sorted(kinds) == ["action_overdue", "research_overdue", "research_overdue"]
    sutton = _coordinator(session, "marac@safer-sutton.demo.hub.example")
    (meeting,) = marac.meetings(session, sutton, "sutton-community-marac")
    assert meeting.research_sent == 2  # police and children's services; outreach refused
    assert marac.maracs_for(session, YOT_REP) == []
    session.close()
    ok, report = verify_whole_ledger(settings, None)
    assert ok, report
