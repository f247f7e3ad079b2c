"""Development secrets kept under ``instance/`` (never committed, created on first use).

Production mode requires real secrets from the environment (``Settings.validate``); on a
developer's machine the hub makes its own so that ``make demo`` needs no set-up.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from hub.settings import Settings
from hub.sharing.crypto import MasterKey, load_or_create_master_key


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def secret_key(settings: Settings) -> str:
    """Flask's secret key: from settings, else a per-instance development secret."""
    if settings.secret_key:
        return settings.secret_key
    if settings.production:
        raise RuntimeError("HUB_SECRET_KEY is required in production mode")
    return _read_or_create(settings.instance_dir / "secret_key")


def subject_secret(settings: Settings) -> bytes:
    """The HMAC key for subject commitments: from settings, else a development secret."""
    if settings.subject_secret:
        return settings.subject_secret.encode("utf-8")
    if settings.production:
        raise RuntimeError("HUB_SUBJECT_SECRET is required in production mode")
    return _read_or_create(settings.instance_dir / "subject_secret").encode("utf-8")


def keyed_hash_secret(settings: Settings) -> bytes:
    """Key for the ``keyed_hash`` field transform, derived apart from subject commitments.

    Domain separation: a recipient seeing a keyed-hash value must not be able to match it
    against ledger subject commitments, which use the same root secret.
    """
    return hmac.new(subject_secret(settings), b"hub:keyed_hash:v1", hashlib.sha256).digest()


def master_key(settings: Settings) -> MasterKey:
    """The payload master key: ``HUB_MASTER_KEY`` in production, else a development key."""
    if settings.master_key_path is not None:
        # Production never invents a key: a missing file there means a broken deployment.
        return load_or_create_master_key(settings.master_key_path, create=not settings.production)
    if settings.production:
        raise RuntimeError("HUB_MASTER_KEY is required in production mode")
    return load_or_create_master_key(settings.instance_dir / "master.key", create=True)
