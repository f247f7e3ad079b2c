"""What a witness is configured with: its name, its key, its state file, the logs it watches.

Each watched log is an origin and the note verifier key(s) its checkpoints are signed with
(``ORIGIN VKEY``, or just ``VKEY`` when the key is named after the origin, as the hub's
is: ``GET /api/v1/log/key``). The key is the witness's own Ed25519 key, created on first
run (mode 0600). In production a key under a ``demo`` directory is refused, as the hub
refuses its demo keys.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.ledger.checkpoint import ensure_signing_key
from hub.ledger.verify import NoteVerifier, VerificationError, parse_verifier_key
from hub.witness.cosignature import CosignatureError, check_name, cosigner_verifier_key
from hub.witness.state import WitnessState

STATE_FILE = "witness.sqlite3"
KEY_FILE = "witness.key"


class WitnessConfigError(ValueError):
    """The witness cannot start: the message names the option."""


@dataclasses.dataclass(frozen=True)
class WitnessConfig:
    name: str
    key: Ed25519PrivateKey
    logs: Mapping[str, tuple[NoteVerifier, ...]]
    state: WitnessState

    @property
    def verifier_key(self) -> str:
        """The cosigner vkey a hub puts in ``HUB_WITNESSES``."""
        return cosigner_verifier_key(self.name, self.key)


def parse_logs(specs: Iterable[str]) -> dict[str, tuple[NoteVerifier, ...]]:
    """``ORIGIN VKEY`` or ``VKEY`` (origin = the key's name) per item; ``;`` or newlines
    also separate items, so one environment variable can hold several."""
    logs: dict[str, list[NoteVerifier]] = {}
    for spec in specs:
        for item in spec.replace(";", "\n").splitlines():
            parts = item.split()
            if not parts:
                continue
            if len(parts) > 2:
                raise WitnessConfigError(f"--log: expected 'ORIGIN VKEY' or 'VKEY', got {item!r}")
            try:
                verifier = parse_verifier_key(parts[-1])
            except VerificationError as exc:
                raise WitnessConfigError(f"--log: {exc}") from None
            origin = parts[0] if len(parts) == 2 else verifier.name
            logs.setdefault(origin, []).append(verifier)
    if not logs:
        raise WitnessConfigError("--log: name at least one log to witness")
    return {origin: tuple(keys) for origin, keys in logs.items()}


def load_config(
    *,
    name: str,
    state_dir: str | os.PathLike[str],
    logs: Iterable[str],
    key_path: str | os.PathLike[str] | None = None,
    production: bool = False,
) -> WitnessConfig:
    """Build the configuration, creating the key and the state file on first run."""
    state_dir = Path(state_dir)
    key_file = Path(key_path) if key_path else state_dir / KEY_FILE
    if production and "demo" in key_file.resolve().parts:
        raise WitnessConfigError("--key: demo keys are refused in production mode")
    try:
        check_name(name)
    except CosignatureError as exc:
        raise WitnessConfigError(f"--name: {exc}") from None
    parsed = parse_logs(logs)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ensure_signing_key(key_file)
    return WitnessConfig(name, key, parsed, WitnessState(state_dir / STATE_FILE))
