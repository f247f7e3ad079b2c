"""Operator use cases behind ``hub worker``, ``hub outbox`` and the key step of ``hub init``.

Each takes :class:`~hub.settings.Settings`, opens what it needs, and returns lines for a
human (or raises :class:`DeliveryCommandError` with a message an operator can act on).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from hub import db, schema
from hub.delivery.outbox import DeliveryPolicy, list_messages, redrive
from hub.delivery.signing import WebhookKeyError, ensure_webhook_key, load_webhook_key
from hub.delivery.worker import Worker, run_loop, tick_checkpoint
from hub.settings import Settings

log = structlog.get_logger("hub.delivery")

__all__ = [
    "DeliveryCommandError",
    "initialise_webhook_key",
    "outbox_lines",
    "redrive_lines",
    "run_worker",
    "stop_on_signals",
]


class DeliveryCommandError(RuntimeError):
    """Something the operator must fix first (no key, database not migrated, bad id)."""


@contextlib.contextmanager
def _engine_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(settings.database_url)
    try:
        if not schema.is_at_head(engine):
            raise DeliveryCommandError(
                "the database is not at the newest migration: run `hub init`"
            )
        yield db.make_sessionmaker(engine)
    finally:
        engine.dispose()


def initialise_webhook_key(settings: Settings) -> str:
    """Create the webhook-signing key if absent (``hub init``); one line of report."""
    path = settings.webhook_key_file
    existed = path.exists()
    key = ensure_webhook_key(path)
    state = "present" if existed else "created"
    return f"webhook signing key: {state} at {path} (kid {key.thumbprint()})"


def outbox_lines(settings: Settings, state: str | None = None) -> list[str]:
    """``hub outbox list``: one line per row; reasons are machine codes, never bodies."""
    with _engine_sessions(settings) as sessions, sessions() as session:
        try:
            messages = list_messages(session, state)
        except ValueError as exc:
            raise DeliveryCommandError(str(exc)) from None
        lines = [
            f"{'id':>6}  {'state':<9}  {'partner':<28}  {'item':<36}  attempts  "
            f"{'last_error':<24}  next_attempt_at"
        ]
        for m in messages:
            pending = m.state == "pending"
            next_at = m.next_attempt_at.isoformat(timespec="seconds") if pending else "-"
            lines.append(
                f"{m.id:>6}  {m.state:<9}  {m.partner_id:<28}  {m.inbox_item_id:<36}  "
                f"{m.attempts:>8}  {m.last_error or '-':<24}  {next_at}"
            )
    lines.append(f"{len(messages)} message(s)")
    return lines


def redrive_lines(settings: Settings, ids: Iterable[int], *, all_dead: bool) -> list[str]:
    """``hub outbox redrive``: back to pending with attempts reset, due now."""
    ids = list(ids)
    if bool(ids) == all_dead:
        raise DeliveryCommandError("give message ids or --all-dead (not both)")
    with _engine_sessions(settings) as sessions, sessions() as session:
        report = redrive(session, ids, all_dead=all_dead)
        session.commit()
    lines = [f"redriven: {message_id}" for message_id in report.redriven]
    lines += [f"skipped {message_id}: {why}" for message_id, why in report.skipped]
    lines.append(f"{len(report.redriven)} message(s) back to pending")
    return lines


def run_worker(
    settings: Settings,
    *,
    once: bool = False,
    batch: int = 50,
    poll: float = 2.0,
    stop: threading.Event | None = None,
) -> int:
    """``hub worker``: deliver due pushes and tick checkpoints until stopped.

    Returns how many pushes were delivered. ``stop`` lets a signal handler (or a test)
    end the loop between batches.
    """
    from hub.instance_secrets import master_key
    from hub.ledger.checkpoint import ensure_signing_key

    try:
        key = load_webhook_key(settings.webhook_key_file)
    except WebhookKeyError as exc:
        raise DeliveryCommandError(f"{exc}: run `hub init` to create it") from None
    checkpoint_key = (
        ensure_signing_key(settings.signing_key_file)
        if settings.signing_key_file.exists()
        else None
    )
    with _engine_sessions(settings) as sessions:
        worker = Worker(
            sessions,
            key,
            DeliveryPolicy.from_settings(settings),
            master_key=master_key(settings),
        )
        from hub.witness.collect import CosignTicker

        cosign = CosignTicker(settings)
        return run_loop(
            worker,
            lambda: _tick(sessions, checkpoint_key, settings, cosign),
            once=once,
            batch=batch,
            poll=poll,
            stop=stop or threading.Event(),
        )


def _tick(sessions: Any, key: Any, settings: Settings, cosign: Any = None) -> None:
    """Between batches: checkpoint policy, witnesses' cosignatures on the latest checkpoint
    (asked at once for a new one, retried while any is missing), then any periodic ledger
    check that is due.

    The checks are recorded for the DPO console's ledger health page (hub.audit.health).
    """
    from hub.audit.health import tick_checks
    from hub.ledger.service import log_verifier_key

    tick_checkpoint(sessions, key, settings)
    if cosign is not None:
        try:
            cosign(sessions)
        except Exception as exc:  # noqa: BLE001 - the worker carries on delivering
            log.error("witness_cosign_failed", exc_type=type(exc).__name__)
    if key is not None:
        tick_checks(
            sessions,
            log_verifier_key(key, settings.log_origin),
            verify_interval=settings.verify_interval,
            consistency_interval=settings.consistency_interval,
        )


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT, so the worker finishes its batch and exits cleanly.

    The previous handlers come back afterwards; off the main thread (where handlers cannot
    be installed) the event is only set by whoever holds it.
    """
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
