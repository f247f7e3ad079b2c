"""Every table's model imported in one place, so Alembic and tests see the whole schema."""

from __future__ import annotations

from hub.agreements.models import AgreementRecord
from hub.db import Base
from hub.delivery.models import OutboxMessage
from hub.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode, LedgerOrigin
from hub.oauth.models import AccessToken, UsedAssertion
from hub.partners.models import Partner
from hub.sharing.models import Alert, Disclosure, IdempotencyRecord, InboxItem

metadata = Base.metadata

__all__ = [
    "AccessToken",
    "Alert",
    "AgreementRecord",
    "Disclosure",
    "IdempotencyRecord",
    "InboxItem",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHead",
    "LedgerNode",
    "LedgerOrigin",
    "OutboxMessage",
    "Partner",
    "UsedAssertion",
    "metadata",
]
