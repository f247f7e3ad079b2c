"""The audit projection: written with each append, rebuilt by back-fill, checked by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from hub.ledger import events, projection, store
from hub.ledger.fsck import check_projection
from hub.ledger.projection import AuditEvent, AuditRecipient, AuditSubject
from hub.ledger.verify import LedgerCorrupt
from tests.ledger.conftest import sample_event


def _refusal() -> dict:
    return events.refusal_event(
        {"partner": "kent-csc"},
        recipients=["kent-police"],
        purpose="safeguarding",
        reasons=["no_agreement"],
        subjects=[events.subject_commitment("s3cret", "nhs", "943 476 5919")],
    )


def test_append_writes_projection_rows_in_the_same_transaction(session: Session) -> None:
    store.append_entries(session, [sample_event(0), _refusal()])
    session.commit()
    rows = {e.index: e for e in session.scalars(select(AuditEvent))}
    assert rows[0].type == "disclosure" and rows[0].result == "partial"
    assert rows[0].actor_partner == "leics-police" and rows[0].actor_user == "u0"
    assert (rows[0].agreement_id, rows[0].agreement_version) == ("ISA-0007", "3")
    assert rows[0].basis == " CDA_S115 GDPR_6_1_E " and rows[0].purpose == "reducing_reoffending"
    assert rows[1].result == "refused" and rows[1].reasons == " no_agreement "
    recipients = {(r.partner, r.index) for r in session.scalars(select(AuditRecipient))}
    assert recipients == {("leics-yot", 0), ("kent-police", 1)}
    subjects = list(session.scalars(select(AuditSubject)))
    assert sorted(s.index for s in subjects) == [0, 1]
    assert check_projection(session, 2) is None


def test_rolled_back_append_leaves_no_projection(session: Session) -> None:
    store.append_entries(session, [sample_event(0)])
    session.rollback()
    assert session.scalars(select(AuditEvent)).first() is None


def test_backfill_rebuilds_the_same_rows(session: Session) -> None:
    store.append_entries(session, [sample_event(i) for i in range(7)] + [_refusal()])
    session.commit()
    before = projection.stored_rows(session, 0, 7)
    assert projection.backfill(session, chunk=3) == 8
    session.commit()
    assert projection.stored_rows(session, 0, 7) == before


@pytest.mark.parametrize(
    ("change", "index"),
    [
        (update(AuditEvent).where(AuditEvent.index == 3).values(purpose="other"), 3),
        (text("DELETE FROM audit_recipients WHERE idx = 2"), 2),
        (text("DELETE FROM audit_subjects WHERE idx = 4"), 4),
        (text("DELETE FROM audit_events WHERE idx = 5"), 5),
        (text("INSERT INTO audit_recipients (partner, idx) VALUES ('x', 1)"), 1),
        (text("INSERT INTO audit_subjects (commitment, idx) VALUES ('ab', 99)"), 99),
    ],
)
def test_verify_names_the_first_mismatching_index(session: Session, change, index) -> None:
    store.append_entries(session, [sample_event(i) for i in range(8)])
    session.commit()
    session.execute(change)
    session.commit()
    with pytest.raises(LedgerCorrupt) as caught:
        check_projection(session, 8)
    assert caught.value.index == index
    assert "audit projection" in caught.value.reason
