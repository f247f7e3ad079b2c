"""What the hub keeps about each share: disclosures, alerts, inbox items, idempotency keys.

Personal data lives only in ``Disclosure.ciphertext`` (and ``outcome_ciphertext``),
encrypted under a data key of its own that is wrapped by the master key. Destroying the
wrapped key (erasure, retention) makes the payload unreadable while every ledger proof,
which holds only digests, stays valid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow

REFERRAL_STATUSES = ("sent", "received", "accepted", "declined", "closed", "withdrawn")


def new_id() -> str:
    return str(uuid.uuid4())


class Alert(Base):
    """A risk alert fanned out to every partner an in-force flow lets receive it."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_sender_id_created_at", "sender_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    sender_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(64))
    # True when the hub found an earlier MARAC referral about the same subject within 12
    # months (SafeLives repeat criterion), detected from subject commitments only.
    repeat: Mapped[bool] = mapped_column(default=False)
    # Recipients the policy refused: [{to, reasons: [codes], ledger_index}] (no values), so
    # the sender's record of the fan-out shows every decision, not only the releases.
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Disclosure(Base):
    """One release of one subject's data from one partner to one recipient."""

    __tablename__ = "disclosures"
    __table_args__ = (
        Index("ix_disclosures_sender_id_created_at", "sender_id", "created_at"),
        Index("ix_disclosures_recipient_id", "recipient_id"),
        Index("ix_disclosures_retention_until", "retention_until"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # referral | alert
    alert_id: Mapped[str | None] = mapped_column(ForeignKey("alerts.id"), default=None)
    sender_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    agreement_id: Mapped[str] = mapped_column(String(100))
    agreement_version: Mapped[int] = mapped_column(Integer)
    agreement_digest: Mapped[str] = mapped_column(String(64))
    flow_index: Mapped[int] = mapped_column(Integer)
    basis: Mapped[list[str]] = mapped_column(JSON)
    fields_released: Mapped[list[str]] = mapped_column(JSON)
    fields_withheld: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    transforms: Mapped[dict[str, str]] = mapped_column(JSON)
    # Released fields that are opinion (ICO code: fact and opinion distinguished), so every
    # view of the disclosure (inbox, GET, webhook) marks them.
    opinion: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_state: Mapped[str] = mapped_column(String(16))
    # Why consent was not sought (para 18(2)/para 10 code), kept so a correction is decided
    # on the same footing as the original without the sender restating it.
    consent_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    # The consent record relied on (UK GDPR Art 7(1)), so a correction cites it again and a
    # withdrawal of it refuses the correction.
    consent_record: Mapped[str | None] = mapped_column(String(64), default=None)
    subjects: Mapped[list[str]] = mapped_column(JSON)  # HMAC subject commitments
    # AES-256-GCM payload under a per-disclosure data key; key wrapped by the master key.
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(16))
    payload_digest: Mapped[str] = mapped_column(String(71))
    # NULL until the sequencer gives the disclosure's entry its index; until then the
    # disclosure is invisible (no entry, no release: hub.sharing.release).
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="sent")
    # The outcome carried back to the sender: itself a disclosure, under a return flow.
    outcome_id: Mapped[str | None] = mapped_column(ForeignKey("disclosures.id"), default=None)
    # For an outcome: the referral it answers.
    answers_id: Mapped[str | None] = mapped_column(String(36), default=None)
    retention_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    erasure_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxItem(Base):
    """Something for a recipient to collect: a referral, an alert, or an Art 19 notice.

    ``seq`` orders the inbox (oldest first) and is the pagination cursor.
    """

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_recipient_id_seq", "recipient_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    disclosure_id: Mapped[str] = mapped_column(ForeignKey("disclosures.id"))
    kind: Mapped[str] = mapped_column(String(16))  # referral | alert | correction | erasure
    # For a correction notice: which fields changed (names only) and the new ledger entry.
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """The first response to a request carrying an ``Idempotency-Key``, replayed on retry."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("partner_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)  # JSON; never personal data (names only)
    # The unsequenced ledger entry of the answer: committed with the referral, before its
    # index exists, so a replay adds the receipt (201) or ``ledger_index`` (403) from it.
    pending_entry: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
