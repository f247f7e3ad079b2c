"""witnesses' cosignatures on checkpoints

Revision ID: e7a3c5d9f1b2
Revises: b2c4e6f8a0d1
Create Date: 2026-12-01 11:00:00+00:00

C2SP cosignature/v1 lines returned by the hub's witnesses (issue 12), one per checkpoint and
witness, served appended to the checkpoint note.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "e7a3c5d9f1b2"
down_revision = "b2c4e6f8a0d1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_cosignatures",
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.Text(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("received_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tree_size"], ["ledger_checkpoints.tree_size"],
            name=op.f("fk_ledger_cosignatures_tree_size_ledger_checkpoints"),
        ),
        sa.PrimaryKeyConstraint("tree_size", "witness", name=op.f("pk_ledger_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("ledger_cosignatures")
