"""consent records

Revision ID: c3d9e8f1a2b4
Revises: 6edf33d82fa7
Create Date: 2026-12-01 08:40:00+00:00

The consent records a sender keeps (UK GDPR Art 7(1)) and their withdrawal (Art 7(3)).
Chained on today's head like the statutory-roles revision; the integrator re-chains heads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "c3d9e8f1a2b4"
down_revision = "b7e1a2c4d5f6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=False),
        sa.Column("given_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["partners.id"], name=op.f("fk_consent_records_sender_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index(
        op.f("ix_consent_records_sender_id"), "consent_records", ["sender_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_consent_records_sender_id"), table_name="consent_records")
    op.drop_table("consent_records")
