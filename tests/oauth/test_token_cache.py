"""The token cache: used when nothing changed, dropped at once when anything did.

Revocation, deactivation, and direct edits of token or partner rows must end access on the
very next request, in this process and in any other process sharing the database (the
credentials counter in hub/counters.py, moved by database triggers).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.oauth.cache import TOKENS
from tests.conftest import PROJECT, client_assertion

ME = "/api/v1/partners/me"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    TOKENS.clear()
    yield
    TOKENS.clear()


def _revoke_form(partner_id: str, token: str) -> dict[str, str]:
    return {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(partner_id, aud="http://127.0.0.1:8000/oauth/revoke"),
        "token": token,
    }


def test_a_known_token_is_not_looked_up_again(client, get_token, statements):
    token = get_token("kent-police")
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    statements.clear()
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    assert statements, "the counters are read on every request"
    assert not [s for s in statements if "oauth_tokens" in s]


def test_an_unknown_token_is_never_cached(client, demo_partners):
    for _ in range(3):
        response = client.get(ME, headers=_bearer("hubat_not-a-real-token"))
        assert response.status_code == 401
    assert len(TOKENS) == 0


def test_revocation_bites_on_the_next_request(client, get_token):
    token = get_token("kent-police")
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    assert len(TOKENS) == 1
    assert client.post("/oauth/revoke", data=_revoke_form("kent-police", token)).status_code == 200
    assert client.get(ME, headers=_bearer(token)).status_code == 401


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE partners SET active = false WHERE id = 'kent-police'",
        "UPDATE oauth_tokens SET revoked_at = CURRENT_TIMESTAMP",
        "DELETE FROM oauth_tokens",
    ],
)
def test_a_direct_database_edit_bites_on_the_next_request(client, get_token, clean_db, edit):
    token = get_token("kent-police")
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    with clean_db.begin() as conn:  # another connection: psql, as an operator would
        conn.execute(text(edit))
    assert client.get(ME, headers=_bearer(token)).status_code == 401


def test_an_expired_cached_token_is_refused(client, get_token, clean_db):
    """Expiry is checked on every use, from the cached copy; no counter needs to move."""
    token = get_token("kent-police")
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    ((digest, (stamp, cached)),) = TOKENS._entries.items()
    TOKENS.put(digest, stamp, dataclasses.replace(cached, expires_at=cached.issued_at))
    assert client.get(ME, headers=_bearer(token)).status_code == 401


CHILD = """
import json, sys
from pathlib import Path
from hub import create_app
from hub.oauth.cache import TOKENS
from tests.conftest import make_settings

app = create_app(make_settings(sys.argv[1], Path(sys.argv[2])))
client = app.test_client()
for line in sys.stdin:
    response = client.get("/api/v1/partners/me", headers={"Authorization": "Bearer " + line.strip()})
    print("RESULT " + json.dumps({"status": response.status_code, "cached": len(TOKENS)}), flush=True)
"""


class OtherProcess:
    """A second hub process on the same database, asked to call /partners/me with a token."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", CHILD, database_url, str(tmp)],
            cwd=PROJECT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, token: str) -> dict[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(token + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith("RESULT "):
                return json.loads(line.removeprefix("RESULT "))  # type: ignore[no-any-return]
        raise AssertionError("the other process died")

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


@pytest.fixture
def other_process(app, database_url: str, tmp_path: Path) -> Iterator[OtherProcess]:
    other = OtherProcess(database_url, tmp_path)
    yield other
    other.close()


def test_revocation_in_one_process_bites_at_once_in_another(client, get_token, other_process):
    token = get_token("kent-police")
    assert other_process.call(token) == {"status": 200, "cached": 1}
    assert other_process.call(token) == {"status": 200, "cached": 1}
    assert client.post("/oauth/revoke", data=_revoke_form("kent-police", token)).status_code == 200
    assert other_process.call(token)["status"] == 401


def test_deactivation_in_one_process_bites_at_once_in_another(
    client, get_token, other_process, clean_db
):
    token = get_token("medway-csc")
    assert other_process.call(token) == {"status": 200, "cached": 1}
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE partners SET active = false WHERE id = 'medway-csc'"))
    assert other_process.call(token)["status"] == 401
