"""The ``hub`` command (docs/architecture.md public contract).

Commands run from the project root read ``policies/`` and ``keys/`` there. Each command
builds what it needs from :class:`~hub.settings.Settings`; none needs the web server.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from hub.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env().with_defaults()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hub", prog_name="hub", message="%(prog)s %(version)s")
def main() -> None:
    """hub: information sharing under signed agreements, with a verifiable ledger.

    Run from the project root (it reads policies/ and keys/ there); settings come from
    HUB_* environment variables. `hub COMMAND -h` describes each command.
    """


def _warn_if_issuer_elsewhere(settings: Settings, host: str, port: int) -> None:
    """Say so at start when development tokens could not verify on this host and port."""
    from hub.serving import issuer_mismatch

    warning = None if settings.production else issuer_mismatch(settings.issuer, host, port)
    if warning:
        click.echo(f"warning: {warning}", err=True)


@main.command()
def init() -> None:
    """Create or upgrade the database and create the hub's signing key if absent."""
    from hub.operations import initialise

    try:
        report = initialise(_settings())
    except SettingsError as exc:  # e.g. the log's origin is pinned to another name
        raise click.ClickException(str(exc)) from None
    for line in report:
        click.echo(line)


@main.command()
def sync() -> None:
    """Load policies/ and keys/ into the database, verify agreements, log changes."""
    from hub.operations import SyncFailed, synchronise

    try:
        lines = synchronise(_settings())
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers (default HUB_WORKERS)")
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the hub: gunicorn in production mode (or HUB_SERVER=gunicorn), else the dev server."""
    from hub.serving import serve as run

    settings = _settings()
    _warn_if_issuer_elsewhere(settings, host, port)
    try:
        run(settings, host=host, port=port, workers=workers)
    except SettingsError as exc:  # e.g. the log's origin is pinned to another name
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--scenario",
    is_flag=True,
    help="first run the scripted partnership flows over HTTP and print what each party got",
)
@click.option("--scenario-only", is_flag=True, help="run the scenario, then exit (no serving)")
@click.option("--no-witnesses", is_flag=True, help="do not start the two local demo witnesses")
def demo(host: str, port: int, scenario: bool, scenario_only: bool, no_witnesses: bool) -> None:
    """Init, load the demo partnership from policies/, and serve on 127.0.0.1:8000.

    Two demo witnesses cosign its checkpoints (in this process, on free local ports) unless
    --no-witnesses or HUB_WITNESSES names real ones.

    With --scenario, a scripted run first shows the seeds' flows happening against a
    background server (real client assertions signed with keys/demo/), then serving
    continues; --scenario-only exits after the report (status 1 if a step went wrong).
    """
    from hub.operations import SyncFailed, initialise, synchronise
    from hub.serving import serve as run

    settings = _settings()
    if settings.production:
        raise click.ClickException("hub demo is for development; unset HUB_PRODUCTION")
    _warn_if_issuer_elsewhere(settings, host, port)
    for line in initialise(settings):
        click.echo(line)
    try:
        for line in synchronise(settings):
            click.echo(line)
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    if not no_witnesses and not settings.witnesses:
        from hub.witness.demo import start_cosigning, start_demo_witnesses, witnesses_env

        witnesses_env(start_demo_witnesses(settings, click.echo))
        settings = _settings()
        start_cosigning(settings)
    from hub.people.demo import demo_people_report

    for line in demo_people_report(settings, host=host, port=port):
        click.echo(line)
    from hub.marac.demo import demo_marac_report

    for line in demo_marac_report(settings):
        click.echo(line)
    if scenario or scenario_only:
        from hub.demo import run_demo_scenario

        ok = run_demo_scenario(settings, host=host, port=port, echo=click.echo)
        if scenario_only:
            sys.exit(0 if ok else 1)
    click.echo(f"hub demo: serving on http://{host}:{port} (Ctrl-C to stop)")
    run(settings, host=host, port=port, workers=None)


@main.command()
@click.argument("partner_id")
@click.argument("scopes")
@click.option("--issuer", default=None,
              help="the hub's URL, which must be its HUB_ISSUER [default: $HUB_ISSUER, "
                   "else http://127.0.0.1:8000]")
@click.option("--key", "key_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the partner's private JWK [default: keys/demo/PARTNER_ID.jwk]")
def token(partner_id: str, scopes: str, issuer: str | None, key_path: Path | None) -> None:
    """Print a bearer token for PARTNER_ID with SCOPES (space-separated), for trying the API.

    Signs a fresh RFC 7523 client assertion with the partner's key and trades it at
    ISSUER/oauth/token. A refusal prints the OAuth error code and exits 1.
    """
    from hub.demo.client import HubUnavailable, PartnerClient, TokenRefused

    settings = _settings()
    url = (issuer or settings.issuer).rstrip("/")
    path = key_path or settings.keys_dir / "demo" / f"{partner_id}.jwk"
    try:
        private = json.loads(path.read_text(encoding="utf-8"))
        client = PartnerClient(url, url, settings.keys_dir)
        click.echo(client.request_token(partner_id, scopes, private))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read a private JWK for {partner_id}: {exc}") from None
    except HubUnavailable as exc:
        raise click.ClickException(f"cannot reach the hub at {url}: {exc}") from None
    except TokenRefused as exc:
        hint = ""
        if exc.error == "invalid_client":
            hint = f" (is {url} the server's HUB_ISSUER, and {partner_id} its key's partner?)"
        raise click.ClickException(f"token refused: {exc}{hint}") from None


@main.group()
def keys() -> None:
    """Key pairs for partners."""


@keys.command("generate")
@click.argument("private_jwk_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--alg", type=click.Choice(["ES256", "EdDSA"]), default="ES256", show_default=True)
def keys_generate(private_jwk_path: Path, alg: str) -> None:
    """Write a new private JWK to PRIVATE_JWK_PATH (mode 0600); print the public JWKS."""
    from hub.partners.keys import generate_private_jwk, public_jwks

    if private_jwk_path.exists():
        raise click.ClickException(f"{private_jwk_path} exists; refusing to overwrite a key")
    private = generate_private_jwk(alg)
    private_jwk_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_jwk_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(private, handle, indent=2)
        handle.write("\n")
    click.echo(json.dumps(public_jwks(private), indent=2))


@main.group()
def partners() -> None:
    """The partner registry."""


@partners.command("add")
@click.argument("partner_id")
@click.option("--name", required=True)
@click.option("--type", "partner_type", required=True)
@click.option("--jwks", "jwks_path", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--webhook", default=None, help="https URL for pushed items")
@click.option("--relevant-authority", is_flag=True, help="s115 CDA 1998 relevant authority")
@click.option("--competent-authority", is_flag=True, help="DPA 2018 Part 3 competent authority")
@click.option("--public-authority", is_flag=True, help="UK GDPR public authority")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="statutory role from policies/lawful_bases.toml [roles.*] (repeatable); "
    "the flags must agree with the roles",
)
def partners_add(partner_id: str, partner_type: str, jwks_path: Path, **flags: Any) -> None:
    """Register a partner and its OAuth client (client_id = ID); writes policies/ and keys/."""
    from hub.operations import SyncFailed, add_partner

    try:
        lines = add_partner(_settings(), partner_id, partner_type, jwks_path, **flags)
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@main.group()
def agreements() -> None:
    """Information-sharing agreements in policies/agreements/."""


@agreements.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partner", "partner_id", required=True, help="the signing party's id")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="that party's private JWK")
def agreements_sign(file: Path, partner_id: str, key_path: Path) -> None:
    """Add PARTNER's signature over FILE's canonical JSON to FILE's .sig.json."""
    from hub.policy import PolicyError, sign_agreement_file

    try:
        private = json.loads(key_path.read_text(encoding="utf-8"))
        private.pop("demo_only", None)
        entry = sign_agreement_file(file, partner_id, private)
    except (PolicyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"signed {file.name} as {partner_id} (kid {entry['kid']})")


