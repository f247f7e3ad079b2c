"""``hub demo --scenario``: the scripted flows against a real server, and the command itself."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hub.demo.client import PartnerClient
from hub.demo.report import Report, partner_names
from hub.demo.scenario import ScenarioResult, run_scenario
from tests.conftest import PROJECT
from tests.e2e.conftest import HUB_COMMAND, LiveHub, free_port, hub_env, run_hub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scenario(live_hub: LiveHub) -> ScenarioResult:
    client = PartnerClient(live_hub.base_url, live_hub.issuer, live_hub.root / "keys")
    return run_scenario(
        client, sign_checkpoint=lambda: run_hub(live_hub.env, "log", "checkpoint").stdout
    )


def test_every_scripted_share_arrives_without_its_withheld_fields(scenario: ScenarioResult):
    referrals = [s for s in scenario.steps if s.message.kind == "referral"]
    assert [s.message.to for s in referrals] == [
        "victim-first",
        "victim-first",
        "leics-target-hardening",
        "kent-syv-provider",
        "leics-target-hardening",
    ]
    for step in referrals:
        (delivery,) = step.deliveries
        if step.message.expect_refused:
            assert delivery.status == 403
            assert [r["reason"] for r in delivery.reasons] == ["consent_refused"]
            assert delivery.refusal_index is not None and delivery.received is None
            continue
        assert delivery.status == 201, delivery.reasons
        assert delivery.withheld, "every scripted share carries a field its flow does not allow"
        withheld = {w["field"] for w in delivery.withheld}
        assert delivery.received is not None
        assert set(delivery.received) == set(delivery.released)
        assert not withheld & set(delivery.received)
        sent = step.message.body["data"]
        assert all(delivery.received[f] == sent[f] for f in delivery.released)


def test_target_hardening_processor_gets_the_minimum(scenario: ScenarioResult):
    step = next(s for s in scenario.steps if s.message.to == "leics-target-hardening")
    (delivery,) = step.deliveries
    assert {w["field"] for w in delivery.withheld} == {
        "date_of_birth",
        "crime_type",
        "vulnerability_summary",
    }
    assert "victim_current_address" in delivery.released  # under the flow's safety justification


def test_marac_alert_fans_out_or_says_alerts_are_not_available(scenario: ScenarioResult):
    step = next(s for s in scenario.steps if s.message.kind == "alert")
    if not step.deliveries:
        assert "alerts not available" in step.note
        pytest.skip("POST /api/v1/alerts is not in this tree yet")
    by_recipient = {d.to: d for d in step.deliveries}
    assert {"met-police", "sutton-yot", "sutton-csc"} <= set(by_recipient)
    yot = by_recipient["sutton-yot"]
    assert yot.status == 201 and "risk_level" in {w["field"] for w in yot.withheld}
    for delivery in by_recipient.values():
        if delivery.status == 201:
            assert "victim_current_address" not in (delivery.received or {})
            assert "victim_current_address" not in delivery.released


def test_every_receipt_verifies_offline_against_the_operators_checkpoint(scenario: ScenarioResult):
    shared = [d for s in scenario.steps for d in s.deliveries if d.status == 201]
    assert shared and scenario.checkpoint and scenario.verifier_key
    for delivery in shared:
        assert delivery.receipt is not None and "inclusion" in delivery.receipt
        assert delivery.verified_at_size is not None
        assert delivery.verified_at_size > delivery.receipt["index"]


def test_the_report_names_parties_fields_and_receipts(scenario: ScenarioResult, live_hub: LiveHub):
    report = Report(partner_names(live_hub.root / "policies"))
    text = "\n".join(
        [line for step in scenario.steps for line in report.step(step)]
        + report.receipts(scenario)
        + report.summary(scenario)
    )
    for expected in (
        "Leicestershire Police (leics-police) -> Victim First",
        "- mental_health: not_in_allow_list",
        "given_name = Jayden",
        "REFUSED (403)",
        "consent_refused",
        "inclusion proof OK",
    ):
        assert expected in text
    assert "CAMHS" not in text  # the withheld mental-health value is never shown as received


def test_hub_demo_scenario_only_command(tmp_path):
    """The real command: init, sync, background server, script, report, exit 0."""
    port = free_port()
    env = hub_env(f"sqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path, f"http://127.0.0.1:{port}")
    shutil.copytree(PROJECT / "policies", tmp_path / "project" / "policies")
    shutil.copytree(PROJECT / "keys", tmp_path / "project" / "keys")
    result = subprocess.run(  # noqa: S603
        [*HUB_COMMAND, "demo", "--scenario-only", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "6. Victim First to the contractor, consent refused" in out
    assert "Ledger receipts" in out and "inclusion proof OK" in out
    assert "serving on" not in out  # --scenario-only exits instead of serving
    assert (tmp_path / "project" / "instance" / "demo-scenario-server.log").exists()
