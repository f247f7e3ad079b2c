"""The referral workflow: ``sent → received → accepted | declined → closed``.

Only the recipient moves a referral along. An outcome it reports goes back to the sender
only through a *return flow* (an in-force flow from recipient to sender marked
``return_flow``): the outcome is itself a disclosure, decided, recorded and delivered like
any other. Without such a flow the sender sees the status change and nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from hub.agreements.services import LivePolicy, live_policy
from hub.consent.services import cited_records
from hub.db import utcnow
from hub.errors import Conflict, NotFound
from hub.ledger import store
from hub.ledger.events import refusal_event
from hub.policy import Decision
from hub.policy.consent import ConsentRecord
from hub.sharing.context import SharingContext
from hub.sharing.disclosures import Pending, record_all
from hub.sharing.models import Disclosure
from hub.sharing.referrals import actor_for, decide_message
from hub.sharing.release import released

TRANSITIONS: dict[str, frozenset[str]] = {
    "sent": frozenset({"received", "accepted", "declined"}),
    "received": frozenset({"accepted", "declined"}),
    "accepted": frozenset({"closed"}),
    "declined": frozenset({"closed"}),
}


def set_status(
    session: Session,
    ctx: SharingContext,
    partner_id: str,
    disclosure_id: str,
    status: str,
    outcome: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Move the caller's received referral on; carry an outcome back if the law allows."""
    referral = session.get(Disclosure, disclosure_id)
    if not released(referral) or partner_id not in {referral.sender_id, referral.recipient_id}:
        raise NotFound("no such referral sent by or to you")
    if partner_id != referral.recipient_id:
        raise Conflict("only the recipient changes a referral's status; senders withdraw it")
    allowed = TRANSITIONS.get(referral.status, frozenset())
    if status not in allowed:
        raise Conflict(
            f"a {referral.status} referral cannot become {status}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
    referral.status = status
    referral.updated_at = utcnow()
    result: dict[str, Any] = {"id": referral.id, "status": status}
    if outcome:
        result["outcome"] = _return_outcome(session, ctx, referral, outcome)
    session.commit()
    return result


def _return_outcome(
    session: Session, ctx: SharingContext, referral: Disclosure, outcome: Mapping[str, Any]
) -> dict[str, Any]:
    """Decide the outcome under the return flow; record it either way.

    With no return flow at all there is nothing to decide field by field, but the refusal
    is still a decision and goes on the ledger ("refusals are ledger entries too").
    """
    policy = live_policy(session, ctx.catalogues)
    purposes = _return_purposes(policy, referral)
    if not purposes:
        entry = store.append_entry(
            session,
            refusal_event(
                actor_for(referral.recipient_id),
                kind="outcome",
                ref=referral.id,
                recipients=[referral.sender_id],
                purpose=referral.purpose,
                subjects=list(referral.subjects) or None,
                reasons=["no_return_flow"],
            ),
        )
        return {
            "shared": False,
            "ledger_index": entry.index,
            "reasons": [
                {
                    "reason": "no_return_flow",
                    "detail": "no in-force agreement lets this outcome go back to the sender",
                }
            ],
        }
    records = cited_records(session, referral.recipient_id, outcome)
    decision = _best_decision(policy, ctx, referral, purposes, outcome, records)
    pending = Pending(decision=decision, subjects=list(referral.subjects), kind="outcome")
    (recorded,) = record_all(session, ctx, actor_for(referral.recipient_id), [pending])
    if recorded.disclosure is None:
        return {
            "shared": False,
            "ledger_index": recorded.ledger_index,
            "reasons": [{"reason": str(r.reason), "detail": r.detail} for r in decision.refusals],
        }
    recorded.disclosure.answers_id = referral.id
    referral.outcome_id = recorded.disclosure.id
    return {
        "shared": True,
        "id": recorded.disclosure.id,
        "released": sorted(decision.released),
        "withheld": [{"field": w.field, "reason": str(w.reason)} for w in decision.withheld],
        "ledger_index": recorded.ledger_index,
    }


def _return_purposes(policy: LivePolicy, referral: Disclosure) -> list[str]:
    purposes = []
    for reg in policy.agreements:
        for flow in reg.agreement.flows:
            if (
                flow.return_flow
                and flow.sender == referral.recipient_id
                and flow.recipient == referral.sender_id
                and flow.purpose not in purposes
            ):
                purposes.append(flow.purpose)
    return purposes


def _best_decision(
    policy: LivePolicy,
    ctx: SharingContext,
    referral: Disclosure,
    purposes: list[str],
    outcome: Mapping[str, Any],
    records: Mapping[str, ConsentRecord],
) -> Decision:
    """The first return-flow purpose that allows the outcome, else the first refusal."""
    decisions = [
        decide_message(
            policy,
            ctx,
            referral.recipient_id,
            {**outcome, "to": referral.sender_id, "purpose": purpose},
            records,
        )
        for purpose in purposes
    ]
    return next((d for d in decisions if d.allowed), decisions[0])
