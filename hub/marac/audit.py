"""Consultation entries for MARAC views (DPA 2018 s62): who looked, at what, for what purpose.

Purpose codes (the ledger stores codes, never free text): each view and export of MARAC
data is one of these. A view of a disclosure's values names the disclosure, its fields and
its entry, as the inbox does (``hub.sharing.inbox.consultation_for``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from hub.ledger import store
from hub.ledger.events import consultation_event
from hub.marac.actor import MaracActor
from hub.sharing.models import Disclosure

REFERRALS_VIEW = "marac_referrals_view"
LAPSED_VIEW = "marac_lapsed_view"
AGENDA_VIEW = "marac_agenda_view"
CASE_VIEW = "marac_case_view"
PACK_EXPORT = "marac_pack_export"
RESEARCH_VIEW = "marac_research_view"
PURPOSES = (REFERRALS_VIEW, LAPSED_VIEW, AGENDA_VIEW, CASE_VIEW, PACK_EXPORT, RESEARCH_VIEW)
_MAX_SUBJECTS = 16


def record_view(
    session: Session, who: MaracActor, purpose: str, *, subjects: Sequence[str] = ()
) -> int:
    """One consultation for a list or page; returns its ledger index."""
    event = consultation_event(
        who.ledger_actor,
        ref=f"marac-{secrets.token_hex(8)}",
        purpose=purpose,
        subjects=sorted(set(subjects))[:_MAX_SUBJECTS] or None,
    )
    (entry,) = store.append_entries(session, [event])
    return entry.index


def record_reads(
    session: Session, who: MaracActor, purpose: str, disclosures: Sequence[Disclosure]
) -> list[int]:
    """One consultation per disclosure whose values the caller is shown."""
    events = [
        consultation_event(
            who.ledger_actor,
            ref=d.id,
            purpose=purpose,
            subjects=sorted(set(d.subjects))[:_MAX_SUBJECTS] or None,
            fields=list(d.fields_released) or None,
            entry=d.ledger_index,
        )
        for d in disclosures
    ]
    return [e.index for e in store.append_entries(session, events)] if events else []
