"""No pre-ping on the request path; a connection killed under the hub is retried once.

``pg_terminate_backend`` cuts every connection the hub's pool holds, as a database restart
or a proxy timeout would. The next request must still succeed (the view runs again on a
fresh connection), a write must happen exactly once, and a checkout costs no extra round
trip when nothing is wrong.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from hub import db
from hub.sharing.models import Disclosure
from tests.sharing.conftest import KENT_REFERRAL

ME = "/api/v1/partners/me"


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a killed server connection is a PostgreSQL matter")


def _kill_the_hubs_connections(app, clean_db) -> int:
    """Terminate every backend the app's pool holds; how many were killed."""
    pids = []
    pool = app.extensions["hub.engine"].pool
    with app.extensions["hub.engine"].connect() as conn:
        pids.append(conn.execute(select(func.pg_backend_pid())).scalar_one())
    assert pool.checkedin() >= 1
    with clean_db.connect() as admin:
        killed = admin.execute(
            text("SELECT count(*) FROM (SELECT pg_terminate_backend(p) FROM unnest(:pids) p) t"),
            {"pids": pids},
        ).scalar_one()
    return int(killed)


def test_the_serving_pool_does_not_ping(app):
    """A ping is a round trip per checkout (issue 13); the retry above replaces it."""
    assert app.extensions["hub.engine"].pool._pre_ping is False


def test_a_read_after_the_connection_was_killed_succeeds(
    postgresql_only, app, client, get_token, clean_db
):
    token = get_token("kent-police")
    assert client.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert _kill_the_hubs_connections(app, clean_db) == 1
    response = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == "kent-police"


def test_a_referral_after_the_connection_was_killed_is_recorded_once(
    postgresql_only, app, client, get_token, clean_db
):
    headers = {"Authorization": f"Bearer {get_token('kent-csc', 'referrals:write')}"}
    assert _kill_the_hubs_connections(app, clean_db) == 1
    response = client.post("/api/v1/referrals", json=KENT_REFERRAL, headers=headers)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Disclosure)) == 1


def test_a_second_loss_is_a_503(postgresql_only, app, client, get_token, clean_db, monkeypatch):
    """Retry once, not for ever: a database that keeps dropping connections is unavailable."""
    token = get_token("kent-police")
    assert client.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    engine = app.extensions["hub.engine"]

    def _kill_on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with clean_db.connect() as admin:
            pid = dbapi_connection.info.backend_pid
            admin.execute(select(func.pg_terminate_backend(pid)))

    event.listen(engine, "checkout", _kill_on_checkout)
    try:
        response = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(engine, "checkout", _kill_on_checkout)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
