"""The transactional outbox: one row per inbox item to push to a partner's webhook.

Rows are written in the same transaction as the inbox item, so an item is pushed if and
only if it was committed. They hold no personal data: the worker decrypts the item when it
sends it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, UTCDateTime, utcnow
from hub.sharing.models import InboxItem

OUTBOX_STATES = ("pending", "delivered", "dead")


class OutboxMessage(Base):
    """A pending, delivered or dead-lettered webhook push."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    inbox_item_id: Mapped[str] = mapped_column(ForeignKey("inbox_items.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    # A short machine reason (e.g. "http_503", "connect_timeout"); never response bodies.
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    # No schema change: lets the unit of work insert a new item before its outbox row
    # (without a relationship SQLAlchemy does not order inserts by foreign key). Never
    # loaded implicitly: the worker reads items in its own short session.
    inbox_item: Mapped[InboxItem] = relationship(
        primaryjoin="OutboxMessage.inbox_item_id == InboxItem.id", lazy="raise"
    )
