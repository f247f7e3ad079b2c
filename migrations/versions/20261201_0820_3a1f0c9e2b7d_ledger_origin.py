"""ledger origin: pin the log's name once

Revision ID: 3a1f0c9e2b7d
Revises: 6edf33d82fa7
Create Date: 2026-12-01 08:20:00+00:00

An existing log is pinned to the origin its first checkpoint was signed under (the first
line of the note); a log without checkpoints is pinned by the first start or checkpoint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "3a1f0c9e2b7d"
down_revision = "6edf33d82fa7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_origin",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("pinned_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_origin_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_origin")),
    )
    connection = op.get_bind()
    note = connection.execute(
        sa.text("SELECT note FROM ledger_checkpoints ORDER BY tree_size LIMIT 1")
    ).scalar()
    if note:
        connection.execute(
            sa.text(
                "INSERT INTO ledger_origin (id, origin, pinned_at) VALUES (1, :origin, :now)"
            ),
            {"origin": note.split("\n", 1)[0], "now": _now(connection)},
        )
    if connection.dialect.name == "postgresql":
        # Pinned means pinned: the row may be written once, never changed or removed.
        op.execute(
            "CREATE TRIGGER ledger_origin_append_only BEFORE UPDATE OR DELETE ON ledger_origin "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )


def _now(connection: sa.Connection) -> object:
    now = hub.db.utcnow()
    return now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_origin_append_only ON ledger_origin")
    op.drop_table("ledger_origin")