@agreements.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agreements_verify(file: Path) -> None:
    """Exit 0 if FILE is in force today; otherwise exit 1 listing every reason."""
    from hub.agreement_files import verify_file

    report = verify_file(_settings(), file)
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.in_force else 1)


@agreements.command("list")
def agreements_list() -> None:
    """Every agreement under policies/agreements with its status and review date."""
    from hub.agreement_files import list_files

    for line in list_files(_settings()):
        click.echo(line)


@agreements.command("new")
@click.argument("agreement_id")
@click.option("--party", "parties", multiple=True, required=True, help="repeat for each party")
@click.option("--type", "agreement_type", default="ISP",
              type=click.Choice(["ISP", "DDA", "JCA", "PROCESSOR"]), show_default=True)
@click.option("--title", default="TODO: what this agreement is for")
@click.option("--purpose", default="TODO_purpose")
def agreements_new(
    agreement_id: str, parties: tuple[str, ...], agreement_type: str, title: str, purpose: str
) -> None:
    """Write policies/agreements/ID.toml: a template with every ICO code heading."""
    from hub.policy import render_agreement_template

    path = _settings().policies_dir / "agreements" / f"{agreement_id}.toml"
    if path.exists():
        raise click.ClickException(f"{path} exists")
    text = render_agreement_template(
        agreement_id, list(parties), type=agreement_type, title=title, purpose=purpose
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}: fill in every TODO, then each party runs `hub agreements sign`")


