"""``hub users ...`` and the demo people, run like an operator would (real database)."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from hub.cli import main


@pytest.fixture
def hub(project: Path, clean_db, database_url: str, tmp_path: Path):
    env = {
        "HUB_ROOT": str(project),
        "HUB_DATABASE_URL": database_url,
        "HUB_HUB_KEY": str(tmp_path / "hub-signing.key"),
        "HUB_SECRET_KEY": "k" * 40,
        "HUB_SUBJECT_SECRET": "s" * 40,
        "HUB_PASSWORD_HASH_PROFILE": "cheapest",
    }

    def run(*args: str, input: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
        return CliRunner(env={**env, **extra}).invoke(main, list(args), input=input,
                                                      catch_exceptions=False)

    assert run("init").exit_code == 0
    assert run("sync").exit_code == 0
    return run


def test_add_prints_exactly_one_otpauth_line(hub):
    result = hub("users", "add", "Ann.Lee@Example.test", "--name", "Ann Lee", "--partner",
                 "kent-police", "--role", "dpo", "--role", "auditor", "--password-stdin",
                 input="a long enough password\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    totp = pyotp.parse_uri(lines[0])
    assert lines[0].startswith("otpauth://totp/")
    assert len(base64.b32decode(totp.secret)) * 8 >= 160
    listed = hub("users", "list").stdout
    assert "ann.lee@example.test\tkent-police\tauditor,dpo\ttotp\tactive" in listed
    code = hub("users", "code", "ann.lee@example.test")
    assert code.exit_code == 0
    assert totp.verify(code.stdout.strip(), valid_window=1)


def test_add_sso_prints_nothing_and_refuses_bad_input(hub):
    sso = hub("users", "add", "sso@example.test", "--name", "S", "--partner", "kent-csc",
              "--role", "dpo", "--sso")
    assert sso.exit_code == 0 and sso.stdout == ""
    again = hub("users", "add", "sso@example.test", "--name", "S", "--partner", "kent-csc",
                "--role", "dpo", "--sso")
    assert again.exit_code != 0 and "already exists" in again.output
    assert "sso@example.test" not in again.output  # no personal data in the error
    nopartner = hub("users", "add", "x@example.test", "--name", "X", "--partner", "nowhere",
                    "--role", "dpo", "--password-stdin", input="a long enough password\n")
    assert nopartner.exit_code != 0 and "no partner" in nopartner.output
    short = hub("users", "add", "y@example.test", "--name", "Y", "--partner", "kent-csc",
                "--role", "dpo", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    badrole = hub("users", "add", "z@example.test", "--name", "Z", "--partner", "kent-csc",
                  "--role", "admin", "--sso")
    assert badrole.exit_code != 0
    assert "sso@example.test\tkent-csc\tdpo\tsso\tactive" in hub("users", "list").stdout
    assert hub("users", "code", "sso@example.test").exit_code != 0


def test_disable_and_reset_mfa(hub):
    hub("users", "add", "b@example.test", "--name", "B", "--partner", "kent-csc", "--role",
        "dpo", "--password-stdin", input="a long enough password\n")
    assert hub("users", "reset-mfa", "b@example.test").exit_code == 0
    assert "\tno-2fa\tactive" in hub("users", "list").stdout
    assert hub("users", "disable", "b@example.test").exit_code == 0
    assert "\tdisabled" in hub("users", "list").stdout
    missing = hub("users", "disable", "nobody@example.test")
    assert missing.exit_code != 0 and "no person" in missing.output


def test_code_is_refused_in_production(hub):
    result = hub("users", "code", "b@example.test", HUB_PRODUCTION="true")
    assert result.exit_code != 0


def test_demo_people_are_created_once_and_marked_demo(hub, project, database_url):
    from hub.people.demo import DEMO_PEOPLE, demo_people_report
    from hub.settings import Settings

    settings = Settings(root=project, database_url=database_url, secret_key="k" * 40,
                        password_hash_profile="cheapest")
    first = demo_people_report(settings, host="127.0.0.1", port=8000)
    assert first[0].startswith("console: http://127.0.0.1:8000/console/  (11 demo people created")
    second = demo_people_report(settings, host="127.0.0.1", port=8000)
    assert "0 demo people created, 11 already there" in second[0]
    listed = hub("users", "list").stdout
    for demo in DEMO_PEOPLE:
        assert f"{demo.email}\t{demo.partner_id}\t{','.join(demo.roles)}\ttotp\tactive demo" in listed
    assert {"hub_dpo", "dpo", "marac_coordinator", "agency_rep", "auditor"} <= {
        r for d in DEMO_PEOPLE for r in d.roles}
    assert dt.datetime.now(dt.UTC)  # the report needs no clock; codes come from `hub users code`


def test_add_without_a_terminal_needs_password_stdin(hub):
    result = hub("users", "add", "c@example.test", "--name", "C", "--partner", "kent-csc",
                 "--role", "dpo")
    assert result.exit_code != 0 and "--password-stdin" in result.output
    assert result.stdout == "" or "otpauth" not in result.stdout
