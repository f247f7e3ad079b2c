"""Every console view of the ledger is itself logged: a ``consultation`` entry (DPA 2018 s62).

Searching is a consultation too. The entry names the agency and the person's pseudonym (never
an email), a purpose code and, when the view is about a person, their subject commitments,
so a later subject access request lists who looked the person up.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from hub.audit.scope import Viewer
from hub.ledger import store
from hub.ledger.events import consultation_event

# Purpose codes of console views (the ledger stores codes, never free text).
DISCLOSURE_SEARCH = "dpo_disclosure_search"
ENTRY_VIEW = "dpo_entry_view"
SUBJECT_ACCESS = "subject_access"
NOTICES_VIEW = "dpo_art19_review"
EXPORT = "dpo_disclosure_export"


def record_consultation(
    session: Session,
    viewer: Viewer,
    purpose: str,
    *,
    subjects: Sequence[str] = (),
    entry: int | None = None,
) -> int:
    """Append the consultation in the caller's transaction; return its ledger index."""
    event = consultation_event(
        viewer.actor,
        ref=f"console-{secrets.token_hex(8)}",
        purpose=purpose,
        subjects=sorted(set(subjects)) or None,
        entry=entry,
    )
    (appended,) = store.append_entries(session, [event])
    return appended.index
