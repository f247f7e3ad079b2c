"""Ledger tables: entries, completed subtree hashes, signed checkpoints and the head row.

Only *completed* (perfect, power-of-two-aligned) subtrees are stored: they never change once
complete, so the tables are append-only and any root or proof at any size is assembled from
O(log n) of them. The head row is the one mutable piece, and it is derived data: the tree size
and the right border ("frontier") so an append needs no reads besides the locked head.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Integer, LargeBinary, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow

HEAD_ID = 1


class LedgerEntry(Base):
    """One leaf: the RFC 8785 canonical JSON of an event and its RFC 9162 leaf hash.

    ``format`` 1 (the first ledgers, and public governance events): the leaf is taken over
    the entry itself. ``format`` 2 (:mod:`hub.ledger.salted`): over salted member digests;
    ``salts`` holds the 16-byte salts, one per slot, and is released only with the members
    a reader may see.
    """

    __tablename__ = "ledger_entries"

    # On SQLite, INTEGER PRIMARY KEY makes idx the rowid: no separate index, ordered reads.
    index: Mapped[int] = mapped_column(
        "idx", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    entry: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    format: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1, server_default="1")
    salts: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The ``ledger_unsequenced`` id this entry was sequenced from (NULL for entries older
    # than the sequencer): a waiting request finds its index by it. Not part of the leaf.
    pending_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)

    __table_args__ = (CheckConstraint("idx >= 0", name="idx_non_negative"),)


class LedgerUnsequenced(Base):
    """An entry committed by a request but not yet given an index (docs/ledger.md).

    The request transaction validates, canonicalises, salts and hashes the event and
    commits it here with the disclosure; the sequencer (:mod:`hub.ledger.sequencer`) moves
    rows into ``ledger_entries`` in ``id`` order, in batches, and deletes them. ``release``
    names what becomes visible once the entry has its index (a disclosure id), or is NULL.
    """

    __tablename__ = "ledger_unsequenced"
    # Ids are never reused (on SQLite a plain rowid would be, once the table empties):
    # ``ledger_entries.pending_id`` refers to them for ever.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    entry: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    format: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    salts: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    release: Mapped[str | None] = mapped_column(Text, nullable=True)


class LedgerNode(Base):
    """The hash of the completed subtree covering leaves ``[idx << level, (idx+1) << level)``."""

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)

    __table_args__ = (CheckConstraint("level >= 1", name="level_positive"),)


class LedgerCheckpoint(Base):
    """A signed C2SP checkpoint note; one per tree size, never two inconsistent ones."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerHead(Base):
    """The single row appenders lock: tree size and the frontier (right-border hashes).

    ``SELECT ... FOR UPDATE`` on this row serialises appenders from every gunicorn worker on
    PostgreSQL, so indexes are gap-free and unique; SQLite gets the same from BEGIN IMMEDIATE.
    """

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, default=b"")

    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="single_row"),)


ORIGIN_ID = 1


class LedgerOrigin(Base):
    """The log's origin line, pinned once (``hub init``, first checkpoint or first start).

    Checkpoints name the log by origin and are signed over it: were the origin to follow
    ``HUB_ISSUER``, changing the issuer would silently rename the log and every earlier
    checkpoint would stop verifying. The pinned value is the one the hub signs under.
    """

    __tablename__ = "ledger_origin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(Text, nullable=False)
    pinned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (CheckConstraint(f"id = {ORIGIN_ID}", name="single_row"),)


APPEND_ONLY_TABLES = ("ledger_entries", "ledger_nodes", "ledger_checkpoints")

# PostgreSQL: refuse UPDATE, DELETE and TRUNCATE on the append-only tables. A superuser can
# still disable the triggers; ``hub log verify`` recomputes everything and catches that.
# One statement per string, and no '%' or ':' in them, so they run unchanged through
# Alembic's ``op.execute``, ``text()`` or a driver cursor.
POSTGRES_APPEND_ONLY_DDL: tuple[str, ...] = (
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'ledger table ' || TG_TABLE_NAME
                || ' is append-only: ' || TG_OP || ' refused',
            ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        for table in APPEND_ONLY_TABLES
    ),
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        for table in APPEND_ONLY_TABLES
    ),
)

POSTGRES_APPEND_ONLY_DROP_DDL: tuple[str, ...] = (
    *(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in APPEND_ONLY_TABLES),
    *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY_TABLES),
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
)
