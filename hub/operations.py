"""Operator use cases behind the CLI: initialise, synchronise policies, add a partner.

Each takes :class:`~hub.settings.Settings`, opens what it needs and returns lines of
report for a human. Errors an operator can fix are raised as :class:`SyncFailed`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hub import db, schema
from hub.partners import files, keys, services
from hub.settings import Settings


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
    from hub.ledger.checkpoint import ensure_signing_key

    lines = []
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    engine = db.make_engine(settings.database_url)
    try:
        schema.upgrade_to_head(engine)
        lines.append(f"database: at revision {schema.current_revision(engine)}")
    finally:
        engine.dispose()
    existed = settings.signing_key_file.exists()
    ensure_signing_key(settings.signing_key_file)
    state = "present" if existed else "created"
    lines.append(f"hub signing key: {state} at {settings.signing_key_file}")
    secret_key(settings)
    subject_secret(settings)
    return lines


def synchronise(settings: Settings) -> list[str]:
    """Load partners (and their keys) from the project into the database."""
    try:
        declarations = files.read_partner_dir(settings.policies_dir, settings.keys_dir)
    except files.PartnerFileError as exc:
        raise SyncFailed(str(exc)) from None
    if settings.production:
        try:
            services.refuse_demo_keys(declarations, keys.demo_thumbprints(settings.keys_dir))
        except services.DemoKeyRefused as exc:
            raise SyncFailed(str(exc)) from None
    with _session(settings) as session:
        changes = services.sync_partners(session, declarations)
        session.commit()
    return _partner_report(changes)


def _partner_report(changes: services.PartnerChanges) -> list[str]:
    lines = [
        f"partners: {len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.unchanged)} unchanged, {len(changes.deactivated)} deactivated"
    ]
    for label, ids in (
        ("added", changes.added),
        ("changed", changes.changed),
        ("deactivated", changes.deactivated),
    ):
        lines.extend(f"  {label}: {partner_id}" for partner_id in ids)
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
