"""The hub's record of witnesses' cosignatures on its checkpoints (``ledger_cosignatures``).

One row per (checkpoint tree size, witness name): the cosignature/v1 line exactly as the
witness returned it (verified before it is stored), and its timestamp. Served appended to
the checkpoint note; a partner verifies each line itself with the witness's key.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow


class LedgerCosignature(Base):
    __tablename__ = "ledger_cosignatures"

    tree_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_checkpoints.tree_size"), primary_key=True,
        autoincrement=False,
    )  # fmt: skip
    witness: Mapped[str] = mapped_column(Text, primary_key=True)
    line: Mapped[str] = mapped_column(Text, nullable=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
