"""Operator use cases behind the CLI: initialise, synchronise policies, add a partner.

Each takes :class:`~hub.settings.Settings`, opens what it needs and returns lines of
report for a human. Errors an operator can fix are raised as :class:`SyncFailed`.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hub import counters as hub_counters
from hub import db, schema
from hub.agreements import services as agreements
from hub.agreements import sync_events
from hub.db import utcnow
from hub.ledger import store
from hub.ledger.checkpoint import ensure_signing_key, sign_checkpoint
from hub.ledger.errors import LedgerError
from hub.ledger.fsck import check_projection
from hub.ledger.service import log_verifier_key
from hub.ledger.verify import VerificationError, verify_ledger
from hub.marac import definitions as marac_definitions
from hub.partners import files, keys, services
from hub.policy import (
    Catalogues,
    PolicyError,
    RegisteredAgreement,
    load_agreement_file,
    load_catalogues,
)
from hub.policy.registry import read_signatures
from hub.settings import Settings, SettingsError


class SyncFailed(RuntimeError):
    """Something in policies/ or keys/ (or the database state) stops the load."""


@contextlib.contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = db.make_engine(settings.database_url)
    try:
        if not schema.is_at_head(engine):
            raise SyncFailed("the database is not at the newest migration: run `hub init`")
        with db.make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def initialise(settings: Settings) -> list[str]:
    """Create or upgrade the schema; create the hub signing key and dev secrets if absent."""
    from hub.instance_secrets import secret_key, subject_secret

    lines = []
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    engine = db.make_engine(settings.database_url)
    try:
        schema.upgrade_to_head(engine)
        lines.append(f"database: at revision {schema.current_revision(engine)}")
        lines.append(f"log origin: {_pin_origin(engine, settings)}")
    finally:
        engine.dispose()
    existed = settings.signing_key_file.exists()
    ensure_signing_key(settings.signing_key_file)
    state = "present" if existed else "created"
    lines.append(f"hub signing key: {state} at {settings.signing_key_file}")
    from hub.delivery.admin import initialise_webhook_key

    lines.append(initialise_webhook_key(settings))
    secret_key(settings)
    subject_secret(settings)
    return lines


def _pin_origin(engine: Engine, settings: Settings) -> str:
    """Pin the log's origin when the log is created; a later init must agree with it."""
    from hub.ledger.origin import OriginMismatch, pin_origin

    with db.make_sessionmaker(engine)() as session:
        try:
            origin = pin_origin(session, settings.log_origin)
        except OriginMismatch as exc:
            raise SettingsError([f"HUB_ORIGIN: {exc}"]) from None
        session.commit()
    return origin


def synchronise(settings: Settings) -> list[str]:
    """Load partners, keys and agreements from the project; record every change on the ledger.

    Everything is read and checked before the database is touched, and everything is
    written in one transaction with its ledger entries: a sync happens whole or not at all.
    """
    declarations = _read_partners(settings)
    catalogues, loaded = _read_agreements(settings, declarations)
    maracs = _read_maracs(settings, declarations, loaded)
    with _session(settings) as session:
        partner_changes = services.sync_partners(session, declarations)
        agreement_changes = agreements.sync_agreements(session, loaded)
        marac_changes = marac_definitions.sync_maracs(session, maracs)
        events = sync_events.partner_events(partner_changes, declarations)
        events += sync_events.agreement_events(agreement_changes, loaded)
        store.append_entries(session, events)
        _sign_checkpoint(session, settings)
        hub_counters.bump_policy(session)  # the triggers do too; this covers catalogues
        # Built from this uncommitted transaction, so never put in the shared cache.
        policy = agreements.build_policy(session, catalogues)
        status_lines = _agreement_report(policy, agreement_changes)
        session.commit()
    return [
        *_partner_report(partner_changes),
        *status_lines,
        *marac_changes.report(),
        f"ledger: {len(events)} entries appended",
    ]


def _read_partners(settings: Settings) -> list[files.PartnerDeclaration]:
    try:
        declarations = files.read_partner_dir(settings.policies_dir, settings.keys_dir)
    except files.PartnerFileError as exc:
        raise SyncFailed(str(exc)) from None
    if settings.production:
        try:
            services.refuse_demo_keys(declarations, keys.demo_thumbprints(settings.keys_dir))
        except services.DemoKeyRefused as exc:
            raise SyncFailed(str(exc)) from None
    return declarations


