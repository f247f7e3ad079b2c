"""The plain frozen values the MARAC services return (to the API and the console).

Lists never carry a name: a case is its case number. Values (``fact``/``opinion`` of a
contribution) appear only in a case view or pack, for a caller entitled to that disclosure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True)
class MaracSummary:
    id: str
    name: str
    coordinator_id: str
    # The caller's place: "coordinator" (co-ordinating partner) or "member".
    role: str
    # "core" or "children_only" (the co-ordinating partner is "core").
    member_kind: str
    agreement_ids: tuple[str, ...]
    members: tuple[tuple[str, str], ...]  # (partner id, member kind)


@dataclasses.dataclass(frozen=True)
class MeetingSummary:
    id: str
    marac_id: str
    held_on: dt.date
    research_due: dt.date
    status: str  # planned | in_progress | held
    cases: int
    research_sent: int
    research_returned: int
    signatures: int
    open_actions: int


@dataclasses.dataclass(frozen=True)
class ReferralRow:
    case_id: str
    case_number: str
    disclosure_id: str
    received_at: dt.datetime
    from_agency: str
    criteria: tuple[str, ...]
    repeat: bool
    status: str  # new | listed | heard
    children: bool


@dataclasses.dataclass(frozen=True)
class CaseRow:
    id: str
    case_number: str
    marac_id: str
    children: bool
    first_referral_at: dt.datetime
    last_referral_at: dt.datetime
    referrals: int
    repeat: bool
    # When the 12 months since the last referral ran out.
    lapses_on: dt.date


@dataclasses.dataclass(frozen=True)
class Prompt:
    """Something overdue for the caller's agency, shown at sign-in."""

    kind: str  # action_overdue | research_overdue | statement_unsigned
    marac_id: str
    meeting_id: str | None
    case_number: str | None
    ref: str | None  # action or research request id
    due: dt.date | None
    agency: str | None
    text: str


@dataclasses.dataclass(frozen=True)
class NotShared:
    """A field an agency did not return, with a reason code and a short text (no values)."""

    field: str
    reason: str
    detail: str = ""


NOT_SHARED_REASONS = {
    "not_held": "The agency holds nothing for this field.",
    "not_relevant": "Held, but not relevant to the risk being considered.",
    "disproportionate": "Sharing it would not be proportionate to the risk.",
    "third_party": "It is about another person who has not been considered for sharing.",
    "legal_restriction": "A legal restriction (court order, legal privilege) prevents sharing.",
    "consult_originator": "It came from another organisation, which must be consulted first.",
    "other": "Another reason, given in the text.",
}


@dataclasses.dataclass(frozen=True)
class ResearchRequestRow:
    id: str
    meeting_id: str
    marac_id: str
    case_id: str
    case_number: str
    agency_id: str
    member_kind: str
    status: str  # delivered | refused | returned
    circulation_id: str | None
    circulation_index: int
    refusal_reasons: tuple[str, ...]
    research_due: dt.date
    returned_at: dt.datetime | None
    return_id: str | None
    # The fields the circulation delivered to the agency (names only).
    fields: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ResearchReturnRow:
    request_id: str
    status: str  # returned | refused
    disclosure_id: str | None
    ledger_index: int
    released: tuple[str, ...]
    withheld: tuple[tuple[str, str], ...]  # (field, reason) the policy held back
    not_shared: tuple[NotShared, ...]
    refusal_reasons: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Signature:
    meeting_id: str
    partner_id: str
    signed_by: str
    signed_at: dt.datetime
    statement_digest: str


@dataclasses.dataclass(frozen=True)
class ActionRow:
    id: str
    marac_id: str
    case_id: str
    case_number: str
    meeting_id: str
    owner_agency: str
    text: str
    due: dt.date
    status: str  # open | done | not_done | circumstances_changed
    reported_on: dt.date | None
    note: str | None
    overdue: bool
    update_index: int | None


@dataclasses.dataclass(frozen=True)
class Agenda:
    """SafeLives order: carried actions, children's cases, adult-only cases, notices."""

    meeting_id: str
    marac_id: str
    held_on: dt.date
    carried_actions: tuple[ActionRow, ...]
    children_cases: tuple[CaseRow, ...]
    adult_cases: tuple[CaseRow, ...]
    notices: tuple[CaseRow, ...]
    ledger_index: int  # the consultation entry this view wrote


@dataclasses.dataclass(frozen=True)
class Contribution:
    """One disclosure about the case as the caller may see it."""

    step: str  # referral | circulation | research_return | action_update
    agency_id: str
    disclosure_id: str
    received_at: dt.datetime
    agreement_id: str
    agreement_version: int
    basis: tuple[str, ...]
    released: tuple[str, ...]
    withheld: tuple[tuple[str, str], ...]
    not_shared: tuple[NotShared, ...]
    fact: dict[str, Any]
    opinion: dict[str, Any]
    ledger_index: int
    erased: bool


@dataclasses.dataclass(frozen=True)
class CaseView:
    id: str
    case_number: str
    marac_id: str
    children: bool
    repeat: bool
    first_referral_at: dt.datetime
    last_referral_at: dt.datetime
    contributions: tuple[Contribution, ...]
    actions: tuple[ActionRow, ...]
    ledger_index: int  # the consultation entry this view wrote


@dataclasses.dataclass(frozen=True)
class MeetingPack:
    marac_id: str
    marac_name: str
    meeting: MeetingSummary
    marking: str
    statement_text: str
    signatures: tuple[Signature, ...]
    agenda: Agenda
    cases: tuple[CaseView, ...]
    actions: tuple[ActionRow, ...]
    generated_at: dt.datetime
    ledger_index: int
