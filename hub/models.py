"""Every table's model imported in one place, so Alembic and tests see the whole schema."""

from __future__ import annotations

from hub.agreements.models import AgreementRecord
from hub.audit.models import LedgerCheckRun, NoticeDecision, SubjectAccessRequest
from hub.consent.models import ConsentRecordRow
from hub.counters import ChangeCounters
from hub.db import Base
from hub.delivery.models import OutboxMessage
from hub.ledger.models import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerOrigin,
    LedgerUnsequenced,
)
from hub.ledger.projection import AuditEvent, AuditRecipient, AuditSubject
from hub.marac.models import (
    Marac,
    MaracAction,
    MaracCase,
    MaracMeeting,
    MaracMeetingCase,
    MaracReferral,
    ResearchRequest,
    StatementSignature,
)
from hub.oauth.models import AccessToken, UsedAssertion
from hub.partners.models import Partner
from hub.people.models import (
    ConsoleSession,
    Person,
    RecoveryCode,
    SecurityEvent,
    WebAuthnCredential,
)
from hub.sharing.models import Alert, Disclosure, IdempotencyRecord, InboxItem
from hub.witness.models import LedgerCosignature

metadata = Base.metadata

__all__ = [
    "AccessToken",
    "Alert",
    "AuditEvent",
    "AuditRecipient",
    "AuditSubject",
    "AgreementRecord",
    "ChangeCounters",
    "ConsentRecordRow",
    "ConsoleSession",
    "Disclosure",
    "IdempotencyRecord",
    "InboxItem",
    "LedgerCheckpoint",
    "LedgerCosignature",
    "LedgerEntry",
    "LedgerHead",
    "LedgerNode",
    "LedgerOrigin",
    "LedgerUnsequenced",
    "LedgerCheckRun",
    "Marac",
    "MaracAction",
    "MaracCase",
    "MaracMeeting",
    "MaracMeetingCase",
    "MaracReferral",
    "ResearchRequest",
    "StatementSignature",
    "NoticeDecision",
    "OutboxMessage",
    "Partner",
    "SubjectAccessRequest",
    "Person",
    "RecoveryCode",
    "SecurityEvent",
    "UsedAssertion",
    "WebAuthnCredential",
    "metadata",
]
