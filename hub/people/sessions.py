"""Server-side console sessions: the cookie names a token, the row says whether it lives.

Rules: a new token at every sign-in (rotation), an idle timeout and an absolute
lifetime, and signing out deletes the row so a copied cookie is worthless afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.people import audit
from hub.people.models import ConsoleSession, Person

# Writing last_seen on every request would make each page view a write; a minute of slack
# on a 15-minute idle timeout is harmless.
_TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclasses.dataclass(frozen=True)
class SessionRules:
    idle: dt.timedelta
    absolute: dt.timedelta


@dataclasses.dataclass(frozen=True)
class Resumed:
    """``person`` when the session lives; otherwise why not (``unknown``, ``expired``...)."""

    person: Person | None
    reason: str | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(session: Session, person: Person, *, method: str, now: dt.datetime | None = None) -> str:
    """A new session for ``person``; returns the token for the cookie (256 random bits)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_digest(token), person_id=person.id, method=method,
            created_at=now, last_seen_at=now,
        )
    )
    return token


def resume(
    session: Session, token: str, rules: SessionRules, *, endpoint: str | None = None,
    now: dt.datetime | None = None,
) -> Resumed:
    """Look the token up, enforce the timeouts, and note activity; the caller commits."""
    now = now or utcnow()
    row = session.get(ConsoleSession, _digest(token))
    if row is None:
        return Resumed(None, "unknown")
    person = session.get(Person, row.person_id)
    if person is None or person.disabled:
        session.delete(row)
        return Resumed(None, "disabled")
    reason = None
    if now - row.created_at >= rules.absolute:
        reason = "absolute_timeout"
    elif now - row.last_seen_at >= rules.idle:
        reason = "idle_timeout"
    if reason:
        session.delete(row)
        audit.record(session, "session_expired", person=person, endpoint=endpoint,
                     detail={"reason": reason}, at=now)
        return Resumed(None, reason)
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return Resumed(person)


def end(session: Session, token: str) -> Person | None:
    """Delete the session row; returns whose it was (``None`` if it had already gone)."""
    row = session.get(ConsoleSession, _digest(token))
    if row is None:
        return None
    person = session.get(Person, row.person_id)
    session.delete(row)
    return person


def purge_expired(session: Session, rules: SessionRules, now: dt.datetime | None = None) -> int:
    """Delete rows past either limit (the worker or a sign-in may call this)."""
    now = now or utcnow()
    result = session.execute(
        delete(ConsoleSession).where(
            (ConsoleSession.last_seen_at <= now - rules.idle)
            | (ConsoleSession.created_at <= now - rules.absolute)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)

