"""On PostgreSQL every wait is bounded by the server too: a held lock gives a 503, not a hang."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import make_settings
from tests.sharing.conftest import KENT_REFERRAL


@pytest.fixture
def settings(clean_db, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement and lock timeouts are PostgreSQL settings")
    return make_settings(
        database_url, tmp_path, db_statement_timeout=3.0, db_lock_timeout=0.5
    )


def test_the_app_engine_sets_the_configured_server_timeouts(app):
    with app.extensions["hub.engine"].connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "3s"
        assert connection.execute(text("SHOW lock_timeout")).scalar() == "500ms"


def test_a_ledger_lock_held_elsewhere_gives_503_with_retry_after(send, auth, app, engine):
    auth("kent-csc")  # the token first: issuing it does not touch the ledger head
    with engine.connect() as other:
        transaction = other.begin()
        other.execute(text("SELECT 1 FROM ledger_head FOR UPDATE"))
        try:
            response = send("kent-csc", KENT_REFERRAL)
        finally:
            transaction.rollback()
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["type"].endswith("/unavailable")
    assert "Retry-After" in response.headers
    assert send("kent-csc", KENT_REFERRAL).status_code == 201  # and it recovers at once
