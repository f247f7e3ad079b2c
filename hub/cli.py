"""The ``hub`` command (DESIGN.md public contract).

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


@click.group()
def main() -> None:
    """hub: information sharing under signed agreements, with a verifiable ledger."""


@main.command()
def init() -> None:
    """Create or upgrade the database and create the hub's signing key if absent."""
    from hub.operations import initialise

    report = initialise(_settings())
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
@click.option("--workers", default=None, type=int, help="gunicorn workers (production)")
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the hub: gunicorn in production mode, the threaded dev server otherwise."""
    from hub.serving import serve as run

    run(_settings(), host=host, port=port, workers=workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Init, load the demo partnership from policies/, and serve on 127.0.0.1:8000."""
    from hub.operations import SyncFailed, initialise, synchronise
    from hub.serving import serve as run

    settings = _settings()
    if settings.production:
        raise click.ClickException("hub demo is for development; unset HUB_PRODUCTION")
    for line in initialise(settings):
        click.echo(line)
    try:
        for line in synchronise(settings):
            click.echo(line)
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"hub demo: serving on http://{host}:{port} (Ctrl-C to stop)")
    run(settings, host=host, port=port, workers=None)


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
def partners_add(partner_id: str, partner_type: str, jwks_path: Path, **flags: Any) -> None:
    """Register a partner and its OAuth client (client_id = ID); writes policies/ and keys/."""
    from hub.operations import SyncFailed, add_partner

    try:
        lines = add_partner(_settings(), partner_id, partner_type, jwks_path, **flags)
    except SyncFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


def run() -> None:
    """Entry point used by ``python -m hub``."""
    sys.exit(main())
