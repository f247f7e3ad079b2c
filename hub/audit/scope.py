"""Who is asking, and what of the ledger that lets them see (docs/architecture.md, roles).

- ``hub_dpo``: the whole partnership, entry bodies included.
- ``dpo``: entries where their agency is the actor or a recipient, plus every partner,
  agreement and key event (the partnership's structure is not personal data), bodies of
  those entries included.
- ``auditor``: ledger metadata only. The projection's columns (type, time, acting agency,
  recipients, agreement, purpose, basis, result, reason codes) and the proofs; never an
  entry body, subject commitments, field names or the pseudonym of the member of staff who
  acted, since together those describe what was shared about whom and by whom. Auditors
  cannot run a subject access search.

Anything out of scope is reported as missing (404), never as forbidden: whether two other
agencies shared is not the asker's to know.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import ColumnElement, exists, or_, select

from hub.errors import PermissionDenied
from hub.ledger.projection import events_table, recipients_table

STRUCTURE_EVENTS = ("partner", "agreement", "key")
ALL, AGENCY, METADATA = "all", "agency", "metadata"


@dataclasses.dataclass(frozen=True)
class Viewer:
    """The signed-in person as the audit services need them (no Flask objects)."""

    partner_id: str
    roles: frozenset[str]
    pseudonym: str

    @property
    def scope(self) -> str:
        """The widest scope any of the person's roles gives."""
        if "hub_dpo" in self.roles:
            return ALL
        if "dpo" in self.roles:
            return AGENCY
        if "auditor" in self.roles:
            return METADATA
        raise PermissionDenied("the DPO console needs the dpo, hub_dpo or auditor role")

    @property
    def sees_bodies(self) -> bool:
        """Whether entry bodies, subjects and field names may be shown."""
        return self.scope in (ALL, AGENCY)

    @property
    def actor(self) -> dict[str, str]:
        """The ledger actor for consultations this person causes."""
        return {"partner": self.partner_id, "user": self.pseudonym}

    def require_bodies(self) -> None:
        """Refuse (403) a view that only DPOs may have, such as subject access."""
        if not self.sees_bodies:
            raise PermissionDenied("this view shows personal data and needs a DPO role")


def in_scope(viewer: Viewer) -> ColumnElement[bool] | None:
    """A WHERE clause on ``audit_events`` limiting rows to the viewer's scope (None: all)."""
    if viewer.scope != AGENCY:
        return None
    partner = viewer.partner_id
    # An alias, correlated to the events table only, so queries that also join the
    # recipients table (the charts) keep their own join.
    mine = recipients_table.alias("scope_recipients")
    received = exists(
        select(mine.c.idx)
        .where(mine.c.idx == events_table.c.idx, mine.c.partner == partner)
        .correlate(events_table)
    )
    return or_(
        events_table.c.actor_partner == partner,
        events_table.c.type.in_(STRUCTURE_EVENTS),
        received,
    )


def may_see(viewer: Viewer, actor_partner: str, event_type: str, recipients: set[str]) -> bool:
    """The same rule as :func:`in_scope`, for one row already loaded."""
    if viewer.scope != AGENCY:
        return True
    return (
        actor_partner == viewer.partner_id
        or event_type in STRUCTURE_EVENTS
        or viewer.partner_id in recipients
    )
