"""The tree as C2SP tlog-tiles hash tiles, built from the stored subtree hashes.

Tile ``L/N`` holds the 256 hashes ``MTH(D[(N*256+i) * 256**L : (N*256+i+1) * 256**L])``:
at level 0 the leaf hashes (``ledger_entries.leaf_hash``), at level ``L >= 1`` the stored
completed subtrees of height ``8L`` (``ledger_nodes``). Full tiles never change; a partial
tile ``L/N.p/W`` holds the first ``W`` hashes, also fixed once they exist.

Tiles are published only up to the latest *signed* checkpoint: a monitor verifies them
against a checkpoint, and the hub does not reveal the unsigned tail early. Entry bundles
(``tile/entries/...``) are not served: entry bodies are private (salted leaves) and are
read only through the entitled entry API; monitors audit hashes.
"""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger import store
from hub.ledger.errors import CorruptStore
from hub.ledger.models import LedgerEntry, LedgerNode

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
# ``x001/x234/067`` and an optional ``.p/<W>`` (W from 1 to 255, no leading zero).
INDEX_PATTERN = r"(?:x[0-9]{3}/)*[0-9]{3}(?:\.p/[1-9][0-9]{0,2})?"
_INDEX = re.compile(INDEX_PATTERN)

__all__ = [
    "INDEX_PATTERN",
    "TILE_WIDTH",
    "NoSuchTile",
    "TileRef",
    "encode_index",
    "parse_index",
    "read_tile",
    "tile_path",
]


class NoSuchTile(LookupError):
    """Not a tile of the published tree (malformed, beyond the checkpoint, or empty)."""


@dataclasses.dataclass(frozen=True)
class TileRef:
    """Tile ``index`` at ``level``; ``width`` is None for a full tile."""

    level: int
    index: int
    width: int | None = None

    @property
    def count(self) -> int:
        return TILE_WIDTH if self.width is None else self.width

    def end(self) -> int:
        """How many entries the tree needs for this tile's hashes all to exist."""
        return (self.index * TILE_WIDTH + self.count) << (TILE_HEIGHT * self.level)


def encode_index(index: int) -> str:
    """``1234067`` -> ``x001/x234/067``: 3-digit elements, all but the last with ``x``."""
    if index < 0:
        raise ValueError("tile index must be non-negative")
    groups = [index % 1000]
    while index >= 1000:
        index //= 1000
        groups.append(index % 1000)
    *upper, last = reversed(groups)
    return "/".join([*(f"x{g:03d}" for g in upper), f"{last:03d}"])


def tile_path(ref: TileRef) -> str:
    """``tile/<L>/<N>[.p/<W>]``."""
    suffix = "" if ref.width is None else f".p/{ref.width}"
    return f"tile/{ref.level}/{encode_index(ref.index)}{suffix}"


def parse_index(level: int, text: str) -> TileRef:
    """Parse ``<N>[.p/<W>]``; only the canonical encoding names a tile."""
    if not 0 <= level <= MAX_LEVEL or not _INDEX.fullmatch(text):
        raise NoSuchTile("not a tile path")
    index_text, _, width_text = text.partition(".p/")
    index = int(index_text.replace("x", "").replace("/", ""))
    width = int(width_text) if width_text else None
    if width is not None and width >= TILE_WIDTH:
        raise NoSuchTile("a partial tile has 1 to 255 hashes")
    if encode_index(index) != index_text:
        raise NoSuchTile("not the canonical encoding of a tile index")
    return TileRef(level, index, width)


def read_tile(session: Session, ref: TileRef) -> bytes:
    """The tile's concatenated hashes, if the latest checkpoint's tree holds all of them."""
    checkpoint = store.latest_checkpoint(session)
    size = checkpoint.tree_size if checkpoint is not None else 0
    if ref.end() > size:
        raise NoSuchTile("the signed tree does not reach that tile")
    first = ref.index * TILE_WIDTH
    last = first + ref.count - 1
    if ref.level == 0:
        query = (
            select(LedgerEntry.index, LedgerEntry.leaf_hash)
            .where(LedgerEntry.index.between(first, last))
            .order_by(LedgerEntry.index)
        )
    else:
        query = (
            select(LedgerNode.index, LedgerNode.hash)
            .where(LedgerNode.level == TILE_HEIGHT * ref.level)
            .where(LedgerNode.index.between(first, last))
            .order_by(LedgerNode.index)
        )
    rows = session.execute(query).all()
    if [int(row[0]) for row in rows] != list(range(first, last + 1)):
        raise CorruptStore(f"tile {tile_path(ref)} is missing stored hashes")
    return b"".join(bytes(row[1]) for row in rows)
