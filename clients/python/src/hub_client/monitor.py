"""``hub-monitor``: keep the hub's log honest from a partner's side.

Each run fetches the hub's latest checkpoint and trusts it only if

1. it carries a valid signature by the log key you pinned (and names your origin);
2. it extends the last checkpoint this monitor trusted (kept in ``--state``): through the
   hub's tiles when it serves them (the tiles must give the new root, and then the root of
   the old size computed from them must be the old root), else through the hub's
   consistency-proof API; a checkpoint of the same size must have the same root;
3. it agrees in the same way with every ``--peer`` checkpoint (another partner's state
   file or a note it saw) and with the latest checkpoint each ``--witness-url`` cosigned
   (tlog-witness's monitoring endpoint ``<prefix>/<sha256(origin) hex>/checkpoint``): two
   partners comparing notes, or a partner and a witness, catch a hub showing each its own
   history (a split view), even on a monitor's first run;
4. at least ``--quorum`` of the ``--witness`` keys cosigned it (cosignature/v1).

Then it replaces the state (atomically), checks that every ``--receipt`` (a receipt JSON
file kept from a send) is in that tree, and exits 0. Otherwise the state is left as it
was (a receipt's failure aside), the evidence is printed, and the exit code says what went
wrong. ``--wait S`` keeps asking for S seconds while the only trouble is a checkpoint short
of quorum or not yet covering a receipt (checkpoints are signed in batches, then cosigned).

====  =====================================================================================
code  meaning
====  =====================================================================================
0     trusted: consistent, quorum met (the state now holds this checkpoint)
1     could not check (network, HTTP error, bad arguments or state file)
2     usage error (unknown option)
3     bad signature: no valid signature by the pinned log key, or another origin
4     split view: two checkpoints signed by the log key that cannot both be true (same
      size with different roots, or tiles that authenticate the new root prove a
      different root for the older size)
5     inconsistent: the hub did not prove the new checkpoint extends the trusted one (the
      consistency proof fails, its tiles do not give its own root, or the log shrank)
6     short of quorum: fewer than ``--quorum`` witnesses cosigned the checkpoint
7     a receipt is not in the trusted tree (its members do not give its leaf, or the
      inclusion proof fails), or no checkpoint covers it yet
====  =====================================================================================
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from . import merkle
from ._options import add_connection_options, connect
from .auth import TokenError
from .client import HubClient, HubError
from .notes import (
    COSIGNATURE_V1,
    NOTE_ED25519,
    Checkpoint,
    VerificationError,
    Verifier,
    open_checkpoint,
    parse_verifier,
    verify_cosignatures,
)
from .receipts import b64, verify_entry_view
from .tiles import TileError, TilesUnavailable

__all__ = [
    "BAD_SIGNATURE",
    "ERROR",
    "INCONSISTENT",
    "OK",
    "RECEIPT",
    "SHORT_QUORUM",
    "SPLIT_VIEW",
    "Alarm",
    "Monitor",
    "Report",
    "main",
]

OK, ERROR, USAGE, BAD_SIGNATURE, SPLIT_VIEW, INCONSISTENT, SHORT_QUORUM, RECEIPT = range(8)


class Alarm(Exception):
    """The checkpoint must not be trusted; ``code`` is the exit code, ``evidence`` the notes."""

    def __init__(
        self, code: int, message: str, evidence: Sequence[str] = (), *, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.evidence = list(evidence)
        self.retryable = retryable  # may clear by itself (quorum, coverage): --wait retries


@dataclass
class Report:
    """What one successful run checked."""

    checkpoint: Checkpoint
    previous_size: int | None
    method: str  # "first use", "tiles", "proof", "same"
    cosigned_by: list[str] = field(default_factory=list)
    peers: int = 0
    receipts: list[int] = field(default_factory=list)

    def summary(self) -> str:
        was = "first use" if self.previous_size is None else f"was {self.previous_size}"
        witnesses = ", ".join(self.cosigned_by) or "none"
        return (
            f"ok: {self.checkpoint.origin} size {self.checkpoint.size} ({was}; "
            f"consistency: {self.method}); cosigned by {witnesses}; peers agreed: {self.peers}"
            + "".join(f"; receipt {i} included" for i in self.receipts)
        )


def read_state(path: Path) -> str | None:
    """The note of the last trusted checkpoint, or ``None`` if there is no state yet."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    note = data.get("note") if isinstance(data, dict) else None
    if not isinstance(note, str):
        raise ValueError(f"{path}: not a monitor state file")
    return note


