"""change counters: policy and credentials versions bumped by triggers

Revision ID: f2a4c6e8b0d3
Revises: e1f3a5c7d9b2
Create Date: 2026-12-01 11:00:00+00:00

A single row of counters (hub/counters.py). Triggers on ``agreements``, ``partners`` and
``oauth_tokens`` bump them on every change, including edits made directly in the database,
so hub processes can cache the live policy and access tokens and still see a change at
once. If the row is gone the triggers recreate it with a fresh random epoch.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "f2a4c6e8b0d3"
down_revision = "e1f3a5c7d9b2"
branch_labels = None
depends_on = None

# table -> (counters it moves, the events that move them)
WATCHED = {
    "agreements": (("policy",), ("INSERT", "UPDATE", "DELETE")),
    "partners": (("policy", "credentials"), ("INSERT", "UPDATE", "DELETE")),
    "oauth_tokens": (("credentials",), ("UPDATE", "DELETE")),
}


def _set(counters: tuple[str, ...], table: str) -> str:
    return ", ".join(f"{c} = {table}.{c} + 1" for c in counters)


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("policy", sa.BigInteger(), nullable=False),
        sa.Column("credentials", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_change_counters_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counters")),
    )
    op.execute(
        sa.text(
            "INSERT INTO change_counters (id, epoch, policy, credentials) VALUES (1, :e, 1, 1)"
        ).bindparams(e=secrets.token_hex(16))
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    for table, (counters, events) in WATCHED.items():
        name = "_".join(counters)
        op.execute(
            f"CREATE OR REPLACE FUNCTION change_counters_bump_{name}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO change_counters (id, epoch, policy, credentials) "
            "VALUES (1, md5(random()::text || clock_timestamp()::text), 1, 1) "
            f"ON CONFLICT (id) DO UPDATE SET {_set(counters, 'change_counters')}; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_bump_counters AFTER {' OR '.join(events)} OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION change_counters_bump_{name}()"
        )


def _sqlite_triggers() -> None:
    for table, (counters, events) in WATCHED.items():
        for event in events:
            op.execute(
                f"CREATE TRIGGER {table}_bump_counters_{event.lower()} AFTER {event} ON {table} "
                "BEGIN INSERT INTO change_counters (id, epoch, policy, credentials) "
                "VALUES (1, lower(hex(randomblob(16))), 1, 1) "
                f"ON CONFLICT (id) DO UPDATE SET {_set(counters, 'change_counters')}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, (counters, _events) in WATCHED.items():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_counters ON {table}")
        for name in ("policy", "policy_credentials", "credentials"):
            op.execute(f"DROP FUNCTION IF EXISTS change_counters_bump_{name}()")
    else:
        for table, (_counters, events) in WATCHED.items():
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_counters_{event.lower()}")
    op.drop_table("change_counters")
