"""Every table's model imported in one place, so Alembic and tests see the whole schema."""

from __future__ import annotations

from hub.agreements.models import AgreementRecord
from hub.db import Base
from hub.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from hub.oauth.models import AccessToken, UsedAssertion
from hub.partners.models import Partner

metadata = Base.metadata

__all__ = [
    "AccessToken",
    "AgreementRecord",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHead",
    "LedgerNode",
    "Partner",
    "UsedAssertion",
    "metadata",
]
