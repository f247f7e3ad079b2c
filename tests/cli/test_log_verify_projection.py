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
    result = hub("log", "verify", "--quiet")
    assert result.exit_code == 1
    assert "ledger INVALID: ledger entry 9: audit projection row does not match" in result.output
    with make_sessionmaker(engine)() as session:
        runs = list(session.scalars(select(LedgerCheckRun).order_by(LedgerCheckRun.id)))
    assert [(r.kind, r.ok, r.runner) for r in runs] == [("full", True, "cli"), ("full", False, "cli")]