def write_state(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the state atomically: a crash leaves the old state or the new, never half."""
    data = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "note": checkpoint.note,
        "trusted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_peer(path: Path) -> str:
    """A peer's checkpoint: a monitor state file, or a signed note as text."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        note = json.loads(text).get("note")
        if not isinstance(note, str):
            raise ValueError(f"{path}: a JSON peer file needs a 'note'")
        return note
    return text


class Monitor:
    """The checks of one ``hub-monitor`` run (usable from code: :meth:`check`)."""

    def __init__(
        self,
        client: HubClient,
        log_key: Verifier | str,
        state: Path,
        *,
        origin: str | None = None,
        witnesses: Sequence[Verifier | str] = (),
        quorum: int = 0,
        peers: Sequence[str] = (),
        witness_urls: Sequence[str] = (),
        receipts: Sequence[Mapping[str, Any]] = (),
        use_tiles: bool = True,
    ) -> None:
        self.client = client
        self.log_key = (
            parse_verifier(log_key, NOTE_ED25519) if isinstance(log_key, str) else log_key
        )
        self.state = state
        self.origin = origin
        self.witnesses = [
            parse_verifier(w, COSIGNATURE_V1) if isinstance(w, str) else w for w in witnesses
        ]
        if not 0 <= quorum <= len(self.witnesses):
            raise ValueError(f"a quorum of {quorum} needs at least {quorum} --witness keys")
        self.quorum = quorum
        self.peers = list(peers)
        self.witness_urls = [u.rstrip("/") for u in witness_urls]
        self.receipts = list(receipts)
        self.use_tiles = use_tiles

    def _open(self, note: str, what: str) -> Checkpoint:
        try:
            return open_checkpoint(note, self.log_key, self.origin)
        except VerificationError as exc:
            raise Alarm(BAD_SIGNATURE, f"{what}: {exc}", [note]) from None

    def check(self) -> Report:
        """Run every check; raise :class:`Alarm` on the first failure; update the state."""
        note = self.client.checkpoint_note()
        new = self._open(note, "the hub's checkpoint")
        trusted_note = read_state(self.state)
        previous = None
        method = "first use"
        if trusted_note is not None:
            previous = self._open(trusted_note, f"the trusted checkpoint in {self.state}")
            method = self._extends(previous, new, "the trusted checkpoint")
        peers = [(note, "a peer's checkpoint") for note in self.peers]
        for url in self.witness_urls:
            seen = self._witness_checkpoint(url, new.origin)
            if seen is not None:
                peers.append((seen, f"the checkpoint witness {url} cosigned"))
        for peer_note, what in peers:
            peer = self._open(peer_note, what)
            if peer.size <= new.size:
                self._extends(peer, new, what)
            else:
                self._peer_ahead(new, peer)
        try:
            cosigned = verify_cosignatures(note, self.witnesses)
        except VerificationError as exc:
            raise Alarm(
                SHORT_QUORUM, f"a witness cosignature does not verify: {exc}", [note]
            ) from None
        if len(cosigned) < self.quorum:
            names = ", ".join(c.witness for c in cosigned) or "none"
            missing = sorted({w.name for w in self.witnesses} - {c.witness for c in cosigned})
            raise Alarm(
                SHORT_QUORUM,
                f"{len(cosigned)} of {len(self.witnesses)} witnesses cosigned size {new.size} "
                f"({names}); the quorum is {self.quorum}; missing: {', '.join(missing)}",
                [note],
                retryable=True,
            )
        write_state(self.state, new)
        for receipt in self.receipts:
            self._included(receipt, new)
        return Report(
            new,
            previous.size if previous else None,
            method,
            [c.witness for c in cosigned],
            len(peers),
            [int(r["index"]) for r in self.receipts],
        )

    def _included(self, receipt: Mapping[str, Any], head: Checkpoint) -> None:
        """The receipt's members give its leaf, and the leaf is in the trusted tree."""
        try:
            leaf = verify_entry_view(receipt)
            index = receipt["index"]
            if not isinstance(index, int):
                raise VerificationError("the receipt has no index")
        except (VerificationError, KeyError) as exc:
            raise Alarm(RECEIPT, f"a receipt does not verify: {exc}") from None
        if index >= head.size:
            raise Alarm(
                RECEIPT,
                f"no trusted checkpoint covers entry {index} yet (size {head.size})",
                retryable=True,
            )
        hashes = [b64(h) for h in self.client.inclusion_proof(index, head.size)["hashes"]]
        if not merkle.verify_inclusion(index, head.size, leaf, hashes, head.root_hash):
            raise Alarm(
                RECEIPT,
                f"entry {index} is not in the trusted tree of size {head.size}",
                [head.note],
            )

    def _extends(self, old: Checkpoint, new: Checkpoint, what: str) -> str:
        """Check ``new`` extends ``old``; return how it was checked."""
        evidence = [old.note, new.note]
        if old.size == new.size:
            if old.root_hash != new.root_hash:
                raise Alarm(
                    SPLIT_VIEW,
                    f"{what} and the hub's checkpoint have size {new.size} "
                    "but different roots: two histories signed by the log key",
                    evidence,
                )
            return "same"
        if new.size < old.size:
            raise Alarm(
                INCONSISTENT,
                f"the log shrank from {old.size} to {new.size} entries since {what}",
                evidence,
            )
        if self.use_tiles:
            try:
                tree = self.client.tiles(new.size)
                tree.check_root(new.root_hash)
                old_root = tree.root_of(old.size)
            except TilesUnavailable:
                pass  # this hub serves no tiles (or not these): ask for a proof instead
            except TileError as exc:
                raise Alarm(INCONSISTENT, f"the hub's tiles: {exc}", evidence) from None
            else:
                if old_root != old.root_hash:
                    raise Alarm(
                        SPLIT_VIEW,
                        f"the tiles of the hub's tree of size {new.size} give "
                        f"another root for size {old.size} than {what}: the log forked",
                        evidence,
                    )
                return "tiles"
        proof = self.client.consistency_proof(old.size, new.size)
        if not merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof):
            raise Alarm(
                INCONSISTENT,
                f"the hub's consistency proof from {old.size} to "
                f"{new.size} does not verify against {what}",
                evidence,
            )
        return "proof"

    def _witness_checkpoint(self, url: str, origin: str) -> str | None:
        """The latest checkpoint a witness cosigned for ``origin`` (``None``: it has none)."""
        digest = hashlib.sha256(origin.encode()).hexdigest()
        response = self.client.session.get(
            f"{url}/{digest}/checkpoint", timeout=self.client.timeout
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.text

    def _peer_ahead(self, new: Checkpoint, peer: Checkpoint) -> None:
        """A peer saw a larger tree: the hub must prove our checkpoint is a prefix of it."""
        try:
            proof = self.client.consistency_proof(new.size, peer.size)
        except HubError as exc:
            if exc.status in (400, 404):
                raise Alarm(
                    INCONSISTENT,
                    f"a peer saw size {peer.size} but the hub serves "
                    f"size {new.size} and cannot prove they agree",
                    [peer.note, new.note],
                ) from None
            raise
        if not merkle.verify_consistency(new.size, peer.size, new.root_hash, peer.root_hash, proof):
            raise Alarm(
                INCONSISTENT,
                f"the hub cannot prove its size {new.size} is a prefix of "
                f"the size {peer.size} a peer saw",
                [peer.note, new.note],
            )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub-monitor",
        description="Check the hub's latest checkpoint: signature, consistency with the last "
        "one trusted, peers, witness quorum, receipts. Exit 0 trusted; 3 bad signature; 4 split "
        "view; 5 inconsistent; 6 short of quorum; 7 a receipt not included; 1 could not check.",
    )
    add_connection_options(parser)
    parser.add_argument(
        "--log-key",
        required=True,
        help="the log's note verifier key (name+keyid+base64), or a file holding it",
    )
    parser.add_argument("--origin", help="the log's origin line to insist on")
    parser.add_argument(
        "--state", required=True, type=Path, help="JSON file keeping the last trusted checkpoint"
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness's cosignature/v1 verifier key (repeat; or a file)",
    )
    parser.add_argument(
        "--witnesses", type=Path, metavar="FILE", help="a file of witness cosigner keys, one a line"
    )
    parser.add_argument("--quorum", type=int, help="witnesses needed (default: every one given)")
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="another monitor's state file or a checkpoint note to agree with",
    )
    parser.add_argument(
        "--witness-url",
        action="append",
        default=[],
        metavar="URL",
        help="a witness's monitoring prefix: agree with what it cosigned (repeat)",
    )
    parser.add_argument(
        "--receipt",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a receipt (JSON) that must be in the trusted tree (repeat)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep asking while short of quorum or a receipt is not covered yet",
    )
    parser.add_argument("--no-tiles", action="store_true", help="use the consistency-proof API")
    return parser


