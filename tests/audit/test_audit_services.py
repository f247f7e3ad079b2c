"""DPO services on both databases: scope, search, entry verification, subject access."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from hub.audit import consultations, entries, health, notices, search, subject_access
from hub.audit.scope import Viewer
from hub.db import utcnow
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.ledger import store
from hub.ledger.projection import AuditEvent
from tests.audit.conftest import SUBJECT, viewer

HUB_DPO = viewer("hub-coordinator", "hub_dpo")
KENT_CSC_DPO = viewer("kent-csc", "dpo")
KENT_POLICE_DPO = viewer("kent-police", "dpo")
AUDITOR = viewer("hub-coordinator", "auditor")


def _all(db_session, who: Viewer, **filters) -> list[search.Row]:
    rows, before = [], None
    while True:
        page = search.search(db_session, who, search.Filters(**filters), before=before, limit=7)
        rows += page.rows
        if page.next_before is None:
            return rows
        before = page.next_before


def test_hub_dpo_sees_everything_newest_first(db_session, seeded) -> None:
    rows = _all(db_session, HUB_DPO)
    total = db_session.scalar(select(AuditEvent.index).order_by(AuditEvent.index.desc()).limit(1))
    assert [r.index for r in rows] == list(range(total, -1, -1))


def test_agency_dpo_never_sees_another_agencys_entries(db_session, seeded) -> None:
    for who in (KENT_CSC_DPO, KENT_POLICE_DPO):
        rows = _all(db_session, who)
        seen = {r.index for r in rows}
        assert not seen & set(seeded.other_agency)
        for row in rows:
            assert (
                row.actor_partner == who.partner_id
                or who.partner_id in row.recipients
                or row.type in ("partner", "agreement", "key")
            )
        with pytest.raises(NotFound):
            entries.load_row(db_session, who, seeded.other_agency[0])
    csc = {r.index for r in _all(db_session, KENT_CSC_DPO)}
    assert set(seeded.disclosures + seeded.refusals) <= csc
    police = {r.index for r in _all(db_session, KENT_POLICE_DPO)}
    assert set(seeded.refusals) <= police  # kent-police was the refused recipient
    assert not set(seeded.disclosures) & police


def test_filters_narrow_the_search(db_session, seeded) -> None:
    refused = _all(db_session, HUB_DPO, type="refusal")
    assert {r.index for r in refused} == set(seeded.refusals)
    to_provider = _all(db_session, HUB_DPO, to_partner="kent-syv-provider", type="disclosure")
    assert {r.index for r in to_provider} == set(seeded.disclosures + seeded.unrelated)
    by_basis = _all(db_session, HUB_DPO, type="disclosure", from_partner="leics-police",
                    basis=db_session.get(AuditEvent, seeded.other_agency[0]).basis.split()[0])
    assert [r.index for r in by_basis] == seeded.other_agency
    assert _all(db_session, HUB_DPO, date_to=dt.date(2000, 1, 1)) == []
    today = dt.datetime.now(dt.UTC).date()
    assert len(_all(db_session, HUB_DPO, date_from=today)) == len(_all(db_session, HUB_DPO))
    partial = _all(db_session, HUB_DPO, result="partial")
    assert set(seeded.disclosures) <= {r.index for r in partial}


def test_bad_filters_are_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as caught:
        search.parse_filters({"type": "bogus", "date_from": "yesterday", "to_partner": "a b"})
    pointers = {e["pointer"] for e in caught.value.extensions["errors"]}
    assert pointers == {"#/type", "#/date_from", "#/to_partner"}
    with pytest.raises(ValidationFailed):
        search.parse_cursor("9" * 40)


def test_csv_export_holds_the_same_rows(db_session, seeded) -> None:
    text = "".join(search.export_csv(db_session, KENT_CSC_DPO, search.Filters(type="disclosure")))
    lines = text.strip().splitlines()
    assert lines[0].startswith("index,time,type,result,from")
    expected = [r.index for r in _all(db_session, KENT_CSC_DPO, type="disclosure")]
    assert [int(line.split(",")[0]) for line in lines[1:]] == expected


def test_auditor_sees_metadata_never_bodies_or_people(db_session, seeded, verifier_key) -> None:
    rows = _all(db_session, AUDITOR)
    assert rows and all(r.actor_user is None and r.ref is None for r in rows)
    view = entries.entry_view(db_session, AUDITOR, seeded.disclosures[0], verifier_key)
    assert view.body is None and view.body_json is None
    with pytest.raises(PermissionDenied):
        subject_access.subject_report(db_session, AUDITOR, ["00" * 32])
    with pytest.raises(PermissionDenied):
        search.search(db_session, viewer("x", "marac_coordinator"), search.Filters())


def test_entry_view_verifies_against_a_signed_checkpoint(
    db_session, seeded, verifier_key, sign_now
) -> None:
    index = seeded.disclosures[0]
    pending = entries.entry_view(db_session, HUB_DPO, index, verifier_key)
    db_session.rollback()  # SQLite: every transaction holds the write lock (BEGIN IMMEDIATE)
    if pending.verification.state == "pending":  # no checkpoint covered it yet
        sign_now()
    view = entries.entry_view(db_session, HUB_DPO, index, verifier_key)
    assert view.verification.state == "verified", view.verification.detail
    assert view.body["type"] == "disclosure" and view.verification.proof is not None
    wrong = entries.entry_view(db_session, HUB_DPO, index, _other_key())
    assert wrong.verification.state == "failed"


def _other_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.ledger.service import log_verifier_key

    return log_verifier_key(Ed25519PrivateKey.generate(), "hub.example/other")


def test_subject_access_lists_exactly_the_seeded_entries(
    db_session, seeded, subject_secret
) -> None:
    ids = subject_access.identifiers_from(SUBJECT)
    commitments = subject_access.commitments_for(subject_secret, ids)
    report = subject_access.subject_report(db_session, HUB_DPO, commitments)
    assert [i.row.index for i in report.disclosures] == seeded.disclosures
    assert [i.row.index for i in report.refusals] == seeded.refusals
    assert [i.row.index for i in report.views] == seeded.views and seeded.views
    first = report.disclosures[0]
    assert first.row.recipients == ("kent-syv-provider",)
    assert "given_name" in first.fields_released and "mental_health" in first.fields_withheld
    assert first.row.agreement_id and first.row.basis and first.row.purpose
    # the agency DPO of the recipient of nothing sees only what involves it
    police = subject_access.subject_report(db_session, KENT_POLICE_DPO, commitments)
    assert [i.row.index for i in police.refusals] == seeded.refusals
    assert police.disclosures == []


def test_name_needs_all_three_parts(subject_secret) -> None:
    with pytest.raises(ValidationFailed):
        subject_access.commitments_for(subject_secret, {"given_name": "Pat"})
    with pytest.raises(ValidationFailed):
        subject_access.identifiers_from({"date_of_birth": "01/04/2010"})
    with pytest.raises(ValidationFailed):
        subject_access.identifiers_from({})


def test_every_view_writes_a_consultation_naming_the_person(db_session, seeded) -> None:
    index = consultations.record_consultation(
        db_session, KENT_CSC_DPO, consultations.SUBJECT_ACCESS, subjects=["ab" * 32]
    )
    db_session.commit()
    row = db_session.get(AuditEvent, index)
    assert (row.type, row.actor_partner, row.actor_user, row.purpose) == (
        "consultation", "kent-csc", "u-0123456789abcdef", "subject_access")


def test_register_due_dates_and_one_extension(db_session) -> None:
    request = subject_access.register_request(db_session, KENT_CSC_DPO, "SAR 2026/17",
                                              "2026-01-31", True)  # fmt: skip
    assert request.due_on == dt.date(2026, 3, 2)  # 28 Feb is a Saturday
    with pytest.raises(Exception, match="within the first month"):
        subject_access.extend_request(db_session, KENT_CSC_DPO, request.id, "complex",
                                      dt.date(2026, 3, 3))  # fmt: skip
    extended = subject_access.extend_request(
        db_session, KENT_CSC_DPO, request.id, "many agencies to consult", dt.date(2026, 2, 10)
    )
    assert extended.extended_to == dt.date(2026, 4, 30)
    with pytest.raises(Exception, match="already been extended"):
        subject_access.extend_request(db_session, KENT_CSC_DPO, request.id, "again",
                                      dt.date(2026, 2, 11))  # fmt: skip
    with pytest.raises(NotFound):
        subject_access.get_request(db_session, KENT_POLICE_DPO, request.id)
    assert [r.id for r in subject_access.list_requests(db_session, HUB_DPO)] == [request.id]
    with pytest.raises(ValidationFailed):
        subject_access.register_request(db_session, KENT_CSC_DPO, "x", "31/01/2026", True)


def test_health_records_runs_and_turns_red_on_failure(
    db_session, seeded, verifier_key, sign_now
) -> None:
    sign_now()
    before = health.ledger_health(db_session, verifier_key, checkpoint_interval=60,
                                  consistency_interval=300, verify_interval=3600)  # fmt: skip
    assert [light.state for light in before.lights][1:] == ["amber", "amber"]  # never run
    assert health.run_full_verification(db_session, verifier_key, "test").ok
    assert health.run_consistency_check(db_session, verifier_key, "test").ok
    db_session.commit()
    after = health.ledger_health(db_session, verifier_key, checkpoint_interval=60,
                                 consistency_interval=300, verify_interval=3600)  # fmt: skip
    assert after.overall == "green", after.lights
    assert not health.is_due(db_session, health.FULL, 3600)
    failed = health.run_full_verification(db_session, _other_key(), "test")
    db_session.commit()
    assert not failed.ok
    red = health.ledger_health(db_session, verifier_key, checkpoint_interval=60,
                               consistency_interval=300, verify_interval=3600)  # fmt: skip
    assert red.lights[2].state == "red" and red.overall == "red"


def test_a_failed_incremental_run_turns_the_verification_light_red(
    db_session, seeded, verifier_key, sign_now
) -> None:
    sign_now()
    assert health.run_full_verification(db_session, verifier_key, "test").ok
    assert health.incremental_start(db_session) == store.tree_size(db_session)  # signed head
    health.record_run(db_session, health.INCREMENTAL, utcnow(), False, 5, "entry 3: bad", "cli")
    db_session.commit()
    red = health.ledger_health(db_session, verifier_key, checkpoint_interval=60,
                               consistency_interval=300, verify_interval=3600)  # fmt: skip
    assert red.lights[2].state == "red" and "entry 3" in red.lights[2].summary
    assert health.incremental_start(db_session) == 0  # after a failure: verify everything


def test_art19_follows_each_recipients_notice(client, auth, db_session, seeded) -> None:
    from tests.sharing.conftest import KENT_REFERRAL

    sent = client.post("/api/v1/referrals", json=KENT_REFERRAL, headers=auth("kent-csc"))
    withdrawn = client.post(f"/api/v1/referrals/{sent.get_json()['id']}/withdraw",
                            json={"reason": "sent_in_error"}, headers=auth("kent-csc"))  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.get_json()
    index = withdrawn.get_json()["ledger_index"]
    assert index in [r.index for r in notices.changes(db_session, KENT_CSC_DPO)]
    view = notices.notice_view(db_session, KENT_CSC_DPO, index)
    assert [(n.recipient, n.state) for n in view.notices][0][0] == "kent-syv-provider"
    assert view.notices[0].state in ("in_inbox", "pending", "delivered")
    notices.record_decision(db_session, KENT_CSC_DPO, index, "kent-syv-provider",
                            "the provider has closed and has no successor")  # fmt: skip
    db_session.commit()
    assert notices.notice_view(db_session, KENT_CSC_DPO, index).notices[0].state == (
        "disproportionate")
    with pytest.raises(ValidationFailed):
        notices.record_decision(db_session, KENT_CSC_DPO, index, "leics-police", "x" * 20)


def test_pdf_of_a_report_holds_its_text() -> None:
    from pypdf import PdfReader

    from hub.audit.pdf import html_to_pdf

    pdf = html_to_pdf("<html><body><h1>Subject access report</h1><p>entry 42</p></body></html>")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Subject access report" in text and "entry 42" in text


def test_worker_tick_runs_each_due_check_once(app, seeded, verifier_key) -> None:
    sessions = app.extensions["hub.sessionmaker"]
    runs = health.tick_checks(sessions, verifier_key, verify_interval=3600,
                              consistency_interval=300)  # fmt: skip
    assert sorted(r.kind for r in runs) == ["consistency", "full"] and all(r.ok for r in runs)
    assert health.tick_checks(sessions, verifier_key, verify_interval=3600,
                              consistency_interval=300) == []  # fmt: skip
    assert health.tick_checks(sessions, verifier_key, verify_interval=0,
                              consistency_interval=0) == []  # fmt: skip
