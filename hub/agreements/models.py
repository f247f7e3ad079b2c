"""Agreements loaded by ``hub sync``: the document and its signatures, exactly as signed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow


class AgreementRecord(Base):
    """One version of one agreement.

    Nothing about its status is stored: whether it is in force is recomputed from the
    document, the signatures and the partners' registered keys every time it is used, so
    an edit to any of them (even directly in the database) takes it out of force.
    """

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300))
    # False once its file is removed from policies/agreements: kept for the record.
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
