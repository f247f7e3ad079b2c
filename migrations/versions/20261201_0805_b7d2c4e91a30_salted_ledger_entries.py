"""salted ledger entries (entry format 2)

Adds ``ledger_entries.format`` (1 for every existing row, which keeps its leaf and keeps
verifying) and ``ledger_entries.salts`` (NULL for format 1). Adding columns is not an
UPDATE, so the append-only triggers on PostgreSQL stay in place and untouched.

Revision ID: b7d2c4e91a30
Revises: 0a6d4029895a
Create Date: 2026-12-01 08:05:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7d2c4e91a30"
down_revision = "0a6d4029895a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ledger_entries",
        sa.Column("format", sa.SmallInteger(), server_default="1", nullable=False),
    )
    op.add_column("ledger_entries", sa.Column("salts", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Only for a database with no format 2 entries worth keeping: without their salts,
    # format 2 leaves can no longer be recomputed.
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("salts")
        batch.drop_column("format")
