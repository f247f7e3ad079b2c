"""The ``hub`` command from the public contract, run on a copy of the project."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hub.cli import main
from tests.conftest import PROJECT

AGREEMENTS = sorted(p.name for p in (PROJECT / "policies" / "agreements").glob("*.toml"))


@pytest.fixture
def hub(project: Path, clean_db, database_url: str, tmp_path: Path):
    """Run ``hub ...`` with the copy as project root and the test database."""
    env = {
        "HUB_ROOT": str(project),
        "HUB_DATABASE_URL": database_url,
        "HUB_HUB_KEY": str(tmp_path / "hub-signing.key"),
        "HUB_SECRET_KEY": "k" * 40,
        "HUB_SUBJECT_SECRET": "s" * 40,
    }

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)

    return run


def test_init_sync_and_log_verify(hub):
    init = hub("init")
    assert init.exit_code == 0 and "hub signing key: created" in init.output
    assert "hub signing key: present" in hub("init").output
    synced = hub("sync")
    assert synced.exit_code == 0, synced.output
    assert "agreements: 17 added" in synced.output
    verified = hub("log", "verify", "--quiet")
    assert verified.exit_code == 0, verified.output
    assert "ledger OK: 59 entries, 1 checkpoints verified" in verified.output


def test_log_checkpoint_signs_on_demand(hub):
    hub("init")
    hub("sync")
    result = hub("log", "checkpoint")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1] == "59" and lines[4].startswith("\u2014 ")


def test_log_verify_names_the_first_edited_entry(hub, engine):
    hub("init")
    hub("sync")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # a superuser switching the trigger off
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE ledger_entries SET entry = :e WHERE idx = 7"),
                     {"e": b'{"type":"partner","forged":true}'})
    result = hub("log", "verify", "--quiet")
    assert result.exit_code == 1
    assert "ledger INVALID: ledger entry 7" in result.output


@pytest.mark.parametrize("name", AGREEMENTS)
def test_every_demo_agreement_verifies(hub, project, name):
    result = hub("agreements", "verify", str(project / "policies" / "agreements" / name))
    assert result.exit_code == 0, result.output
    assert ": in_force" in result.output


def test_tampering_with_an_agreement_exits_1_naming_why(hub, project):
    path = project / "policies" / "agreements" / "kent-syv-referral.toml"
    path.write_text(path.read_text().replace("mental", "mental", 1).replace(
        'school_name = "release"', 'school_name = "release"\nmental_health = "release"'))
    result = hub("agreements", "verify", str(path))
    assert result.exit_code == 1
    assert "signature_invalid_signature" in result.output
    assert "kent-csc" in result.output and "medway-csc" in result.output


def test_removing_a_signature_makes_it_draft(hub, project):
    path = project / "policies" / "agreements" / "tri-iom.toml"
    sig_path = path.with_name("tri-iom.sig.json")
    sigs = json.loads(sig_path.read_text())
    sigs["signatures"] = sigs["signatures"][1:]
    sig_path.write_text(json.dumps(sigs))
    result = hub("agreements", "verify", str(path))
    assert result.exit_code == 1
    assert "draft" in result.output and "missing" in result.output


def test_new_sign_verify_and_list_a_fresh_agreement(hub, project):
    created = hub("agreements", "new", "kent-test-isa", "--party", "kent-police",
                  "--party", "kent-yot", "--title", "Test")
    assert created.exit_code == 0, created.output
    path = project / "policies" / "agreements" / "kent-test-isa.toml"
    text_ = path.read_text()
    for heading in ("purposes", "[[parties]]", "[rights]", "[governance]", "[[flows]]", "review_by"):
        assert heading in text_
    unsigned = hub("agreements", "verify", str(path))
    assert unsigned.exit_code == 1
    for party in ("kent-police", "kent-yot"):
        signed = hub("agreements", "sign", str(path), "--partner", party,
                     "--key", str(project / "keys" / "demo" / f"{party}.jwk"))
        assert signed.exit_code == 0, signed.output
    listed = hub("agreements", "list")
    assert "kent-test-isa" in listed.output


def test_signing_for_a_non_party_fails(hub, project):
    path = project / "policies" / "agreements" / "tri-iom.toml"
    result = hub("agreements", "sign", str(path), "--partner", "kent-police",
                 "--key", str(project / "keys" / "demo" / "kent-police.jwk"))
    assert result.exit_code != 0
    assert "not a party" in result.output


def test_keys_generate_writes_a_private_key_and_prints_the_public_set(hub, tmp_path):
    target = tmp_path / "new.jwk"
    result = hub("keys", "generate", str(target), "--alg", "EdDSA")
    assert result.exit_code == 0
    public = json.loads(result.output)
    assert "d" not in public["keys"][0] and public["keys"][0]["crv"] == "Ed25519"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert "d" in json.loads(target.read_text())
    assert hub("keys", "generate", str(target)).exit_code != 0  # never overwrites


def test_partners_add_registers_a_client_that_can_get_a_token(hub, project, tmp_path, database_url):
    hub("init")
    private = tmp_path / "housing.jwk"
    public = json.loads(hub("keys", "generate", str(private)).output)
    jwks = tmp_path / "housing.jwks.json"
    jwks.write_text(json.dumps(public))
    result = hub("partners", "add", "sutton-housing", "--name", "Sutton Housing",
                 "--type", "housing", "--jwks", str(jwks), "--public-authority")
    assert result.exit_code == 0, result.output
    assert (project / "policies" / "partners" / "sutton-housing.toml").exists()
    assert (project / "keys" / "partners" / "sutton-housing.jwks.json").exists()
    assert "partners: 22 added" in result.output  # first sync: the demo partnership too

    from hub import create_app
    from tests.conftest import client_assertion, make_settings, token_form

    app = create_app(make_settings(database_url, tmp_path, root=project))
    assertion = client_assertion("sutton-housing", json.loads(private.read_text()))
    response = app.test_client().post("/oauth/token", data=token_form(assertion))
    assert response.status_code == 200
    app.extensions["hub.engine"].dispose()


def test_partners_add_rejects_a_bad_type_and_writes_nothing(hub, project, tmp_path):
    hub("init")
    jwks = tmp_path / "x.jwks.json"
    jwks.write_text(json.dumps(json.loads(hub("keys", "generate", str(tmp_path / "x.jwk")).output)))
    result = hub("partners", "add", "odd-one", "--name", "Odd", "--type", "spies", "--jwks", str(jwks))
    assert result.exit_code != 0
    assert "type must be one of" in result.output
    assert not (project / "policies" / "partners" / "odd-one.toml").exists()


def test_partners_add_checks_flags_against_statutory_roles(hub, project, tmp_path):
    """DPA 2018 Sch 7: a chief officer of police is a competent authority; the flag must say so."""
    hub("init")
    jwks = tmp_path / "x.jwks.json"
    jwks.write_text(json.dumps(json.loads(hub("keys", "generate", str(tmp_path / "x.jwk")).output)))
    args = ["partners", "add", "surrey-police", "--name", "Surrey Police", "--type", "police",
            "--jwks", str(jwks), "--role", "chief_officer_of_police"]
    result = hub(*args, "--relevant-authority", "--public-authority")
    assert result.exit_code != 0
    assert "competent_authority = false disagrees with statutory_roles" in result.output
    assert not (project / "policies" / "partners" / "surrey-police.toml").exists()
    result = hub(*args, "--relevant-authority", "--public-authority", "--competent-authority")
    assert result.exit_code == 0, result.output
    text = (project / "policies" / "partners" / "surrey-police.toml").read_text()
    assert 'statutory_roles = ["chief_officer_of_police"]' in text


def test_demo_refuses_production_mode(hub, monkeypatch):
    monkeypatch.setenv("HUB_PRODUCTION", "true")
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code != 0


def test_bad_settings_are_reported_cleanly(tmp_path):
    result = CliRunner(env={"HUB_TOKEN_LIFETIME": "forever", "HUB_ROOT": str(tmp_path)}).invoke(main, ["sync"])
    assert result.exit_code != 0
    assert "HUB_TOKEN_LIFETIME: expected an integer" in result.output


def test_sync_before_init_says_what_to_do(tmp_path):
    env = {"HUB_ROOT": str(tmp_path), "HUB_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    shutil.copytree(PROJECT / "policies", tmp_path / "policies")
    shutil.copytree(PROJECT / "keys", tmp_path / "keys")
    result = CliRunner(env=env).invoke(main, ["sync"])
    assert result.exit_code != 0
    assert "run `hub init`" in result.output
