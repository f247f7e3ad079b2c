"""``hub log verify`` checks the audit projection too, and records its run for the console."""

from __future__ import annotations

from sqlalchemy import select, text

from hub.audit.models import LedgerCheckRun
from hub.db import make_sessionmaker
from tests.cli.test_cli import hub  # noqa: F401 - the fixture running `hub ...`


def test_edited_projection_row_is_named_and_runs_are_recorded(hub, engine):  # noqa: F811
    hub("init")
    hub("sync")
    assert hub("log", "verify", "--quiet").exit_code == 0
    with engine.begin() as conn:  # hide a disclosure from DPO searches, leave the tree alone
        conn.execute(text("UPDATE audit_events SET actor_partner = 'someone-else' WHERE idx = 9"))
    result = hub("log", "verify", "--quiet", "--full")
    assert result.exit_code == 1
    assert "ledger INVALID: ledger entry 9: audit projection row does not match" in result.output
    with make_sessionmaker(engine)() as session:
        runs = list(session.scalars(select(LedgerCheckRun).order_by(LedgerCheckRun.id)))
    assert [(r.kind, r.ok, r.runner) for r in runs] == [("full", True, "cli"), ("full", False, "cli")]


def test_routine_runs_are_incremental_and_full_checks_everything(hub, engine):  # noqa: F811
    hub("init")
    hub("sync")
    assert hub("log", "checkpoint").exit_code == 0
    first = hub("log", "verify", "--quiet", "--processes", "2")
    assert first.exit_code == 0 and "incremental" not in first.output  # no earlier run
    second = hub("log", "verify", "--quiet")
    assert second.exit_code == 0, second.output
    assert "0 entries after the checkpoint at size" in second.output  # nothing new since
    with engine.begin() as conn:  # behind the incremental start: only --full reads it
        conn.execute(text("UPDATE audit_events SET actor_partner = 'someone-else' WHERE idx = 3"))
    assert hub("log", "verify", "--quiet").exit_code == 0
    full = hub("log", "verify", "--quiet", "--full")
    assert full.exit_code == 1
    assert "ledger entry 3: audit projection row does not match" in full.output
    after_failure = hub("log", "verify", "--quiet")  # a failed last run: routine goes full
    assert after_failure.exit_code == 1 and "ledger entry 3" in after_failure.output
    with make_sessionmaker(engine)() as session:
        runs = list(session.scalars(select(LedgerCheckRun).order_by(LedgerCheckRun.id)))
    assert [(r.kind, r.ok) for r in runs] == [
        ("full", True), ("incremental", True), ("incremental", True), ("full", False),
        ("full", False),
    ]  # fmt: skip
