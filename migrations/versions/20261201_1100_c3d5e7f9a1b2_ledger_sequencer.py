"""ledger sequencer: unsequenced entries

Revision ID: c3d5e7f9a1b2
Revises: f2a4c6e8b0d3
Create Date: 2026-12-01 11:00:00+00:00

Requests commit their entries to ``ledger_unsequenced``; the sequencer gives them indexes in
batches (docs/ledger.md "Sequencing"). A disclosure's ``ledger_index`` is NULL until then, and
``ledger_entries.pending_id`` lets a waiting request find the index its entry received.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3d5e7f9a1b2"
down_revision = "f2a4c6e8b0d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_unsequenced",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("format", sa.SmallInteger(), nullable=False),
        sa.Column("salts", sa.LargeBinary(), nullable=True),
        sa.Column("release", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_unsequenced")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("pending_id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_ledger_entries_pending_id"), ["pending_id"])
    with op.batch_alter_table("disclosures") as batch:
        batch.alter_column("ledger_index", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("pending_entry", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("pending_entry")
    with op.batch_alter_table("disclosures") as batch:
        batch.alter_column("ledger_index", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("uq_ledger_entries_pending_id"), type_="unique")
        batch.drop_column("pending_id")
    op.drop_table("ledger_unsequenced")
