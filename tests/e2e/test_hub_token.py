"""``hub token``: a token from a real server, and every refusal as one clear line, exit 1."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import HUB_COMMAND, LiveHub, free_port

pytestmark = pytest.mark.slow


def hub_token(live_hub: LiveHub, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*HUB_COMMAND, "token", *args], env=live_hub.env, capture_output=True, text=True,
        timeout=60, check=False,
    )


def test_prints_a_token_that_works(live_hub: LiveHub):
    result = hub_token(live_hub, "kent-csc", "partners:read", "--issuer", live_hub.issuer)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("hubat_") and "\n" not in token
    me = live_hub.http.get(
        f"{live_hub.base_url}/api/v1/partners/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200 and me.json()["id"] == "kent-csc"


def test_issuer_defaults_to_hub_issuer(live_hub: LiveHub):
    result = hub_token(live_hub, "kent-police", "agreements:read")  # HUB_ISSUER is in env
    assert result.returncode == 0, result.stderr


def test_an_oauth_refusal_is_its_rfc6749_error_not_a_traceback(live_hub: LiveHub):
    result = hub_token(live_hub, "kent-csc", "no:such:scope", "--issuer", live_hub.issuer)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: token refused: 400 invalid_scope")
    assert "Traceback" not in result.stderr


def test_an_audience_other_than_the_issuer_is_invalid_client_with_a_hint(live_hub: LiveHub):
    elsewhere = live_hub.issuer.replace("127.0.0.1", "localhost")  # same server, wrong aud
    result = hub_token(live_hub, "kent-csc", "partners:read", "--issuer", elsewhere)
    assert result.returncode == 1
    assert "invalid_client" in result.stderr and "HUB_ISSUER" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_hub_and_a_missing_key_are_one_line_each(live_hub: LiveHub):
    down = hub_token(live_hub, "kent-csc", "partners:read", "--issuer",
                     f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 1 and "cannot reach the hub" in down.stderr
    nokey = hub_token(live_hub, "nobody", "partners:read", "--issuer", live_hub.issuer)
    assert nokey.returncode == 1 and "cannot read a private JWK for nobody" in nokey.stderr
    assert "Traceback" not in down.stderr + nokey.stderr
