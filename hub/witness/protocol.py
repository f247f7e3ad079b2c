"""The C2SP tlog-witness ``add-checkpoint`` request body, parsed and built (pure).

Body: ``old <size>\\n``, zero to 63 consistency proof lines (base64 hashes), an empty line,
then the checkpoint (a signed note). Every line ends in ``\\n``. The response to a 409 is
``<size>\\n`` with ``Content-Type: text/x.tlog.size``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Sequence

MAX_PROOF_LINES = 63
HASH_SIZE = 32
SIZE_CONTENT_TYPE = "text/x.tlog.size"
# A checkpoint with a few cosignatures is well under this; anything larger is not one.
MAX_BODY_BYTES = 64 * 1024
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")

__all__ = [
    "MAX_BODY_BYTES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "MalformedRequest",
    "build_request",
    "parse_request",
    "parse_size_body",
]


class MalformedRequest(ValueError):
    """The body is not an add-checkpoint request (400 Bad Request)."""


@dataclasses.dataclass(frozen=True)
class AddCheckpoint:
    """A parsed request: the old size, the proof hashes and the checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str


def parse_request(body: bytes) -> AddCheckpoint:
    """Parse an add-checkpoint body; raise :class:`MalformedRequest` if it is not one."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedRequest("request body too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("request body is not UTF-8") from None
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise MalformedRequest("no empty line before the checkpoint")
    lines = head.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    if not old_line.startswith("old ") or not _DECIMAL.fullmatch(old_line[4:]):
        raise MalformedRequest("the first line must be 'old <size>'")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            value = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise MalformedRequest("a proof line is not base64") from None
        if len(value) != HASH_SIZE or base64.b64encode(value).decode() != line:
            raise MalformedRequest("a proof line is not one SHA-256 hash")
        proof.append(value)
    if not checkpoint.endswith("\n"):
        raise MalformedRequest("the checkpoint must end with a newline")
    return AddCheckpoint(int(old_line[4:]), tuple(proof), checkpoint)


def build_request(old_size: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    """The body a log POSTs to ``<submission prefix>/add-checkpoint``."""
    if old_size < 0 or len(proof) > MAX_PROOF_LINES:
        raise ValueError("bad old size or proof")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint).encode()


def parse_size_body(body: bytes) -> int | None:
    """The witness's latest cosigned size from a 409 body (``<size>\\n``), if well formed."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or not _DECIMAL.fullmatch(text[:-1]):
        return None
    return int(text[:-1])