def _read_agreements(
    settings: Settings, declarations: list[files.PartnerDeclaration]
) -> tuple[Catalogues, list[tuple[RegisteredAgreement, list[dict[str, Any]]]]]:
    """Parse every agreement file against the catalogues and the partners being loaded."""
    infos = {d.id: services.partner_info(d) for d in declarations if d.active}
    partner_keys = {d.id: d.jwks for d in declarations if d.active}
    try:
        catalogues = load_catalogues(settings.policies_dir)
        loaded = []
        seen: dict[tuple[str, int], Path] = {}
        for path in sorted((settings.policies_dir / "agreements").glob("*.toml")):
            reg = load_agreement_file(path, catalogues, infos, partner_keys)
            key = (reg.agreement.id, reg.agreement.version)
            if key in seen:
                raise SyncFailed(f"{path}: {key[0]} v{key[1]} is also defined in {seen[key]}")
            seen[key] = path
            loaded.append((reg, read_signatures(path)))
    except PolicyError as exc:
        raise SyncFailed(str(exc)) from None
    return catalogues, loaded


def _read_maracs(
    settings: Settings,
    declarations: list[files.PartnerDeclaration],
    loaded: list[tuple[RegisteredAgreement, list[dict[str, Any]]]],
) -> list[marac_definitions.MaracDeclaration]:
    """The MARAC definitions (policies/maracs), checked against the agreements being loaded."""
    infos = {d.id: services.partner_info(d) for d in declarations if d.active}
    try:
        return marac_definitions.read_marac_dir(
            settings.policies_dir, [reg for reg, _ in loaded], infos
        )
    except marac_definitions.MaracFileError as exc:
        raise SyncFailed(str(exc)) from None


def _sign_checkpoint(session: Session, settings: Settings) -> None:
    """Sign a checkpoint covering the sync's entries (on demand), if the key exists."""
    if settings.signing_key_file.exists():
        key = ensure_signing_key(settings.signing_key_file)
        sign_checkpoint(session, key, settings.log_origin)


def _partner_report(changes: services.PartnerChanges) -> list[str]:
    lines = [
        f"partners: {len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.unchanged)} unchanged, {len(changes.deactivated)} deactivated"
        + (f", {len(changes.reactivated)} reactivated" if changes.reactivated else "")
    ]
    for label, ids in (
        ("added", changes.added),
        ("changed", changes.changed),
        ("deactivated", changes.deactivated),
        ("reactivated", changes.reactivated),
    ):
        lines.extend(f"  {label}: {partner_id}" for partner_id in ids)
    return lines


def _agreement_report(
    policy: agreements.LivePolicy, changes: agreements.AgreementChanges
) -> list[str]:
    lines = [
        f"agreements: {len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.unchanged)} unchanged, {len(changes.unlisted)} unlisted"
    ]
    now = utcnow()
    for reg in policy.agreements:
        status = policy.status(reg, now)
        lines.append(f"  {reg.agreement.id} v{reg.agreement.version}: {status.status}")
        lines.extend(f"    reason  {r.code}: {r.message}" for r in status.reasons)
        lines.extend(f"    warning {w.code}: {w.message}" for w in status.warnings)
    return lines


def add_partner(
    settings: Settings, partner_id: str, partner_type: str, jwks_path: Path, **flags: Any
) -> list[str]:
    """Write the partner's files (validated) and load them into the database."""
    try:
        jwks = keys.read_jwks(jwks_path)
    except keys.KeyFileError as exc:
        raise SyncFailed(str(exc)) from None
    declaration = files.PartnerDeclaration(
        id=partner_id,
        name=flags["name"],
        type=partner_type,
        relevant_authority=bool(flags.get("relevant_authority")),
        competent_authority=bool(flags.get("competent_authority")),
        public_authority=bool(flags.get("public_authority")),
        statutory_roles=tuple(flags.get("roles") or ()),
        jwks=jwks,
        webhook_url=flags.get("webhook"),
    )
    try:
        toml_path, written_jwks = files.write_partner_files(
            declaration, settings.policies_dir, settings.keys_dir
        )
    except files.PartnerFileError as exc:
        raise SyncFailed(str(exc)) from None
    try:
        files.read_partner_file(toml_path, settings.keys_dir)
    except files.PartnerFileError as exc:
        toml_path.unlink()
        written_jwks.unlink()
        raise SyncFailed(str(exc)) from None
    lines = [f"wrote {toml_path}", f"wrote {written_jwks}", f"OAuth client_id: {partner_id}"]
    return lines + synchronise(settings)


