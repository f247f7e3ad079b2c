"""``hub sync`` deactivating a partner ends its access at once; putting it back restores it."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select

from hub import db
from hub.ledger.models import LedgerEntry
from hub.operations import synchronise
from tests.conftest import make_settings

PARTNER = "kent-yot"  # party to no agreement, so removing its file leaves every agreement valid
ROUTES = ["/api/v1/partners/me", "/api/v1/inbox", "/api/v1/log/checkpoint", "/api/v1/agreements"]


@pytest.fixture
def settings(clean_db, database_url, tmp_path, project):
    """The app and ``hub sync`` read a copy of the project that the test edits."""
    return make_settings(database_url, tmp_path, root=project)


def _scopes(app) -> str:
    from hub.partners.models import Partner

    with app.app_context():
        return " ".join(db.session().get(Partner, PARTNER).scopes)


def test_deactivation_revokes_live_tokens_and_reactivation_restores_access(
    client, settings, get_token, app, tmp_path
):
    token = get_token(PARTNER, "partners:read")  # syncs the partnership first
    scopes = _scopes(app)
    token = get_token(PARTNER, scopes)
    headers = {"Authorization": f"Bearer {token}"}
    before = {path: client.get(path, headers=headers).status_code for path in ROUTES}
    assert 401 not in before.values(), before

    declaration = settings.policies_dir / "partners" / f"{PARTNER}.toml"
    shutil.move(declaration, tmp_path / "aside.toml")
    report = synchronise(settings)
    assert f"  deactivated: {PARTNER}" in report
    for path in ROUTES:
        response = client.get(path, headers=headers)
        assert response.status_code == 401, (path, response.status_code)
        assert response.get_json()["oauth_error"] == "invalid_token"

    shutil.move(tmp_path / "aside.toml", declaration)
    report = synchronise(settings)
    assert f"  reactivated: {PARTNER}" in report
    assert client.get(ROUTES[0], headers=headers).status_code == 401  # revoked stays revoked
    fresh = {"Authorization": f"Bearer {get_token(PARTNER, scopes)}"}
    assert client.get(ROUTES[0], headers=fresh).status_code == 200
    with app.app_context():
        entries = [json.loads(e.entry) for e in db.session().scalars(select(LedgerEntry))]
    actions = [e["action"] for e in entries if e["type"] == "partner" and e["partner"] == PARTNER]
    assert actions == ["added", "deactivated", "reactivated"]


def test_an_inactive_partners_token_is_refused_even_if_not_revoked(client, settings, get_token, app):
    from hub.partners.models import Partner

    headers = {"Authorization": f"Bearer {get_token(PARTNER)}"}
    with app.app_context():
        session = db.session()
        session.get(Partner, PARTNER).active = False  # as a partial deploy might leave it
        session.commit()
    assert client.get(ROUTES[0], headers=headers).status_code == 401
