"""``hub sync`` loads policies/partners and keys/partners: idempotent, reports, rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import db
from hub.operations import SyncFailed, synchronise
from hub.partners.models import Partner
from tests.conftest import make_settings


@pytest.fixture
def project_settings(project: Path, clean_db, database_url, tmp_path):
    return make_settings(database_url, tmp_path, root=project)


def _partners(engine) -> dict[str, Partner]:
    with db.make_sessionmaker(engine)() as session:
        return {p.id: p for p in session.scalars(select(Partner))}


def test_first_sync_adds_every_demo_partner(project_settings, engine):
    lines = synchronise(project_settings)
    count = len(list((project_settings.policies_dir / "partners").glob("*.toml")))
    assert count >= 15
    assert lines[0].startswith(f"partners: {count} added, 0 changed")
    partners = _partners(engine)
    assert partners["leics-police"].competent_authority is True
    assert partners["victim-first"].demo_only is True
    report = "\n".join(lines)
    assert "agreements: 17 added" in report
    assert "tri-iom v1: in_force" in report


def test_second_sync_changes_nothing(project_settings):
    synchronise(project_settings)
    lines = synchronise(project_settings)
    assert "0 added, 0 changed" in lines[0]
    assert "0 deactivated" in lines[0]
    assert "agreements: 0 added, 0 changed" in "\n".join(lines)
    assert lines[-1] == "ledger: 0 entries appended"


def test_sync_reports_a_changed_and_a_removed_partner(project_settings, engine):
    synchronise(project_settings)
    path = project_settings.policies_dir / "partners" / "kent-police.toml"
    path.write_text(path.read_text().replace('"Kent Police"', '"Kent Police (renamed)"'))
    (project_settings.policies_dir / "partners" / "medway-csc.toml").unlink()
    lines = synchronise(project_settings)
    assert "1 changed" in lines[0] and "1 deactivated" in lines[0]
    assert "  changed: kent-police" in lines
    assert "  deactivated: medway-csc" in lines
    partners = _partners(engine)
    assert partners["kent-police"].name == "Kent Police (renamed)"
    assert partners["medway-csc"].active is False


def test_sync_records_partners_keys_and_agreements_on_the_ledger(project_settings, engine):
    import json as _json

    from hub.ledger.models import LedgerEntry

    synchronise(project_settings)
    with db.make_sessionmaker(engine)() as session:
        events = [_json.loads(e.entry) for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.index))]
    kinds = [e["type"] for e in events]
    assert kinds.count("partner") == 21 and kinds.count("key") == 21 and kinds.count("agreement") == 17
    loaded = next(e for e in events if e["type"] == "agreement" and e["agreement"]["id"] == "tri-iom")
    assert loaded["action"] == "loaded" and loaded["agreement"]["digest"].startswith("sha256:")


def test_a_changed_agreement_is_reloaded_and_falls_out_of_force(project_settings, engine):
    synchronise(project_settings)
    path = project_settings.policies_dir / "agreements" / "tri-iom.toml"
    path.write_text(path.read_text().replace("retention_days = ", "retention_days = 1", 1))
    lines = synchronise(project_settings)
    report = "\n".join(lines)
    assert "agreements: 0 added, 1 changed" in report
    assert "tri-iom v1: draft" in report or "tri-iom v1: invalid" in report
    assert "invalid_signature" in report


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('type = "police"', 'type = "spies"'), "kent-police.toml:4: type must be"),
        (lambda t: t + "colour = \"blue\"\n", "kent-police.toml:10: unknown key 'colour'"),
        (lambda t: t.replace("relevant_authority = true", "relevant_authority = 1"),
         "kent-police.toml:5: relevant_authority must be a bool"),
        (lambda t: t.replace('name = "Kent Police"', 'name = "Kent'), "invalid TOML"),
        (lambda t: t.replace('id = "kent-police"', 'id = "kent-constabulary"'),
         "does not match the file name"),
    ],
)
def test_malformed_partner_file_is_rejected_with_file_and_line(project_settings, engine, edit, message):
    path = project_settings.policies_dir / "partners" / "kent-police.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(SyncFailed) as caught:
        synchronise(project_settings)
    assert message in str(caught.value)
    assert _partners(engine) == {}  # nothing loaded


def test_private_key_in_public_jwks_is_rejected(project_settings):
    jwks_path = project_settings.keys_dir / "partners" / "kent-police.jwks.json"
    private = json.loads((project_settings.keys_dir / "demo" / "kent-police.jwk").read_text())
    jwks_path.write_text(json.dumps({"keys": [private]}))
    with pytest.raises(SyncFailed, match="holds a private key"):
        synchronise(project_settings)


def test_symmetric_key_is_rejected(project_settings):
    jwks_path = project_settings.keys_dir / "partners" / "kent-police.jwks.json"
    jwks_path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}))
    with pytest.raises(SyncFailed, match="kty 'oct'"):
        synchronise(project_settings)


def test_production_refuses_demo_keys(project_settings):
    import dataclasses

    production = dataclasses.replace(project_settings, production=True)
    with pytest.raises(SyncFailed, match="demo-only key"):
        synchronise(production)


def test_production_refuses_demo_key_even_without_the_flag(project_settings):
    """Stripping ``demo_only`` does not help: the thumbprint matches a committed demo key."""
    import dataclasses

    for path in (project_settings.keys_dir / "partners").glob("*.json"):
        data = json.loads(path.read_text())
        data.pop("demo_only", None)
        path.write_text(json.dumps(data))
    production = dataclasses.replace(project_settings, production=True)
    with pytest.raises(SyncFailed, match="demo-only key"):
        synchronise(production)


def test_sync_stores_statutory_roles_and_refuses_flags_that_disagree(project_settings, engine):
    """The live policy re-validates stored agreements from the rows: the roles must be there
    (CDA 1998 s115(2), PCSC 2022 s16(2)); a flag contradicting the roles stops the sync."""
    synchronise(project_settings)
    partners = _partners(engine)
    assert partners["kent-police"].statutory_roles == ["chief_officer_of_police"]
    assert partners["kent-syv-provider"].statutory_roles == []
    path = project_settings.policies_dir / "partners" / "probation-london.toml"
    path.write_text(path.read_text().replace("competent_authority = true", "competent_authority = false"))
    with pytest.raises(SyncFailed) as caught:
        synchronise(project_settings)
    assert "probation-london.toml:" in str(caught.value)
    assert "competent_authority = false disagrees with statutory_roles" in str(caught.value)
