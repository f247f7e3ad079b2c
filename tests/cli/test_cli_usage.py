"""``hub --version``, ``-h``/``--help`` on every level, and the issuer check at start."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from click.testing import CliRunner

from hub import serving
from hub.cli import main
from hub.serving import issuer_mismatch


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False, prog_name="hub")


def test_version_comes_from_the_package_metadata():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"hub {version('hub')}\n"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_lists_every_command(flag: str):
    result = invoke(flag)
    assert result.exit_code == 0
    assert result.output.startswith("Usage: hub [OPTIONS] COMMAND")
    for command in ("init", "sync", "serve", "demo", "token", "log", "agreements", "retention"):
        assert f"\n  {command} " in result.output


@pytest.mark.parametrize("args", [["token", "-h"], ["log", "verify", "-h"], ["agreements", "-h"]])
def test_short_help_works_on_subcommands(args: list[str]):
    result = invoke(*args)
    assert result.exit_code == 0 and "Usage: hub " in result.output


@pytest.mark.parametrize(
    ("issuer", "host", "port"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 8000),
        ("http://localhost:8000", "127.0.0.1", 8000),
        ("http://127.0.0.1:9000/", "127.0.0.1", 9000),
        ("https://hub.example", "hub.example", 443),
        ("http://127.0.0.1:8000", "0.0.0.0", 8000),  # noqa: S104 (every interface)
    ],
)
def test_an_issuer_naming_the_served_address_is_quiet(issuer: str, host: str, port: int):
    assert issuer_mismatch(issuer, host, port) is None


@pytest.mark.parametrize(
    ("issuer", "host", "port"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 9000),
        ("http://127.0.0.1:8000", "0.0.0.0", 9000),  # noqa: S104
        ("http://hub.example", "127.0.0.1", 80),
    ],
)
def test_an_issuer_naming_another_address_says_what_to_set(issuer: str, host: str, port: int):
    warning = issuer_mismatch(issuer, host, port)
    assert warning is not None
    public = "127.0.0.1" if host == "0.0.0.0" else host  # noqa: S104
    assert issuer in warning and f"HUB_ISSUER=http://{public}:{port}" in warning


def test_serve_warns_in_development_when_the_port_is_not_the_issuers(monkeypatch, tmp_path):
    served = []
    monkeypatch.setattr(serving, "serve", lambda settings, **kw: served.append(kw))
    env = {"HUB_ROOT": str(tmp_path), "HUB_ISSUER": "http://127.0.0.1:8000"}
    result = CliRunner(env=env).invoke(main, ["serve", "--port", "9000"], catch_exceptions=False)
    assert result.exit_code == 0 and served == [{"host": "127.0.0.1", "port": 9000, "workers": None}]
    assert "warning: HUB_ISSUER is http://127.0.0.1:8000" in result.stderr
    assert "HUB_ISSUER=http://127.0.0.1:9000" in result.stderr
    quiet = CliRunner(env=env).invoke(main, ["serve", "--port", "8000"], catch_exceptions=False)
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


def test_client_assertion_is_addressed_to_hub_issuer_by_default(monkeypatch, capsys):
    import base64
    import json
    import sys

    from hub import client_assertion
    from tests.conftest import PROJECT

    monkeypatch.setenv("HUB_ISSUER", "http://127.0.0.1:9000")
    key = str(PROJECT / "keys" / "demo" / "kent-csc.jwk")
    monkeypatch.setattr(sys, "argv", ["client_assertion", "kent-csc", key])
    client_assertion.main()
    payload = capsys.readouterr().out.strip().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == "http://127.0.0.1:9000/oauth/token"
    assert claims["iss"] == claims["sub"] == "kent-csc"