@main.group()
def log() -> None:
    """The disclosure ledger."""


@log.command("verify")
@click.option("--quiet", is_flag=True, help="no progress bar")
@click.option("--full", is_flag=True, help="everything, not just what the last run left")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="processes verifying chunks, this one included (2 on two idle cores)")
def log_verify(quiet: bool, full: bool, processes: int) -> None:
    """Recompute leaves, subtrees and checkpoints; exit 1 naming the first bad entry.

    Routine runs start at the last checkpoint an earlier run verified; --full starts at 0.
    """
    from hub.operations import SyncFailed, verify_whole_ledger

    try:
        if quiet:
            ok, lines = verify_whole_ledger(_settings(), None, full=full, processes=processes)
        else:
            with click.progressbar(length=1, label="verifying ledger", file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = max(total, 1)
                    bar.update(done - bar.pos)

                ok, lines = verify_whole_ledger(
                    _settings(), progress, full=full, processes=processes
                )
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)


@log.command("checkpoint")
def log_checkpoint() -> None:
    """Sign a checkpoint of the current tree now (after checking it extends the last one)."""
    from hub.operations import SyncFailed, checkpoint_now

    try:
        click.echo(checkpoint_now(_settings()), nl=False)
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--once", is_flag=True, help="deliver one batch of due pushes, then exit")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="seconds to wait when nothing is due")
def worker(once: bool, batch: int, poll: float) -> None:
    """Push new inbox items to partners' webhooks (signed JWS); tick ledger checkpoints."""
    from hub.delivery.admin import DeliveryCommandError, run_worker, stop_on_signals

    try:
        with stop_on_signals() as stop:
            delivered = run_worker(_settings(), once=once, batch=batch, poll=poll, stop=stop)
    except DeliveryCommandError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"hub worker: {delivered} delivered")


@main.group()
def outbox() -> None:
    """Webhook pushes: pending, delivered and dead-lettered."""


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "delivered", "dead"]), default=None)
def outbox_list(state: str | None) -> None:
    """Rows with partner, item, attempts, last error (a machine reason) and next attempt."""
    from hub.delivery.admin import DeliveryCommandError, outbox_lines

    try:
        lines = outbox_lines(_settings(), state)
    except DeliveryCommandError as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@outbox.command("redrive")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="every dead-lettered message")
def outbox_redrive(ids: tuple[int, ...], all_dead: bool) -> None:
    """Put messages back to pending (attempts reset, due now): IDS... or --all-dead."""
    from hub.delivery.admin import DeliveryCommandError, redrive_lines

    try:
        lines = redrive_lines(_settings(), ids, all_dead=all_dead)
    except DeliveryCommandError as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@main.group()
def retention() -> None:
    """Retention: erase payloads kept past their flow's retention period."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="count what would be erased; change nothing")
def retention_purge(dry_run: bool) -> None:
    """Crypto-shred every payload past its flow's retention; report counts per flow."""
    from hub.operations import SyncFailed, purge_retention

    try:
        lines = purge_retention(_settings(), dry_run=dry_run)
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


def _register_groups() -> None:
    from hub.people.cli import users
    from hub.witness.cli import witness

    main.add_command(users)
    main.add_command(witness)


_register_groups()


def run() -> None:
    """Entry point used by ``python -m hub``."""
    sys.exit(main())
