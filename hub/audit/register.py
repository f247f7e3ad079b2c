"""The agreement register and the data-sharing map (NHS ISG's register and map; Essex WEISF).

Every stored agreement version with its live status (recomputed from the document, the
signatures and the partners' registered keys, exactly as ``decide()`` sees it), each party's
signature, effective and review dates, and a review light: amber from three months before
the review date (the lead organisation is told then), red once overdue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.agreements.services import live_policy
from hub.audit.deadlines import add_months
from hub.partners.models import Partner
from hub.policy import Catalogues

REVIEW_WARNING_MONTHS = 3


@dataclasses.dataclass(frozen=True)
class PartySignature:
    party: str
    role: str
    signed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class FlowLine:
    sender: str
    recipient: str
    purpose: str
    basis: tuple[str, ...]
    fields: tuple[str, ...]
    retention_days: int


@dataclasses.dataclass(frozen=True)
class RegisterRow:
    """One agreement version in the register."""

    id: str
    version: int
    title: str
    type: str
    status: str
    reasons: tuple[str, ...]
    signatures: tuple[PartySignature, ...]
    effective_from: dt.date
    effective_to: dt.date | None
    review_by: dt.date
    review_state: str  # ok | due_soon | overdue
    flows: tuple[FlowLine, ...]
    purposes: tuple[str, ...]
    security: str
    retention: str

    @property
    def light(self) -> str:
        """The register's colour: red (not in force or overdue), amber, green."""
        if self.status != "in_force" or self.review_state == "overdue":
            return "red"
        return "amber" if self.review_state == "due_soon" else "green"


def review_state(review_by: dt.date, today: dt.date) -> str:
    """``overdue`` after the date, ``due_soon`` within three months of it, else ``ok``."""
    if today > review_by:
        return "overdue"
    if today >= add_months(review_by, -REVIEW_WARNING_MONTHS):
        return "due_soon"
    return "ok"


def agreement_register(
    session: Session, catalogues: Catalogues, now: dt.datetime
) -> list[RegisterRow]:
    """Every listed agreement version, newest version first within each id."""
    policy = live_policy(session, catalogues)
    rows = []
    for reg in policy.agreements:
        agreement = reg.agreement
        status = policy.status(reg, now)
        by_party = {s.party: s for s in reg.signatures}
        signatures = tuple(
            PartySignature(
                p.id,
                p.role,
                bool(by_party.get(p.id) and by_party[p.id].ok),
                by_party[p.id].code if p.id in by_party else "missing",
            )
            for p in agreement.parties
        )
        flows = tuple(
            FlowLine(
                f.sender, f.recipient, f.purpose, tuple(f.basis), tuple(sorted(f.fields)),
                f.retention_days,
            )  # fmt: skip
            for f in agreement.flows
        )
        rows.append(
            RegisterRow(
                id=agreement.id,
                version=agreement.version,
                title=agreement.title,
                type=agreement.type,
                status=status.status,
                reasons=tuple(r.message for r in status.reasons),
                signatures=signatures,
                effective_from=agreement.effective_from,
                effective_to=agreement.effective_to,
                review_by=agreement.review_by,
                review_state=review_state(agreement.review_by, now.date()),
                flows=flows,
                purposes=tuple(agreement.purposes),
                security=agreement.governance.get("security", ""),
                retention=agreement.governance.get("retention_and_disposal", ""),
            )
        )
    rows.sort(key=lambda r: (r.id, -r.version))
    return rows


def partner_names(session: Session) -> dict[str, str]:
    """Partner id to display name, for the map and the record of processing."""
    return {p.id: p.name for p in session.scalars(select(Partner))}
