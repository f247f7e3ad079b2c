"""The security audit trail: sign-ins, failures, lockouts, refused pages, sign-outs.

Egress and Apache Ranger keep every denied access; so does the hub. A line names the
person by partner and pseudonym, or, for an email that matches nobody, by a keyed hash
(so repeated guesses at one address can be grouped without storing the address). The hub
DPO reads the trail through :func:`security_events`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.people.models import Person, SecurityEvent

EVENT_KINDS: tuple[str, ...] = (
    "sign_in",
    "sign_in_failed",
    "lockout",
    "page_refused",
    "sign_out",
    "session_expired",
    "mfa_enrolled",
    "mfa_reset",
    "security_key_added",
    "recovery_codes_issued",
    "user_added",
    "user_disabled",
)


def email_digest(key: bytes, email: str) -> str:
    """HMAC-SHA256 of the normalised email: groups attempts, reveals nothing by itself."""
    return hmac.new(key, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def record(
    session: Session,
    kind: str,
    *,
    person: Person | None = None,
    email_hash: str | None = None,
    endpoint: str | None = None,
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> SecurityEvent:
    """Add one event to ``session`` (the caller commits, with the change it records)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    event = SecurityEvent(
        at=at or utcnow(),
        kind=kind,
        partner_id=person.partner_id if person else None,
        pseudonym=person.pseudonym if person else None,
        email_hash=None if person else email_hash,
        endpoint=endpoint,
        detail=detail or {},
    )
    session.add(event)
    return event


@dataclasses.dataclass(frozen=True)
class SecurityEventRow:
    """One trail line as the console shows it."""

    id: int
    at: dt.datetime
    kind: str
    partner_id: str | None
    pseudonym: str | None
    email_hash: str | None
    endpoint: str | None
    detail: dict[str, Any]


def security_events(
    session: Session,
    *,
    partner_id: str | None = None,
    kinds: Iterable[str] | None = None,
    pseudonym: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SecurityEventRow]:
    """Trail lines, newest first, filtered; ``until`` is exclusive, ``limit`` at most 1000."""
    query = select(SecurityEvent)
    if partner_id is not None:
        query = query.where(SecurityEvent.partner_id == partner_id)
    if kinds is not None:
        query = query.where(SecurityEvent.kind.in_(list(kinds)))
    if pseudonym is not None:
        query = query.where(SecurityEvent.pseudonym == pseudonym)
    if since is not None:
        query = query.where(SecurityEvent.at >= since)
    if until is not None:
        query = query.where(SecurityEvent.at < until)
    query = query.order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
    query = query.limit(max(1, min(limit, 1000))).offset(max(0, offset))
    return [
        SecurityEventRow(
            id=e.id,
            at=e.at,
            kind=e.kind,
            partner_id=e.partner_id,
            pseudonym=e.pseudonym,
            email_hash=e.email_hash,
            endpoint=e.endpoint,
            detail=dict(e.detail or {}),
        )
        for e in session.scalars(query)
    ]
