"""What every sharing use case needs besides the session: keys, secrets, catalogues."""

from __future__ import annotations

import dataclasses
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.policy import Catalogues
from hub.settings import Settings
from hub.sharing.crypto import MasterKey


@dataclasses.dataclass(frozen=True)
class SharingContext:
    """Built once per app (or CLI run) and passed to services; no Flask inside."""

    settings: Settings
    catalogues: Catalogues
    master_key: MasterKey
    subject_secret: bytes
    keyed_hash_secret: bytes
    signing_key: Ed25519PrivateKey | None

    @property
    def field_names(self) -> frozenset[str]:
        """Catalogue field names: the ledger refuses any other word as a field name."""
        return frozenset(self.catalogues.fields)


def build_context(settings: Settings, catalogues: Catalogues, signing_key: Any) -> SharingContext:
    """Load the secrets for ``settings`` (development ones are created under instance/)."""
    from hub.instance_secrets import keyed_hash_secret, master_key, subject_secret

    return SharingContext(
        settings=settings,
        catalogues=catalogues,
        master_key=master_key(settings),
        subject_secret=subject_secret(settings),
        keyed_hash_secret=keyed_hash_secret(settings),
        signing_key=signing_key,
    )
