"""OAuth storage: access tokens (hashes only) and spent client-assertion ``jti`` values."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import TYPE_CHECKING

from authlib.oauth2.rfc6749 import TokenMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow

TOKEN_PREFIX = "hubat_"  # noqa: S105 - a public prefix, not a secret


def token_hash(token: str) -> str:
    """SHA-256 of a bearer token: what we store and look up (the token itself never is)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenMethods(TokenMixin):  # type: ignore[misc]
    """authlib's TokenMixin from the token's fields: shared by the row and its cached copy
    (:class:`hub.oauth.cache.CachedToken`)."""

    if TYPE_CHECKING:  # the fields each class defines (mapped columns, dataclass fields)
        client_id: str
        scope: str
        issued_at: dt.datetime
        expires_at: dt.datetime
        revoked_at: dt.datetime | None

    def check_client(self, client: object) -> bool:
        return getattr(client, "client_id", None) == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return utcnow() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_client_id(self) -> str:
        return self.client_id


class AccessToken(Base, TokenMethods):
    """An opaque access token issued to a partner's client, stored as a hash."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    scope: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)



class UsedAssertion(Base):
    """A client assertion's ``jti``, kept until the assertion expires so it cannot be replayed.

    The unique constraint is the replay check: a second INSERT of the same (issuer, jti)
    fails even when two requests race (RFC 7523 §3 item 7).
    """

    __tablename__ = "oauth_used_assertions"
    __table_args__ = (
        UniqueConstraint("issuer", "jti"),
        Index("ix_oauth_used_assertions_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(64))
    jti: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
