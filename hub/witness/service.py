"""The witness's decision on one ``add-checkpoint`` request (C2SP tlog-witness), in order:

404 unknown origin · 403 no valid signature by a trusted key (or a trusted key's signature
fails) · 400 old size above the checkpoint size (or a malformed body) · 409 old size is not
the size last cosigned (body: that size, ``text/x.tlog.size``) · 422 size 0 without the
empty root, a proof from size 0, a consistency proof that does not verify, equal sizes with
different roots · 200 a cosignature/v1 line.

The witness never cosigns a checkpoint inconsistent with the last one it cosigned for the
origin; the check and the write are one transaction (:mod:`hub.witness.state`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence

import structlog

from hub.ledger import merkle
from hub.ledger.verify import (
    Checkpoint,
    NoteVerifier,
    VerificationError,
    open_note,
    parse_checkpoint,
)
from hub.witness.config import WitnessConfig
from hub.witness.cosignature import cosign
from hub.witness.protocol import SIZE_CONTENT_TYPE, MalformedRequest, parse_request
from hub.witness.state import Evidence

log = structlog.get_logger("hub.witness")
TEXT = "text/plain; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = TEXT


def add_checkpoint(
    config: WitnessConfig, body: bytes, clock: Callable[[], float] = time.time
) -> Answer:
    """Check one request against the state and cosign it, or say why not."""
    try:
        request = parse_request(body)
    except MalformedRequest as exc:
        return Answer(400, f"{exc}\n")
    note = request.checkpoint
    origin = note.split("\n", 1)[0]
    verifiers = config.logs.get(origin)
    if verifiers is None:
        return Answer(404, "unknown log origin\n")
    if "\n\n" not in note:
        return Answer(400, "the checkpoint is not a signed note\n")
    try:
        text = open_note(note, list(verifiers))
    except VerificationError:
        log.warning("witness_bad_signature", origin=origin)
        return Answer(403, "no valid signature by a trusted key for this log\n")
    try:
        checkpoint = parse_checkpoint(text)
    except VerificationError as exc:
        return Answer(400, f"{exc}\n")
    if request.old_size > checkpoint.size:
        return Answer(400, "old size is larger than the checkpoint size\n")
    return _check_and_cosign(config, request.old_size, list(request.proof), note, text,
                             checkpoint, verifiers, clock)  # fmt: skip


def _check_and_cosign(
    config: WitnessConfig,
    old_size: int,
    proof: list[bytes],
    note: str,
    text: str,
    checkpoint: Checkpoint,
    verifiers: Sequence[NoteVerifier],
    clock: Callable[[], float],
) -> Answer:
    refused: str | None = None
    with config.state.update(checkpoint.origin) as record:
        current = record.current()
        known = current.size if current is not None else 0
        if old_size != known:
            return Answer(409, f"{known}\n", SIZE_CONTENT_TYPE)
        old_root = current.root if current is not None else merkle.EMPTY_ROOT
        if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
            refused = "a checkpoint of size 0 must have the empty tree's root"
        elif old_size == 0 and proof:
            refused = "no consistency proof is needed (or allowed) from size 0"
        elif old_size == checkpoint.size and old_root != checkpoint.root_hash:
            refused = "same size as the last cosigned checkpoint, different root"
        elif not merkle.verify_consistency(
            old_size, checkpoint.size, old_root, checkpoint.root_hash, proof
        ):
            refused = "the consistency proof does not verify"
        if refused is None:
            line = cosign(text, config.name, config.key, max(1, int(clock())))
            record.store(checkpoint.size, checkpoint.root_hash,
                         _verified_note(text, note, line, verifiers), clock)  # fmt: skip
    if refused is not None:
        # Signed by the log and inconsistent with what we cosigned: keep it as evidence.
        config.state.record_evidence(
            Evidence(checkpoint.origin, old_size, checkpoint.size, note, refused, int(clock()))
        )
        log.warning("witness_refused_checkpoint", origin=checkpoint.origin,
                    old_size=old_size, size=checkpoint.size, reason=refused)  # fmt: skip
        return Answer(422, f"{refused}\n")
    log.info("witness_cosigned", origin=checkpoint.origin, size=checkpoint.size)
    return Answer(200, line)


def _verified_note(
    text: str, note: str, cosignature: str, verifiers: Sequence[NoteVerifier]
) -> str:
    """The note as the monitoring endpoint serves it: the text, the log's signatures that
    verified (open_note checked every line by a trusted key; others are dropped), and our
    cosignature."""
    kept = []
    for line in note[len(text) + 1 :].splitlines(keepends=True):
        name, _, encoded = line[2:].partition(" ")
        try:
            key_id = base64.b64decode(encoded.strip(), validate=True)[:4]
        except binascii.Error:
            continue
        if any(v.name == name and v.key_id == key_id for v in verifiers):
            kept.append(line)
    return text + "\n" + "".join(kept) + cosignature


def origin_hash(origin: str) -> str:
    """``hex(SHA-256(origin))``: the monitoring path segment naming a log."""
    return hashlib.sha256(origin.encode()).hexdigest()


def latest_note(config: WitnessConfig, hashed_origin: str) -> str | None:
    """The latest cosigned checkpoint of the log whose origin hashes to ``hashed_origin``."""
    for origin in config.logs:
        if origin_hash(origin) == hashed_origin:
            latest = config.state.latest(origin)
            return None if latest is None else latest.note
    return None


__all__ = ["Answer", "add_checkpoint", "latest_note", "origin_hash"]
