"""The consent records a sender keeps on the hub (UK GDPR Art 7(1): able to show consent)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow


class ConsentRecordRow(Base):
    """One consent: its scope and whether it is explicit; withdrawal is a time, never a delete.

    No personal data: the subject is the sender's own concern; a message cites the record id.
    """

    __tablename__ = "consent_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
