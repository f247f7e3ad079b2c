"""disclosure consent record

Revision ID: b2c4e6f8a0d1
Revises: a9d1c0e5b7f2
Create Date: 2026-12-01 09:30:00+00:00

The consent record a disclosure relied on (UK GDPR Art 7(1)), so a correction cites it again
and its withdrawal refuses the correction (Art 7(3)).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b2c4e6f8a0d1"
down_revision = "a9d1c0e5b7f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.add_column(sa.Column("consent_record", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.drop_column("consent_record")
