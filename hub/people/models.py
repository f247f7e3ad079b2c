"""Tables for people, their second factors, server-side sessions and the security trail.

Secrets are never stored in the clear where a hash will do: passwords (argon2id), recovery
codes and session tokens (SHA-256: each holds 80 or more random bits, so a fast hash is
enough). The TOTP secret must be readable to check a code, so it is kept as issued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow


class Person(Base):
    """Someone who signs in to the console, belonging to exactly one partner."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    # Stable opaque id used as ``actor.user`` on the ledger: never the email.
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # The last TOTP time-step accepted: a code works once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    sso: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bound at the first single sign-on: later sign-ins must present the same issuer + sub.
    sso_subject: Mapped[str | None] = mapped_column(String(500), default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    demo_only: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(Base):
    """A one-use recovery code (80 random bits) stored as SHA-256; ``used_at`` when spent."""

    __tablename__ = "person_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class WebAuthnCredential(Base):
    """A registered security key (WebAuthn public key credential)."""

    __tablename__ = "person_webauthn_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(4096))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    label: Mapped[str] = mapped_column(String(100), default="security key")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleSession(Base):
    """The server side of a console session; the cookie carries only the token.

    Deleting the row ends the session whatever the browser still holds: a replayed cookie
    names a token that no longer exists.
    """

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SecurityEvent(Base):
    """One line of the security audit trail (read by the hub DPO).

    Holds who (partner + pseudonym, or a keyed hash of an email nobody holds), what and
    where; never a password, code or the attempted email itself.
    """

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_partner_id_at", "partner_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[str | None] = mapped_column(String(64), default=None)
    pseudonym: Mapped[str | None] = mapped_column(String(32), default=None)
    email_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    endpoint: Mapped[str | None] = mapped_column(String(200), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
