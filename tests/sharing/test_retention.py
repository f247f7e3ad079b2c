"""``hub retention purge``: payloads past their flow's retention are crypto-shredded."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from hub import db
from hub.cli import main
from hub.ledger.models import LedgerEntry
from hub.sharing.retention import purge_expired
from tests.conftest import PROJECT
from tests.sharing.conftest import KENT_REFERRAL

SUTTON_CONCERN = {
    "to": "met-police",
    "purpose": "safeguarding_concern",
    "data": {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "2008-05-06"},
}
KENT_FLOW = "kent-syv-referral v1 flow 0 (kent-csc -> kent-syv-provider, syv_intervention)"
SUTTON_FLOW = (
    "sutton-safeguarding-concerns v1 flow 0 (sutton-outreach -> met-police, safeguarding_concern)"
)


@pytest.fixture
def hub(settings, tmp_path):
    """Run ``hub ...`` against the test database with the app's keys and secrets."""
    env = {
        "HUB_ROOT": str(PROJECT),
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_HUB_KEY": str(settings.signing_key_file),
        "HUB_MASTER_KEY": str(settings.master_key_path),
        "HUB_SECRET_KEY": "k" * 40,
        "HUB_SUBJECT_SECRET": settings.subject_secret,
    }

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)

    return run


def _expire(engine, *ids: str) -> None:
    """Move retention_until into the past, as time passing would."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with engine.begin() as conn:
        for disclosure_id in ids:
            conn.execute(
                text("UPDATE disclosures SET retention_until = :t WHERE id = :id"),
                {"t": past, "id": disclosure_id},
            )


def _rows(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, wrapped_key IS NULL, ciphertext IS NULL, erased_at, "
                "erasure_reason, status FROM disclosures"
            )
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def _ledger(app) -> list[dict]:
    with app.app_context():
        rows = db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.index))
        return [json.loads(r.entry) for r in rows]


def test_purge_erases_only_expired_payloads_reports_counts_and_is_idempotent(
    send, client, auth, app, engine, hub
):
    kent = [send("kent-csc", KENT_REFERRAL).get_json()["id"] for _ in range(3)]
    sutton = send("sutton-outreach", SUTTON_CONCERN).get_json()["id"]
    withdrawn = kent.pop()
    client.post(
        f"/api/v1/referrals/{withdrawn}/withdraw",
        json={"reason": "sent_in_error"},
        headers=auth("kent-csc"),
    )
    _expire(engine, kent[0], sutton, withdrawn)  # kent[1] is still within retention
    before, size = _rows(engine), len(_ledger(app))

    dry = hub("retention", "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        "retention (dry run): 2 payloads past retention would be erased; nothing changed",
        f"  {KENT_FLOW}: 1",
        f"  {SUTTON_FLOW}: 1",
    ]
    assert _rows(engine) == before and len(_ledger(app)) == size

    purged = hub("retention", "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.splitlines() == [
        "retention: 2 payloads past retention erased",
        f"  {KENT_FLOW}: 1",
        f"  {SUTTON_FLOW}: 1",
    ]
    rows = _rows(engine)
    for erased in (kent[0], sutton):
        key_gone, cipher_gone, erased_at, reason, status = rows[erased]
        assert key_gone and cipher_gone and erased_at is not None
        assert reason == "retention_expired" and status == "sent"  # the workflow ran its course
    assert rows[kent[1]][:3] == (False, False, None)
    assert rows[withdrawn] == before[withdrawn]  # erased once, by its withdrawal
    entries = _ledger(app)[size:]
    assert sorted(e["ref"] for e in entries) == sorted([kent[0], sutton])
    assert all(
        e["type"] == "erasure"
        and e["reason"] == "retention_expired"
        and e["key_destroyed"] is True
        and e["actor"]["partner"] == "hub"
        for e in entries
    )
    # the recipients are told (Art 19); the unexpired referral still reads
    provider = client.get("/api/v1/inbox", headers=auth("kent-syv-provider")).get_json()["items"]
    notices = [i for i in provider if i["kind"] == "erasure"]
    assert {(i["disclosure"]["id"], i["notice"]["reason"]) for i in notices} == {
        (kent[0], "retention_expired"),
        (withdrawn, "sent_in_error"),
    }
    live = client.get(f"/api/v1/referrals/{kent[1]}", headers=auth("kent-syv-provider")).get_json()
    assert live["data"]["ete_status"] == "neet"
    police = client.get("/api/v1/inbox", headers=auth("met-police")).get_json()["items"]
    assert police[-1]["kind"] == "erasure" and police[-1]["disclosure"]["data"] is None

    again = hub("retention", "purge")
    assert again.stdout.splitlines() == ["retention: 0 payloads past retention erased"]
    size = len(_ledger(app))
    assert hub("retention", "purge").exit_code == 0 and len(_ledger(app)) == size
    verified = hub("log", "verify", "--quiet")
    assert verified.exit_code == 0, verified.output


def test_purge_works_through_a_backlog_in_chunks(send, app, engine):
    ids = [send("kent-csc", KENT_REFERRAL).get_json()["id"] for _ in range(5)]
    _expire(engine, *ids)
    with app.app_context():
        session = db.session()
        report = purge_expired(session, app.extensions["hub.sharing"], chunk=2)
        assert report.total == 5 and not report.dry_run
        assert purge_expired(session, app.extensions["hub.sharing"], chunk=2).total == 0
    assert all(row[0] and row[1] for row in _rows(engine).values())
