"""The live policy is cached under the policy counter, and every change moves the counter.

A direct edit of an agreement or partner row (made in another connection, as an operator
with psql would) must change the very next decision; ``hub sync`` bumps the counter too.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from hub import counters, db
from hub.agreements.services import live_policy
from hub.operations import synchronise


@pytest.fixture
def policy_now(app, demo_partners):
    """Read the live policy in a fresh request-like session, as a referral would."""

    def _read() -> Any:
        with app.app_context():
            session = db.session()
            policy = live_policy(session, app.extensions["hub.catalogues"])
            session.commit()
            return policy

    return _read


def test_an_unchanged_database_reuses_the_policy_in_one_read(policy_now, statements):
    first = policy_now()
    statements.clear()
    assert policy_now() is first
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "change_counters" in reads[0]


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        (
            "UPDATE partners SET relevant_authority = NOT relevant_authority "
            "WHERE id = 'kent-police'",
            lambda before, after: before.partners["kent-police"].relevant_authority
            != after.partners["kent-police"].relevant_authority,
        ),
        (
            "UPDATE partners SET active = false WHERE id = 'kent-police'",
            lambda before, after: "kent-police" in before.partners
            and "kent-police" not in after.partners,
        ),
        (
            "UPDATE agreements SET listed = false",
            lambda before, after: before.agreements and not after.agreements,
        ),
        (
            "DELETE FROM agreements",
            lambda before, after: before.agreements and not after.agreements,
        ),
    ],
)
def test_a_direct_edit_changes_the_next_policy(policy_now, clean_db, edit, changed):
    before = policy_now()
    with clean_db.begin() as conn:
        conn.execute(text(edit))
    after = policy_now()
    assert after is not before
    assert changed(before, after)


def test_a_tampered_signature_takes_the_agreement_out_of_force_at_once(policy_now, clean_db):
    """The trigger fires on any column: a forged signature is re-verified immediately."""
    import datetime as dt

    before = policy_now()
    now = dt.datetime.now(dt.UTC)
    assert any(before.status(reg, now).status == "in_force" for reg in before.agreements)
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE agreements SET signatures = '[]'"))
    after = policy_now()
    assert not any(after.status(reg, now).status == "in_force" for reg in after.agreements)


def test_sync_bumps_the_policy_counter(app, settings, demo_partners, clean_db):
    with app.app_context():
        before = counters.read(db.session())
    synchronise(settings)  # nothing changed in the files: the explicit bump still moves it
    with app.app_context():
        after = counters.read(db.session())
    assert before is not None and after is not None
    assert after.policy.value > before.policy.value


def test_without_the_counter_row_nothing_is_cached(policy_now, clean_db):
    first = policy_now()
    with clean_db.begin() as conn:
        conn.execute(text("DELETE FROM change_counters"))
    assert policy_now() is not first
    assert policy_now() is not policy_now()


def test_a_transaction_that_wrote_first_caches_nothing(app, demo_partners):
    """Its own trigger moved the counter; a policy built from its uncommitted rows must not
    be kept under that value, which a rollback would hand to the next real change."""
    from sqlalchemy import update

    from hub.partners.models import Partner

    with app.app_context():
        session = db.session()
        session.execute(update(Partner).where(Partner.id == "kent-police").values(name="x"))
        assert counters.current(session) is None
        first = live_policy(session, app.extensions["hub.catalogues"])
        assert live_policy(session, app.extensions["hub.catalogues"]) is not first
        session.rollback()
        assert counters.current(session) is not None  # a new transaction reads again
