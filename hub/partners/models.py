"""Partner agencies as the hub knows them (loaded from ``policies/partners`` by ``hub sync``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow
from hub.policy.partner_info import PARTNER_TYPES

__all__ = ["PARTNER_TYPES", "Partner"]



class Partner(Base):
    """A partner agency: who it is in law (the flags), its public keys, where to push."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    # s115 Crime and Disorder Act 1998 "relevant authority"
    relevant_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    # DPA 2018 Part 3 "competent authority" (law enforcement processing)
    competent_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    # UK GDPR public authority: may not rely on Art 6(1)(ea)
    public_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    # Statutory roles (policies/lawful_bases.toml [roles.*]) the gateways' party rules read.
    statutory_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    webhook_url: Mapped[str | None] = mapped_column(String(500), default=None)
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    demo_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # SHA-256 of the canonical partner record: lets `hub sync` report real changes only.
    digest: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
