"""The checkpoint as partners get it: the hub's signed note with every stored cosignature.

Each cosignature line is a C2SP signed-note signature, so the result is still one signed
note: a verifier that knows only the hub's key ignores the witness lines, one that knows
witness keys counts them against its own k-of-n policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from hub.ledger import store
from hub.ledger.errors import NoCheckpoint
from hub.ledger.models import LedgerCheckpoint
from hub.witness.collect import CosignResult, cosignatures_for, quorum

if TYPE_CHECKING:
    from hub.settings import Settings


def cosigned_note(session: Session, checkpoint: LedgerCheckpoint) -> str:
    """``checkpoint.note`` with the stored cosignature lines appended."""
    lines = "".join(c.line for c in cosignatures_for(session, checkpoint.tree_size))
    return checkpoint.note + lines


def served_checkpoint(session: Session, settings: Settings) -> tuple[str, CosignResult | None]:
    """The latest checkpoint, cosigned, and its quorum state (None: no witnesses set)."""
    checkpoint = store.latest_checkpoint(session)
    if checkpoint is None:
        raise NoCheckpoint("no checkpoint has been signed yet")
    cosignatures = cosignatures_for(session, checkpoint.tree_size)
    note = checkpoint.note + "".join(c.line for c in cosignatures)
    if not settings.witnesses:
        return note, None
    return note, quorum(settings, [c.witness for c in cosignatures], checkpoint.tree_size)
