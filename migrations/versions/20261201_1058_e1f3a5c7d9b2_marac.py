"""marac

Revision ID: e1f3a5c7d9b2
Revises: e7a3c5d9f1b2
Create Date: 2026-12-01 10:58:00+00:00

MARACs (issue 10): the MARACs loaded from policies/maracs, cases (subject commitments and
links to referrals, never a name), meetings, research requests and returns (links to
disclosures), confidentiality statement signatures and actions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db


revision = "e1f3a5c7d9b2"
down_revision = "e7a3c5d9f1b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maracs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("coordinator_id", sa.String(length=64), nullable=False),
        sa.Column("case_prefix", sa.String(length=8), nullable=False),
        sa.Column("agreement_ids", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coordinator_id"], ["partners.id"], name=op.f("fk_maracs_coordinator_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maracs")),
    )
    op.create_table(
        "marac_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("marac_id", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=30), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("children_in_household", sa.Boolean(), nullable=False),
        sa.Column("first_referral_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_referral_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["marac_id"], ["maracs.id"], name=op.f("fk_marac_cases_marac_id_maracs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_cases")),
        sa.UniqueConstraint(
            "marac_id", "case_number", name=op.f("uq_marac_cases_marac_id_case_number")
        ),
    )
    op.create_index(
        "ix_marac_cases_marac_id_last_referral_at",
        "marac_cases",
        ["marac_id", "last_referral_at"],
        unique=False,
    )
    op.create_table(
        "marac_meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("marac_id", sa.String(length=64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("research_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("circulated_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["marac_id"], ["maracs.id"], name=op.f("fk_marac_meetings_marac_id_maracs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_meetings")),
    )
    op.create_index(
        "ix_marac_meetings_marac_id_held_on",
        "marac_meetings",
        ["marac_id", "held_on"],
        unique=False,
    )
    op.create_table(
        "marac_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("marac_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("update_id", sa.String(length=36), nullable=True),
        sa.Column("update_index", sa.BigInteger(), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["marac_cases.id"], name=op.f("fk_marac_actions_case_id_marac_cases")
        ),
        sa.ForeignKeyConstraint(
            ["marac_id"], ["maracs.id"], name=op.f("fk_marac_actions_marac_id_maracs")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["marac_meetings.id"],
            name=op.f("fk_marac_actions_meeting_id_marac_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["partners.id"], name=op.f("fk_marac_actions_owner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["update_id"], ["disclosures.id"], name=op.f("fk_marac_actions_update_id_disclosures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_actions")),
    )
    op.create_index(op.f("ix_marac_actions_case_id"), "marac_actions", ["case_id"], unique=False)
    op.create_index(
        "ix_marac_actions_owner_id_status", "marac_actions", ["owner_id", "status"], unique=False
    )
    op.create_table(
        "marac_meeting_cases",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["marac_cases.id"], name=op.f("fk_marac_meeting_cases_case_id_marac_cases")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["marac_meetings.id"],
            name=op.f("fk_marac_meeting_cases_meeting_id_marac_meetings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_meeting_cases")),
        sa.UniqueConstraint(
            "meeting_id", "case_id", name=op.f("uq_marac_meeting_cases_meeting_id_case_id")
        ),
    )
    op.create_index(
        op.f("ix_marac_meeting_cases_meeting_id"),
        "marac_meeting_cases",
        ["meeting_id"],
        unique=False,
    )
    op.create_table(
        "marac_referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("disclosure_id", sa.String(length=36), nullable=False),
        sa.Column("from_partner_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["marac_cases.id"], name=op.f("fk_marac_referrals_case_id_marac_cases")
        ),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["disclosures.id"],
            name=op.f("fk_marac_referrals_disclosure_id_disclosures"),
        ),
        sa.ForeignKeyConstraint(
            ["from_partner_id"],
            ["partners.id"],
            name=op.f("fk_marac_referrals_from_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_referrals")),
        sa.UniqueConstraint("disclosure_id", name=op.f("uq_marac_referrals_disclosure_id")),
    )
    op.create_index(
        op.f("ix_marac_referrals_case_id"), "marac_referrals", ["case_id"], unique=False
    )
    op.create_table(
        "marac_research_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("circulation_id", sa.String(length=36), nullable=True),
        sa.Column("circulation_index", sa.BigInteger(), nullable=False),
        sa.Column("refusal_reasons", sa.JSON(), nullable=False),
        sa.Column("return_id", sa.String(length=36), nullable=True),
        sa.Column("return_index", sa.BigInteger(), nullable=True),
        sa.Column("not_shared", sa.JSON(), nullable=False),
        sa.Column("returned_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["partners.id"],
            name=op.f("fk_marac_research_requests_agency_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["marac_cases.id"],
            name=op.f("fk_marac_research_requests_case_id_marac_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["circulation_id"],
            ["disclosures.id"],
            name=op.f("fk_marac_research_requests_circulation_id_disclosures"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["marac_meetings.id"],
            name=op.f("fk_marac_research_requests_meeting_id_marac_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["disclosures.id"],
            name=op.f("fk_marac_research_requests_return_id_disclosures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_research_requests")),
        sa.UniqueConstraint(
            "meeting_id",
            "case_id",
            "agency_id",
            name=op.f("uq_marac_research_requests_meeting_id_case_id_agency_id"),
        ),
    )
    op.create_index(
        "ix_marac_research_requests_agency_id",
        "marac_research_requests",
        ["agency_id"],
        unique=False,
    )
    op.create_table(
        "marac_statement_signatures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("signed_by", sa.String(length=128), nullable=False),
        sa.Column("statement_digest", sa.String(length=71), nullable=False),
        sa.Column("signed_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["marac_meetings.id"],
            name=op.f("fk_marac_statement_signatures_meeting_id_marac_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_marac_statement_signatures_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_statement_signatures")),
        sa.UniqueConstraint(
            "meeting_id",
            "partner_id",
            name=op.f("uq_marac_statement_signatures_meeting_id_partner_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("marac_statement_signatures")
    op.drop_index("ix_marac_research_requests_agency_id", table_name="marac_research_requests")
    op.drop_table("marac_research_requests")
    op.drop_index(op.f("ix_marac_referrals_case_id"), table_name="marac_referrals")
    op.drop_table("marac_referrals")
    op.drop_index(op.f("ix_marac_meeting_cases_meeting_id"), table_name="marac_meeting_cases")
    op.drop_table("marac_meeting_cases")
    op.drop_index("ix_marac_actions_owner_id_status", table_name="marac_actions")
    op.drop_index(op.f("ix_marac_actions_case_id"), table_name="marac_actions")
    op.drop_table("marac_actions")
    op.drop_index("ix_marac_meetings_marac_id_held_on", table_name="marac_meetings")
    op.drop_table("marac_meetings")
    op.drop_index("ix_marac_cases_marac_id_last_referral_at", table_name="marac_cases")
    op.drop_table("marac_cases")
    op.drop_table("maracs")
