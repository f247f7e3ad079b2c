"""maracs move the policy counter: the MARAC intake routes are cached under it

Revision ID: d4e6f8a0b2c4
Revises: c3d5e7f9a1b2
Create Date: 2026-12-01 14:00:00+00:00

Every recorded referral asks whether a MARAC takes it in. Hub processes now keep the
MARACs' routes (co-ordinator, referral purposes) cached under the policy counter
(hub/counters.py), so a change to the ``maracs`` table, even one made directly in the
database, must bump it like a change to an agreement does. Same trigger function as the
agreements' (migration f2a4c6e8b0d3).
"""

from __future__ import annotations

from alembic import op

revision = "d4e6f8a0b2c4"
down_revision = "c3d5e7f9a1b2"
branch_labels = None
depends_on = None

EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER maracs_bump_counters AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON maracs FOR EACH STATEMENT EXECUTE FUNCTION change_counters_bump_policy()"
        )
        return
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER maracs_bump_counters_{event.lower()} AFTER {event} ON maracs "
            "BEGIN INSERT INTO change_counters (id, epoch, policy, credentials) "
            "VALUES (1, lower(hex(randomblob(16))), 1, 1) "
            "ON CONFLICT (id) DO UPDATE SET policy = change_counters.policy + 1; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS maracs_bump_counters ON maracs")
        return
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS maracs_bump_counters_{event.lower()}")