def _key_text(value: str) -> str:
    path = Path(value)
    if "+" not in value and path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value


def run(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the checks, print the outcome, return the exit code."""
    args = _parser().parse_args(argv)
    try:
        witnesses = [_key_text(w) for w in args.witness]
        if args.witnesses is not None:
            lines = args.witnesses.read_text(encoding="utf-8").splitlines()
            witnesses += [line.strip() for line in lines if line.strip()]
        monitor = Monitor(
            connect(args),
            _key_text(args.log_key),
            args.state,
            origin=args.origin,
            witnesses=witnesses,
            quorum=len(witnesses) if args.quorum is None else args.quorum,
            peers=[read_peer(p) for p in args.peer],
            witness_urls=args.witness_url,
            receipts=[json.loads(p.read_text(encoding="utf-8")) for p in args.receipt],
            use_tiles=not args.no_tiles,
        )
        deadline = time.monotonic() + args.wait
        while True:
            try:
                report = monitor.check()
                break
            except Alarm as alarm:
                if not alarm.retryable or time.monotonic() >= deadline:
                    raise
                time.sleep(1.0)
    except Alarm as alarm:
        print(f"ALARM ({alarm.code}): {alarm}", file=sys.stderr)
        for note in alarm.evidence:
            print("--- evidence ---\n" + note, end="", file=sys.stderr)
        return alarm.code
    except (
        HubError,
        TokenError,
        requests.RequestException,
        VerificationError,
        OSError,
        ValueError,
    ) as exc:
        print(f"hub-monitor: could not check: {exc}", file=sys.stderr)
        return ERROR
    print(report.summary())
    return OK


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``hub-monitor``; also ``python -m hub_client.monitor``)."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