def verify_whole_ledger(
    settings: Settings,
    progress: Callable[[int, int], None] | None,
    *,
    full: bool = False,
    processes: int = 1,
) -> tuple[bool, list[str]]:
    """``hub log verify [--full]``: recompute the ledger; name the first bad index if any.

    Routine runs are incremental: they start at the largest checkpoint an earlier
    successful run verified (:func:`hub.audit.health.incremental_start`) and verify
    everything after it; ``full`` (or no earlier run, or a failed last run) starts at 0.
    Each run is recorded in ``ledger_check_runs`` for the DPO's health page.
    """
    if not settings.signing_key_file.exists():
        raise SyncFailed(f"no hub signing key at {settings.signing_key_file}: run `hub init`")
    verifier = log_verifier_key(ensure_signing_key(settings.signing_key_file), settings.log_origin)
    from hub.audit.health import FULL, INCREMENTAL, incremental_start, record_run

    with _session(settings) as session:
        started = utcnow()
        since = 0 if full else incremental_start(session)
        kind = FULL if since == 0 else INCREMENTAL
        try:
            report = verify_ledger(session, verifier, progress, since=since, processes=processes)
            kind = FULL if report.start == 0 else INCREMENTAL
            check_projection(session, report.size, report.start)
        except VerificationError as exc:
            record_run(session, kind, started, False, store.tree_size(session), str(exc), "cli")
            session.commit()
            return False, [f"ledger INVALID: {exc}"]
        scope = (
            f"{report.size - report.start} entries after the checkpoint at size "
            f"{report.start} (incremental; --full checks all {report.size})"
            if report.start
            else f"{report.size} entries"
        )
        detail = f"{scope} and {report.checkpoints} checkpoints verified"
        record_run(session, kind, started, True, report.size, detail, "cli")
        session.commit()
    return True, [
        f"ledger OK: {scope}, {report.checkpoints} checkpoints verified, "
        "audit projection matches",
        f"root: {base64.b64encode(report.root_hash).decode()}",
        f"verifier key: {verifier}",
    ]


def checkpoint_now(settings: Settings) -> str:
    """``hub log checkpoint``: sign the current tree on demand; return the signed note."""
    if not settings.signing_key_file.exists():
        raise SyncFailed(f"no hub signing key at {settings.signing_key_file}: run `hub init`")
    key = ensure_signing_key(settings.signing_key_file)
    with _session(settings) as session:
        try:
            checkpoint = sign_checkpoint(session, key, settings.log_origin)
        except LedgerError as exc:
            raise SyncFailed(f"refusing to sign: {exc}") from None
        session.commit()
        if not settings.witnesses:
            return checkpoint.note
        from hub.witness.collect import request_cosignatures
        from hub.witness.served import cosigned_note

        request_cosignatures(session, settings, checkpoint, runner="cli")
        return cosigned_note(session, checkpoint)


def purge_retention(settings: Settings, *, dry_run: bool) -> list[str]:
    """``hub retention purge``: crypto-shred every payload past its flow's retention.

    Storage limitation (UK GDPR Art 5(1)(e), Art 17(1)(a)); each erasure is logged (DPA
    2018 s62) and notified to the recipient (Art 19). See :mod:`hub.sharing.retention`.
    """
    from hub.sharing.context import build_context
    from hub.sharing.retention import purge_expired

    try:
        catalogues = load_catalogues(settings.policies_dir)
    except PolicyError as exc:
        raise SyncFailed(str(exc)) from None
    key_file = settings.signing_key_file
    signing_key = ensure_signing_key(key_file) if key_file.exists() else None
    ctx = build_context(settings, catalogues, signing_key)
    with _session(settings) as session:
        report = purge_expired(session, ctx, dry_run=dry_run)
    return report.lines()
