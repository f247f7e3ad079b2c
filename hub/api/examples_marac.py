"""Examples for the MARAC operations: the Leicestershire MARAC of the demo partnership.

The request examples are what Victim First's case-management system sends for the demo
meeting (``hub demo``): its research on a case, and its report on an action it owns. Ids
are the shapes the hub returns; nobody here exists.
"""

from __future__ import annotations

from typing import Any

MEETING_ID = "3b9e6a52-6c1e-4d1f-9a57-0c2f3e8d4b11"
REQUEST_ID = "7f4c1d2e-5b6a-4c3d-8e9f-1a2b3c4d5e6f"
CIRCULATION_ID = "0d6e2f4a-8b1c-4e3d-9f5a-6b7c8d9e0f12"
RETURN_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
ACTION_ID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"

RESEARCH_REQUEST: dict[str, Any] = {
    "id": REQUEST_ID,
    "meeting_id": MEETING_ID,
    "marac_id": "leics-marac",
    "case_number": "LEI-2026-001",
    "agency": "victim-first",
    "member_kind": "core",
    "status": "delivered",
    "circulation_id": CIRCULATION_ID,
    "circulation_ledger_index": 71,
    "circulated_fields": [
        "children_in_household",
        "date_of_birth",
        "family_name",
        "given_name",
        "marac_case_number",
        "marac_criterion",
        "perpetrator_name",
        "risk_level",
    ],
    "research_due": "2026-12-04",
    "returned_at": None,
    "return_id": None,
}
RESEARCH_REQUESTS = {"items": [RESEARCH_REQUEST]}

RESEARCH_RETURN: dict[str, Any] = {
    "data": {
        "marac_research_summary": "Known since March; four contacts, two missed. Victim "
        "reports the perpetrator waits outside her work.",
        "last_contact_date": "2026-11-24",
        "case_status": "in_progress",
        "safe_time": "Weekdays 10:00-12:00",
        "professional_judgement": "Risk escalating since the separation in October.",
        "risk_level": "very_high",
    },
    "not_shared": [
        {"field": "disability", "reason": "not_relevant", "detail": "held, not relevant"},
        {
            "field": "mental_health",
            "reason": "consult_originator",
            "detail": "from her GP; GP to be asked",
        },
    ],
}
RESEARCH_RETURNED: dict[str, Any] = {
    "request_id": REQUEST_ID,
    "status": "returned",
    "id": RETURN_ID,
    "ledger_index": 88,
    "released": [
        "case_status",
        "last_contact_date",
        "marac_case_number",
        "marac_research_summary",
        "professional_judgement",
        "risk_level",
        "safe_time",
    ],
    "withheld": [],
    "not_shared": RESEARCH_RETURN["not_shared"],
}

MEETINGS = {
    "items": [
        {
            "id": MEETING_ID,
            "marac_id": "leics-marac",
            "held_on": "2026-12-07",
            "research_due": "2026-12-04",
            "status": "in_progress",
            "signed": False,
        }
    ]
}
SIGNATURE = {
    "meeting_id": MEETING_ID,
    "agency": "victim-first",
    "signed_by": "victim-first",
    "signed_at": "2026-12-01T10:15:00+00:00",
    "statement_digest": "sha256:" + "5" * 64,
    "statement": "Information discussed by the agency representatives at this meeting is "
    "strictly confidential ...",
}

ACTION: dict[str, Any] = {
    "id": ACTION_ID,
    "marac_id": "leics-marac",
    "meeting_id": MEETING_ID,
    "case_number": "LEI-2026-001",
    "owner_agency": "victim-first",
    "text": "Offer a safety planning session within 7 days",
    "due": "2026-12-14",
    "status": "open",
    "reported_on": None,
    "note": None,
    "overdue": False,
    "update_ledger_index": None,
}
ACTIONS = {"items": [ACTION]}
ACTION_UPDATE = {"status": "done", "note": "Safety plan agreed with the victim on 9 December."}
ACTION_UPDATED = {
    **ACTION,
    "status": "done",
    "reported_on": "2026-12-09",
    "note": ACTION_UPDATE["note"],
    "update_ledger_index": 93,
}
