"""Read a tree of C2SP tlog-tiles and check it against a signed checkpoint.

A tile at level ``L`` (0 to 63), index ``N`` holds up to 256 consecutive hashes: level 0
the leaf hashes, level ``L`` the roots of full level ``L-1`` tiles. Full tiles are
``<prefix>/tile/<L>/<N>``, partial ones ``<prefix>/tile/<L>/<N>.p/<W>``; ``N`` is written
in 3-digit groups, all but the last prefixed ``x`` (``1234067`` -> ``x001/x234/067``).

How the hashes are trusted: the root of a tree of size ``s`` is made only from the
rightmost, partial tile of each level, and each of those is used whole, so a root that
matches the checkpoint authenticates them all. A full tile is authenticated by hashing it
and finding that hash in the tile above (itself authenticated the same way). Only then is
any hash read out of a tile. Consistency with an older checkpoint of size ``m`` is then
immediate: the root of the first ``m`` leaves, computed from the authenticated tiles of
the newer tree, must be the older root; if it is not, the two signed checkpoints are for
two different histories (a fork, proven by the tiles themselves).
"""

from __future__ import annotations

from collections.abc import Callable

from . import merkle
from .notes import VerificationError

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileError",
    "TileFetcher",
    "TiledTree",
    "TilesUnavailable",
    "tile_path",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

# ``fetch(path)`` returns the tile's bytes, or ``None`` when the log answers 404.
TileFetcher = Callable[[str], bytes | None]


class TileError(VerificationError):
    """Tiles malformed, or not matching what authenticates them."""


class TilesUnavailable(TileError):
    """The log does not serve a tile this tree needs (404): use the proof API instead."""


def _index_path(index: int) -> str:
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if not index:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """``tile/<L>/<N>`` for a full tile, ``tile/<L>/<N>.p/<W>`` for a partial one."""
    if not 0 <= level <= 63 or index < 0:
        raise ValueError("no such tile")
    path = f"tile/{level}/{_index_path(index)}"
    if width is not None:
        if not 1 <= width < TILE_WIDTH:
            raise ValueError("a partial tile holds 1 to 255 hashes")
        path += f".p/{width}"
    return path


def _perfect_root(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree over ``hashes`` (a power-of-two count)."""
    while len(hashes) > 1:
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


class TiledTree:
    """The tree of ``size`` leaves as its tiles; :meth:`check_root` before reading nodes."""

    def __init__(self, size: int, fetch: TileFetcher) -> None:
        self.size = size
        self._fetch = fetch
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self._trusted: set[tuple[int, int]] = set()
        self._root_checked = False
        self.fetched = 0  # tiles fetched over the network

    # -- raw tiles ------------------------------------------------------------------------

    def _width(self, level: int, index: int) -> int:
        """Hashes the tile holds in this tree: 256, or the partial width (0: no tile)."""
        full = self.size >> (TILE_HEIGHT * (level + 1))
        if index < full:
            return TILE_WIDTH
        if index == full:
            return (self.size >> (TILE_HEIGHT * level)) % TILE_WIDTH
        return 0

    def _load(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key in self._tiles:
            return self._tiles[key]
        width = self._width(level, index)
        if width == 0:
            raise TileError(f"tile {level}/{index} is beyond the tree of size {self.size}")
        data = None
        if width < TILE_WIDTH:
            data = self._fetch(tile_path(level, index, width))
            self.fetched += 1
        if data is None:  # a full tile, or a partial one the log no longer keeps
            data = self._fetch(tile_path(level, index))
            self.fetched += 1
            if data is not None and width < TILE_WIDTH:
                data = data[: width * merkle.HASH_SIZE]
        if data is None:
            raise TilesUnavailable(f"the log does not serve tile {level}/{index}")
        if len(data) != width * merkle.HASH_SIZE:
            raise TileError(f"tile {level}/{index} has {len(data)} bytes, not {width} hashes")
        hashes = [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]
        self._tiles[key] = hashes
        return hashes

    def _tile(self, level: int, index: int) -> list[bytes]:
        """An authenticated tile: partial ones by the root check, full ones by their parent."""
        if not self._root_checked:
            raise TileError("check the tree's root against a checkpoint first")
        key = (level, index)
        hashes = self._load(level, index)
        if key in self._trusted:
            return hashes
        if len(hashes) == TILE_WIDTH:
            parent = self._tile(level + 1, index // TILE_WIDTH)
            if _perfect_root(hashes) != parent[index % TILE_WIDTH]:
                raise TileError(f"tile {level}/{index} does not hash to its entry one level up")
        self._trusted.add(key)
        return hashes

    # -- nodes and roots ------------------------------------------------------------------

    def _node_from(self, level: int, index: int, tile: Callable[[int, int], list[bytes]]) -> bytes:
        """The hash of the perfect subtree ``(level, index)`` (covers ``index << level``...)."""
        if (index + 1) << level > self.size:
            raise TileError(f"node {level}/{index} is not complete in a tree of {self.size}")
        t, r = divmod(level, TILE_HEIGHT)
        first = index << r  # position among the hashes of tile level t
        hashes = tile(t, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        return _perfect_root(hashes[offset : offset + (1 << r)])

    def node(self, level: int, index: int) -> bytes:
        """An authenticated subtree hash (after :meth:`check_root`)."""
        return self._node_from(level, index, self._tile)

    def leaf(self, index: int) -> bytes:
        """The authenticated leaf hash of entry ``index``."""
        return self.node(0, index)

    def root_of(self, size: int) -> bytes:
        """The root of the first ``size`` leaves, from authenticated tiles."""
        if not 0 <= size <= self.size:
            raise TileError(f"no tree of size {size} inside one of size {self.size}")
        hashes = [self.node(level, index) for level, index in merkle.subtree_decomposition(size)]
        return merkle.root_from_subtrees(hashes)

    def check_root(self, root: bytes) -> None:
        """Authenticate the partial tiles: their hashes must give the checkpoint's root."""
        parts = merkle.subtree_decomposition(self.size)
        hashes = [self._node_from(level, index, self._load) for level, index in parts]
        if merkle.root_from_subtrees(hashes) != root:
            raise TileError(f"the tiles of the tree of size {self.size} do not give its root")
        self._root_checked = True
        for level in range(64):
            if self.size >> (TILE_HEIGHT * level) == 0:
                break
            index = self.size >> (TILE_HEIGHT * (level + 1))
            if self._width(level, index):
                self._trusted.add((level, index))
