"""The MARAC use cases, in one import (the console and the API use these).

Every function takes a Session and a :class:`~hub.marac.actor.MaracActor` and enforces who
may do it: co-ordinator = a person holding ``marac_coordinator`` at the co-ordinating
partner; member = any person or API client of a member agency; a perpetrator-facing agency
gets :class:`~hub.marac.errors.NotFound` for everything, exactly as for a missing id.
Functions that write (ledger entries, rows) commit their own transaction. Views of lists,
agendas, cases and packs are consultation entries (``hub.marac.audit``).
"""

from __future__ import annotations

from hub.marac.actions import action, actions, add_action, update_action
from hub.marac.calendar import (
    add_case_to_meeting,
    agenda,
    create_meeting,
    finish_meeting,
    maracs_for,
    meeting,
    meetings,
    sign_statement,
    signatures,
)
from hub.marac.cases import cases, lapsed, referrals
from hub.marac.casework import case_view, meeting_pack, research_case
from hub.marac.prompts import overdue_prompts
from hub.marac.research import (
    circulate_research,
    research_request,
    research_requests,
    return_research,
)

__all__ = [
    "action",
    "actions",
    "add_action",
    "add_case_to_meeting",
    "agenda",
    "case_view",
    "cases",
    "circulate_research",
    "create_meeting",
    "finish_meeting",
    "lapsed",
    "maracs_for",
    "meeting",
    "meeting_pack",
    "meetings",
    "overdue_prompts",
    "referrals",
    "research_case",
    "research_request",
    "research_requests",
    "return_research",
    "sign_statement",
    "signatures",
    "update_action",
]
