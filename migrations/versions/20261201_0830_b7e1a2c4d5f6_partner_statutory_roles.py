"""partner statutory roles

Revision ID: b7e1a2c4d5f6
Revises: 3a1f0c9e2b7d
Create Date: 2026-12-01 08:30:00+00:00

The statutory roles a partner file declares (policies/lawful_bases.toml [roles.*]): the
gateways' party rules (s115 CDA 1998, s16 PCSC 2022, s14 OMA 2007...) read them when the live
policy re-validates stored agreements.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7e1a2c4d5f6"
down_revision = "3a1f0c9e2b7d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(
            sa.Column("statutory_roles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("statutory_roles")
