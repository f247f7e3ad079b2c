"""``hub witness``: run a partner's witness (``serve``) and show its key (``key``)."""

from __future__ import annotations

from pathlib import Path

import click

from hub.witness.config import WitnessConfig, WitnessConfigError, load_config

_common = [
    click.option("--name", envvar="HUB_WITNESS_NAME", required=True,
                 help="cosigner name, a schema-less URL (e.g. witness.police.example/w1)"),
    click.option("--state", "state_dir", envvar="HUB_WITNESS_STATE", type=click.Path(
        file_okay=False, path_type=Path), default=Path("instance/witness"), show_default=True,
        help="directory for the witness's state file (and its key, unless --key)"),
    click.option("--key", "key_path", envvar="HUB_WITNESS_KEY", default=None,
                 type=click.Path(dir_okay=False, path_type=Path),
                 help="the witness's Ed25519 key (PEM, created 0600 on first run)"),
    click.option("--log", "logs", envvar="HUB_WITNESS_LOGS", multiple=True, required=True,
                 help="a log to witness: 'ORIGIN VKEY' or 'VKEY' (repeat; ';' separates)"),
    click.option("--production", envvar="HUB_PRODUCTION", is_flag=True,
                 help="gunicorn; refuse demo keys"),
]  # fmt: skip


def _with_common(function):  # type: ignore[no-untyped-def]
    for option in reversed(_common):
        function = option(function)
    return function


def _config(name: str, state_dir: Path, key_path: Path | None, logs: tuple[str, ...],
            production: bool) -> WitnessConfig:  # fmt: skip
    try:
        return load_config(name=name, state_dir=state_dir, logs=logs, key_path=key_path,
                           production=production)  # fmt: skip
    except WitnessConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _configure_logging() -> None:
    """The hub's JSON log lines (``HUB_LOG_LEVEL``, ``HUB_LOG_JSON``), without reading the
    hub's other settings: a witness has no database, secrets or issuer."""
    import os

    from hub.logging import configure_logging
    from hub.settings import Settings

    level = os.environ.get("HUB_LOG_LEVEL", "INFO").strip().upper()
    plain = os.environ.get("HUB_LOG_JSON", "true").strip().lower() in {"0", "false", "no", "off"}
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise click.ClickException("HUB_LOG_LEVEL: one of DEBUG, INFO, WARNING, ERROR")
    configure_logging(Settings(log_level=level, log_json=not plain))


@click.group()
def witness() -> None:
    """A C2SP tlog-witness: cosign the hub's checkpoints after checking consistency."""


@witness.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8600, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers")
@_with_common
def serve(host: str, port: int, workers: int, name: str, state_dir: Path,
          key_path: Path | None, logs: tuple[str, ...], production: bool) -> None:  # fmt: skip
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint until interrupted."""
    from hub.witness.app import serve as run

    _configure_logging()
    config = _config(name, state_dir, key_path, logs, production)
    click.echo(f"witness {config.name} key {config.verifier_key}", err=True)
    run(config, host=host, port=port, production=production, workers=workers)


@witness.command("key")
@_with_common
def key(name: str, state_dir: Path, key_path: Path | None, logs: tuple[str, ...],
        production: bool) -> None:  # fmt: skip
    """Print the witness's cosigner verifier key (creating the key on first run)."""
    click.echo(_config(name, state_dir, key_path, logs, production).verifier_key)
