"""Risk alerts: one message fanned out to every partner an in-force flow lets receive it.

An alert is not a broadcast. Each recipient is decided on its own by the policy engine
(its own allow-list, redaction and basis) and recorded on its own ledger entry, release or
refusal alike, all in one transaction with the :class:`Alert` row: either the whole fan-out
is on the ledger or none of it is (fail closed).

The hub also checks the SafeLives *repeat* criterion (a further incident within 12 months
of the last MARAC referral about the same victim) from subject commitments alone, so it can
say "this is a repeat" without any name being compared or stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hub.agreements.services import LivePolicy, live_policy
from hub.consent.services import cited_records
from hub.db import utcnow
from hub.errors import NotFound, ValidationFailed, problem_body
from hub.ledger import store
from hub.ledger.events import refusal_event, validate_event
from hub.policy import Reason, parse_request
from hub.sharing.context import SharingContext
from hub.sharing.disclosures import Pending, Recorded, record_all
from hub.sharing.models import Alert, Disclosure, new_id
from hub.sharing.referrals import (
    Outcome,
    actor_for,
    created_body,
    decide_message,
    refused_body,
)
from hub.sharing.subjects import subject_commitments

ALERT_KINDS = (
    "marac_high_risk",
    "repeat_within_12_months",
    "missing_child",
    "serious_further_offence",
)
# SafeLives: 14 or more "yes" answers on the DASH checklist is visible high risk.
DASH_THRESHOLD = 14
# SafeLives repeat criterion: within 12 months of the last MARAC referral.
REPEAT_WINDOW = dt.timedelta(days=365)
MARAC_PURPOSE_MARK = "marac"
PAGE_LIMIT = 100


def send_alert(
    session: Session, ctx: SharingContext, sender: str, body: Mapping[str, Any]
) -> Outcome:
    """Decide, record and deliver one alert to every recipient its purpose's flows allow.

    Raises :class:`RequestValidationError` or :class:`ValidationFailed` (422) before
    anything is recorded. With no in-force flow for the purpose at all, records one refusal
    and answers 403; otherwise 201 with one result (201 or 403) per recipient.
    """
    kind, purpose = str(body["kind"]), str(body["purpose"])
    if kind not in ALERT_KINDS:
        raise ValidationFailed(
            f"kind must be one of {', '.join(ALERT_KINDS)}",
            errors=[{"pointer": "#/kind", "code": "not_in_enum", "detail": "unknown alert kind"}],
        )
    message = {
        k: body[k]
        for k in ("purpose", "data", "consent", "subject", "justification")
        if k in body
    }
    # The catalogue check does not depend on the recipient; the sender stands in for it.
    parsed = parse_request({**message, "from": sender, "to": sender}, ctx.catalogues.fields)
    criteria = evidence_criteria(kind, parsed.data)
    subjects = subject_commitments(ctx.subject_secret, body.get("data") or {})
    policy = live_policy(session, ctx.catalogues)
    now = utcnow()
    recipients = fan_out_recipients(policy, sender, purpose, now)
    if not recipients:
        return _refuse_alert(session, ctx, policy, sender, message, subjects, now)
    repeat = is_repeat(session, sender, subjects, now)
    alert = Alert(
        id=new_id(), sender_id=sender, kind=kind, purpose=purpose, repeat=repeat, created_at=now
    )
    session.add(alert)
    session.flush()  # the disclosures' alert_id must find the row on PostgreSQL
    records = cited_records(session, sender, message)
    pending = [
        Pending(
            decision=decide_message(
                policy, ctx, sender, {**message, "to": recipient}, records
            ),
            subjects=subjects,
            kind="alert",
            alert_id=alert.id,
        )
        for recipient in recipients
    ]
    recorded = record_all(session, ctx, actor_for(sender), pending)
    alert.refused = [
        {
            "to": item.decision.recipient,
            "reasons": sorted({str(r.reason) for r in item.decision.refusals}),
            "ledger_index": item.ledger_index,
        }
        for item in recorded
        if item.disclosure is None
    ]
    result = {
        "id": alert.id,
        "kind": kind,
        "purpose": purpose,
        "repeat": repeat,
        "criteria": [*criteria, "repeat"] if repeat else criteria,
        "created_at": now.isoformat(),
        "recipients": [_recipient_result(session, item) for item in recorded],
    }
    session.commit()
    return Outcome(201, result)


def evidence_criteria(kind: str, data: Mapping[str, Any]) -> list[str]:
    """The MARAC criteria the alert's own data shows (``marac_criterion`` vocabulary).

    A MARAC high-risk alert must show one: a DASH score of 14 or more, or a professional
    judgement (the ``professional_judgement`` text, or ``marac_criterion`` saying so).
    Otherwise it is a 422 naming the fields, so that nobody is labelled high risk on no
    recorded ground.
    """
    met: list[str] = []
    score = data.get("dash_score")
    if isinstance(score, int) and score >= DASH_THRESHOLD:
        met.append("visible_high_risk")
    judged = data.get("marac_criterion") == "professional_judgement"
    if data.get("professional_judgement") or judged:
        met.append("professional_judgement")
    if kind == "marac_high_risk" and not met:
        raise ValidationFailed(
            "A MARAC high-risk alert needs a DASH score of 14 or more, or a professional "
            "judgement; see errors.",
            errors=[
                {
                    "pointer": "#/data/dash_score",
                    "code": "missing" if score is None else "below_threshold",
                    "detail": f"must be {DASH_THRESHOLD} or more for visible high risk",
                },
                {
                    "pointer": "#/data/professional_judgement",
                    "code": "missing",
                    "detail": "or give the professional judgement of risk "
                    "(or marac_criterion professional_judgement)",
                },
            ],
        )
    return met


def fan_out_recipients(
    policy: LivePolicy, sender: str, purpose: str, now: dt.datetime
) -> list[str]:
    """Every partner an in-force flow lets ``sender`` alert for ``purpose``, sorted.

    ``decide()`` still decides each one: this only says whom to ask about.
    """
    return sorted(
        {
            flow.recipient
            for reg in policy.agreements
            for flow in reg.agreement.flows
            if flow.sender == sender
            and flow.purpose == purpose
            and policy.status(reg, now).in_force
        }
    )


def is_repeat(session: Session, partner_id: str, subjects: Sequence[str], now: dt.datetime) -> bool:
    """True if a MARAC referral to or from ``partner_id`` shares a subject commitment and is
    less than 12 months old.

    Only referrals the caller itself sent or received count: the answer is shown to the
    caller, and must not reveal another agency's referral. Erased or withdrawn referrals
    (made in error) do not count.

    Portability: ``Disclosure.subjects`` is a JSON list, and JSON containment is ``@>`` on
    PostgreSQL (JSONB only) but ``json_each`` on SQLite. Rather than two dialects, select
    the candidates by party, purpose and time (the sender/created_at and recipient indexes)
    and compare commitments in Python; a co-ordinator sees at most a few thousand MARAC
    referrals a year.
    """
    wanted = set(subjects)
    if not wanted:
        return False
    candidates = session.scalars(
        select(Disclosure.subjects).where(
            or_(Disclosure.sender_id == partner_id, Disclosure.recipient_id == partner_id),
            Disclosure.created_at >= now - REPEAT_WINDOW,
            Disclosure.kind == "referral",
            Disclosure.purpose.contains(MARAC_PURPOSE_MARK),
            Disclosure.erased_at.is_(None),
            Disclosure.status != "withdrawn",
        )
    )
    return any(wanted.intersection(found or ()) for found in candidates)


def _recipient_result(session: Session, recorded: Recorded) -> dict[str, Any]:
    decision = recorded.decision
    if recorded.disclosure is None:
        return {
            "to": decision.recipient,
            "status": 403,
            "problem": refused_body(decision, recorded.ledger_index),
        }
    return {**created_body(session, recorded), "status": 201}


def _refuse_alert(
    session: Session,
    ctx: SharingContext,
    policy: LivePolicy,
    sender: str,
    message: Mapping[str, Any],
    subjects: list[str],
    now: dt.datetime,
) -> Outcome:
    """No flow in force for the purpose: one refusal entry with no recipients, then 403.

    No ``Alert`` row: nothing was sent. The refusal is still recorded (HM Government
    advice: record the decision and the reason whether you share or not).
    """
    purpose = str(message["purpose"])
    reasons = [
        {
            "reason": str(Reason.NO_AGREEMENT),
            "detail": f"no agreement in force has a flow from {sender} for purpose {purpose}",
        },
        *_blocked_flows(policy, sender, purpose, now),
    ]
    event = refusal_event(
        actor_for(sender),
        kind="alert",
        recipients=[],
        purpose=purpose,
        subjects=subjects,
        fields_withheld=[
            {"field": name, "reason": str(Reason.NO_AGREEMENT)}
            for name in sorted(message.get("data") or {})
        ],
        reasons=sorted({r["reason"] for r in reasons}),
    )
    validate_event(event, ctx.field_names)
    (entry,) = store.append_entries(session, [event])
    session.commit()
    return Outcome(
        403,
        problem_body(
            403,
            f"Nobody may be alerted by {sender} for {purpose}; see reasons.",
            problem="policy-refused",
            reasons=reasons,
            ledger_index=entry.index,
        ),
    )


def _blocked_flows(
    policy: LivePolicy, sender: str, purpose: str, now: dt.datetime
) -> Iterable[dict[str, str]]:
    """Why flows that exist for the purpose cannot be used (expired, unsigned, ...)."""
    for reg in policy.agreements:
        if any(f.sender == sender and f.purpose == purpose for f in reg.agreement.flows):
            status = policy.status(reg, now)
            yield {
                "reason": f"agreement_{status.status}",
                "detail": "; ".join(r.message for r in status.reasons)
                or f"{reg.agreement.id} is {status.status}",
            }


def alerts_sent(
    session: Session, partner_id: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    """The caller's alerts, newest first, with each delivered recipient; no values.

    ``cursor`` is the id of the last alert of the previous page.
    """
    limit = max(1, min(limit, PAGE_LIMIT))
    query = select(Alert).where(Alert.sender_id == partner_id)
    if cursor:
        after = session.get(Alert, cursor)
        if after is None or after.sender_id != partner_id:
            raise NotFound("no such alert (cursor) sent by you")
        query = query.where(
            or_(
                Alert.created_at < after.created_at,
                and_(Alert.created_at == after.created_at, Alert.id < after.id),
            )
        )
    alerts = list(
        session.scalars(query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit + 1))
    )
    more = len(alerts) > limit
    alerts = alerts[:limit]
    delivered = _delivered(session, [a.id for a in alerts])
    return {
        "items": [_alert_view(a, delivered.get(a.id, [])) for a in alerts],
        "next_cursor": alerts[-1].id if more else None,
        "has_more": more,
    }


def alert_for(session: Session, partner_id: str, alert_id: str) -> dict[str, Any]:
    """One alert for its sender; 404 for anyone else (whether it exists is not theirs)."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.sender_id != partner_id:
        raise NotFound("no such alert sent by you")
    return _alert_view(alert, _delivered(session, [alert.id]).get(alert.id, []))


def _delivered(session: Session, alert_ids: list[str]) -> dict[str, list[Disclosure]]:
    found: dict[str, list[Disclosure]] = {}
    if not alert_ids:
        return found
    rows = session.scalars(
        select(Disclosure)
        .where(Disclosure.alert_id.in_(alert_ids), Disclosure.ledger_index.is_not(None))
        .order_by(Disclosure.recipient_id)
    )
    for disclosure in rows:
        found.setdefault(str(disclosure.alert_id), []).append(disclosure)
    return found


def _alert_view(alert: Alert, disclosures: Sequence[Disclosure]) -> dict[str, Any]:
    """Names, ids and statuses only: the sender's own record of whom it alerted.

    Refused recipients are listed too, with their reason codes and ledger entries.
    """
    return {
        "id": alert.id,
        "kind": alert.kind,
        "purpose": alert.purpose,
        "repeat": alert.repeat,
        "created_at": alert.created_at.isoformat(),
        "recipients": [
            {
                "to": d.recipient_id,
                "id": d.id,
                "status": d.status,
                "released": list(d.fields_released),
                "ledger_index": d.ledger_index,
                "erased": d.erased_at is not None,
            }
            for d in disclosures
        ],
        "refused": list(alert.refused or []),
    }
