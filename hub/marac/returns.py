"""What an agency may put in its research return: its return flow's fields (for the form).

The console's return form asks field by field; these are the fields the agency's return
flow to the co-ordinator allows, in the MARAC's agreements in force now. ``decide()`` still
rules on the return itself: this only says which fields are worth asking for. The case
number is filled in by :func:`hub.marac.research.return_research` and is not asked.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from hub.agreements.services import live_policy
from hub.marac.actor import MaracActor
from hub.marac.models import Marac
from hub.marac.research import research_request
from hub.sharing.context import SharingContext

FILLED_BY_THE_HUB = frozenset({"marac_case_number"})


def return_fields(
    session: Session, ctx: SharingContext, who: MaracActor, request_id: str
) -> tuple[str, ...]:
    """The fields the caller's agency may return for the request (NotFound as the request)."""
    row = research_request(session, who, request_id)
    marac = session.get_one(Marac, row.marac_id)
    purpose = str(marac.purposes["research_return"])
    policy = live_policy(session, ctx.catalogues)
    now = dt.datetime.now(dt.UTC)
    fields: dict[str, None] = {}
    for registered in policy.agreements:
        agreement = registered.agreement
        if agreement.id not in marac.agreement_ids or not policy.status(registered, now).in_force:
            continue
        for flow in agreement.flows:
            if (flow.sender, flow.recipient, flow.purpose) == (
                row.agency_id, marac.coordinator_id, purpose
            ):
                fields.update(dict.fromkeys(f for f in flow.fields if f not in FILLED_BY_THE_HUB))
    return tuple(fields)
