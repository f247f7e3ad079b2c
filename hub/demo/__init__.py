"""``hub demo --scenario``: the seeds' flows happening, over real HTTP and real OAuth.

A scripted run sends Leicestershire Police -> Victim First referrals, a Victim First ->
target-hardening job, a Kent referral to the serious youth violence provider with fields
withheld, a Community MARAC alert fan-out and a refused request, and prints what each
party received and the ledger receipts. Each partner signs its own client assertions with
its demo key in ``keys/demo/``, so the script shows exactly what a partner system does.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.settings import Settings

__all__ = ["run_demo_scenario"]


def run_demo_scenario(
    settings: Settings, *, host: str, port: int, echo: Callable[[str], None]
) -> bool:
    """Start ``hub serve`` in the background, run the script, print the report, stop it.

    Returns ``False`` if the server could not start or a share the script expects to
    succeed did not (the report says which).
    """
    from hub.demo.client import HubUnavailable, PartnerClient
    from hub.demo.report import Report, partner_names
    from hub.demo.scenario import StepResult, run_scenario
    from hub.demo.server import ServerFailed, background_hub
    from hub.operations import checkpoint_now

    report = Report(partner_names(settings.policies_dir))
    log_path = settings.instance_dir / "demo-scenario-server.log"
    env = {"HUB_ROOT": str(settings.root), "HUB_DATABASE_URL": settings.database_url}

    def show(step: StepResult) -> None:
        for line in report.step(step):
            echo(line)

    try:
        with background_hub(host, port, env, log_path):
            echo(f"hub demo: scripted run against http://{host}:{port} (server log: {log_path})")
            client = PartnerClient(f"http://{host}:{port}", settings.issuer, settings.keys_dir)
            result = run_scenario(client, show, lambda: checkpoint_now(settings))
    except (ServerFailed, HubUnavailable) as exc:
        echo(f"hub demo: scenario stopped: {exc}")
        return False
    for line in report.receipts(result) + report.summary(result):
        echo(line)
    failed = [
        s.number
        for s in result.steps
        if any((d.status == 201) == s.message.expect_refused for d in s.deliveries)
    ]
    if failed:
        echo(f"hub demo: unexpected outcome in step(s) {failed}; see above")
    return not failed
