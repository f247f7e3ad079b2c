"""The log's pinned origin: set once, and every later start and checkpoint must match it.

The origin is the first line of every checkpoint and the name its signature covers. It is
derived from the settings (``HUB_ORIGIN``, else ``HUB_ISSUER``) only until the log pins
it; after that a different configured origin is refused with a message naming both.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.ledger.errors import LedgerError
from hub.ledger.models import ORIGIN_ID, LedgerOrigin


class OriginMismatch(LedgerError):
    """The configured origin is not the one the log was pinned to."""

    def __init__(self, pinned: str, configured: str) -> None:
        self.pinned = pinned
        self.configured = configured
        super().__init__(
            f"the log's origin is pinned to {pinned!r} but these settings give "
            f"{configured!r} (from HUB_ORIGIN, else HUB_ISSUER); checkpoints under a new "
            f"name would not verify against the published ones. Set HUB_ORIGIN={pinned} "
            "to keep the log's name (HUB_ISSUER may then change freely)."
        )


def pinned_origin(session: Session) -> str | None:
    """The pinned origin, or ``None`` if the log has not pinned one yet."""
    return session.scalar(select(LedgerOrigin.origin).where(LedgerOrigin.id == ORIGIN_ID))


def check_origin(session: Session, configured: str) -> None:
    """Raise :class:`OriginMismatch` unless the log is unpinned or pinned to ``configured``."""
    pinned = pinned_origin(session)
    if pinned is not None and pinned != configured:
        raise OriginMismatch(pinned, configured)


def pin_origin(session: Session, configured: str) -> str:
    """Pin ``configured`` if nothing is pinned (flushes, no commit); refuse a mismatch."""
    pinned = pinned_origin(session)
    if pinned is None:
        session.add(LedgerOrigin(id=ORIGIN_ID, origin=configured, pinned_at=utcnow()))
        session.flush()
        return configured
    if pinned != configured:
        raise OriginMismatch(pinned, configured)
    return pinned
