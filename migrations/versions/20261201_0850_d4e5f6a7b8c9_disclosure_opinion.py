"""disclosure opinion marks

Revision ID: d4e5f6a7b8c9
Revises: c3d9e8f1a2b4
Create Date: 2026-12-01 08:50:00+00:00

The released fields that are opinion, so the recipient's views (inbox, GET, webhook) mark them
(ICO data-sharing code: fact and opinion clearly distinguished).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d4e5f6a7b8c9"
down_revision = "c3d9e8f1a2b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.add_column(
            sa.Column("opinion", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.drop_column("opinion")
