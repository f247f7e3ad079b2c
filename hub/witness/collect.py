"""The hub's side of witnessing: ask each configured witness to cosign a stored checkpoint.

For each witness (``HUB_WITNESSES``) the hub sends ``add-checkpoint`` with a consistency
proof from the size that witness last cosigned (the largest size it has a stored
cosignature for; a 409 answer names the witness's own size, and the hub tries once more
from there, as tlog-witness intends). A 200 answer's cosignature is verified with the
witness's key before it is stored (``ledger_cosignatures``). The k-of-n policy is
``HUB_WITNESS_QUORUM``; short of it the checkpoint is still served, with what it has, and
the shortfall is logged (``witness_quorum_short``), recorded as a ``witness`` check run
and shown red in the DPO console's ledger health.

No database transaction is held while a witness is waited on: reads are committed before
the first request and the cosignatures are written after the last
(:func:`request_cosignatures`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import requests
import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.ledger import store
from hub.ledger.errors import LedgerError
from hub.ledger.models import LedgerCheckpoint
from hub.witness.cosignature import CosignatureError, verify_cosignatures
from hub.witness.models import LedgerCosignature
from hub.witness.protocol import build_request, parse_size_body

if TYPE_CHECKING:
    from hub.settings import Settings, WitnessEndpoint

log = structlog.get_logger("hub.witness")
USER_AGENT = "hub-witness-client/1"
WITNESS_CHECK = "witness"
# Answers are a few signature lines; anything longer is not a cosignature.
MAX_ANSWER_BYTES = 16 * 1024

__all__ = [
    "CosignResult",
    "CosignTicker",
    "Outcome",
    "Reply",
    "cosignatures_for",
    "request_cosignatures",
]


@dataclasses.dataclass(frozen=True)
class Reply:
    """A witness's HTTP answer (status 0: no answer at all)."""

    status: int
    body: bytes = b""
    content_type: str = ""


Post = Callable[[str, bytes, float], Reply]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one witness did with one checkpoint: ``reason`` is a machine word."""

    witness: str
    cosigned: bool
    reason: str


@dataclasses.dataclass(frozen=True)
class CosignResult:
    """The checkpoint's cosignatures after asking: who has cosigned, who has not, why."""

    tree_size: int
    needed: int
    witnesses: tuple[str, ...]
    cosigned: tuple[str, ...]
    outcomes: tuple[Outcome, ...] = ()

    @property
    def met(self) -> bool:
        return len(self.cosigned) >= self.needed

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in self.witnesses if name not in self.cosigned)

    def header(self) -> str:
        """``Hub-Witness-Quorum``: ``met; cosigned=2; needed=2; witnesses=2`` (or ``short``)."""
        state = "met" if self.met else "short"
        return (
            f"{state}; cosigned={len(self.cosigned)}; needed={self.needed}; "
            f"witnesses={len(self.witnesses)}"
        )

    def summary(self) -> str:
        """One line for logs and the check-run record (names and machine reasons only)."""
        text = (
            f"checkpoint {self.tree_size}: {len(self.cosigned)} of {len(self.witnesses)} "
            f"witnesses cosigned, {self.needed} needed"
        )
        reasons = {o.witness: o.reason for o in self.outcomes if not o.cosigned}
        if self.missing:
            text += "; missing " + ", ".join(
                f"{name} ({reasons[name]})" if name in reasons else name for name in self.missing
            )
        return text


def post(url: str, body: bytes, timeout: float) -> Reply:
    """POST an add-checkpoint body; never follows redirects, reads a bounded answer."""
    try:
        with requests.post(
            url, data=body, timeout=timeout, allow_redirects=False, stream=True,
            headers={"Content-Type": "text/plain", "User-Agent": USER_AGENT},
        ) as response:  # fmt: skip
            data = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            return Reply(response.status_code, data, response.headers.get("Content-Type", ""))
    except requests.RequestException:
        return Reply(0)


def cosignatures_for(session: Session, tree_size: int) -> list[LedgerCosignature]:
    """The stored cosignatures of the checkpoint at ``tree_size``, by witness name."""
    query = (
        select(LedgerCosignature)
        .where(LedgerCosignature.tree_size == tree_size)
        .order_by(LedgerCosignature.witness)
    )
    return list(session.scalars(query))


def quorum(settings: Settings, cosigned: Sequence[str], tree_size: int) -> CosignResult:
    """The quorum state of a checkpoint given the witnesses that cosigned it."""
    names = tuple(w.name for w in settings.witnesses)
    return CosignResult(
        tree_size, settings.witness_quorum_needed, names,
        tuple(n for n in names if n in set(cosigned)),
    )  # fmt: skip


@dataclasses.dataclass
class _Ask:
    witness: WitnessEndpoint
    old_size: int
    proofs: dict[int, list[bytes]]  # old size -> consistency proof to the checkpoint


def _last_cosigned(session: Session, name: str) -> int:
    size = session.scalar(
        select(func.max(LedgerCosignature.tree_size)).where(LedgerCosignature.witness == name)
    )
    return int(size or 0)


def request_cosignatures(
    session: Session,
    settings: Settings,
    checkpoint: LedgerCheckpoint,
    *,
    send: Post = post,
    runner: str = "hub",
) -> CosignResult:
    """Ask every witness without a cosignature on ``checkpoint`` for one; store and judge.

    Call it once the checkpoint is committed, with a session that has nothing pending: it
    commits its reads before contacting witnesses (no lock is held while waiting) and
    commits the cosignatures it stores. Never raises for a witness's failure: each is an
    :class:`Outcome` with a reason (``unreachable``, ``conflict``, ``refused``, ...).
    Short of quorum it logs ``witness_quorum_short`` and records a failed ``witness`` check
    run (the DPO console's ledger health); the first time the quorum is met again it
    records a passing one.
    """
    size, note = checkpoint.tree_size, checkpoint.note
    have = {c.witness for c in cosignatures_for(session, size)}
    asks = []
    for witness in settings.witnesses:
        if witness.name in have:
            continue
        old = _last_cosigned(session, witness.name)
        if old > size:
            continue  # it has cosigned a larger tree of ours already: nothing to add here
        asks.append(_Ask(witness, old, {old: store.consistency_proof(session, old, size)
                                        if old else []}))  # fmt: skip
    session.commit()
    outcomes: list[Outcome] = []
    lines: list[tuple[str, str, int]] = []
    for ask in asks:
        outcome, got = _ask(session, ask, size, note, send, settings.witness_timeout)
        outcomes.append(outcome)
        if got is not None:
            lines.append(got)
    if lines:
        rows = [{"tree_size": size, "witness": name, "line": text, "timestamp": timestamp,
                 "received_at": utcnow()} for name, text, timestamp in lines]  # fmt: skip
        make_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else (
            sqlite.insert
        )
        # Another caller (the worker, `hub log checkpoint`) may have stored one meanwhile.
        session.execute(make_insert(LedgerCosignature).values(rows).on_conflict_do_nothing(
            index_elements=["tree_size", "witness"]))  # fmt: skip
    session.commit()
    result = quorum(settings, sorted(have | {w for w, _, _ in lines}), size)
    result = dataclasses.replace(result, outcomes=tuple(outcomes))
    if not result.met:
        log.warning("witness_quorum_short", tree_size=size, cosigned=len(result.cosigned),
                    needed=result.needed, missing=list(result.missing),
                    reasons={o.witness: o.reason for o in outcomes if not o.cosigned})  # fmt: skip
    _record(session, result, runner)
    return result


def _record(session: Session, result: CosignResult, runner: str) -> None:
    """A failed ``witness`` run when short; a passing one when met after a failed one."""
    from hub.audit.health import last_run, record_run

    previous = last_run(session, WITNESS_CHECK)
    if result.met and (previous is None or previous.ok):
        return
    record_run(session, WITNESS_CHECK, utcnow(), result.met, result.tree_size, result.summary(),
               runner)  # fmt: skip
    session.commit()


def _ask(
    session: Session, ask: _Ask, size: int, note: str, send: Post, timeout: float
) -> tuple[Outcome, tuple[str, str, int] | None]:
    name, url = ask.witness.name, ask.witness.url + "/add-checkpoint"
    old = ask.old_size
    for _attempt in range(2):
        reply = send(url, build_request(old, ask.proofs[old], note), timeout)
        if reply.status == 409:
            known = parse_size_body(reply.body)
            if known is None or known == old:
                return Outcome(name, False, "conflict"), None
            if known > size:
                # It holds a larger tree than we have signed: ours, or someone's fork.
                return Outcome(name, False, "witness_ahead"), None
            try:
                ask.proofs[known] = store.consistency_proof(session, known, size) if known else []
            except LedgerError:  # the store cannot prove from there: we cannot help it
                return Outcome(name, False, "conflict"), None
            session.commit()
            old = known
            continue
        break
    else:
        return Outcome(name, False, "conflict"), None
    if reply.status == 0:
        return Outcome(name, False, "unreachable"), None
    if reply.status != 200:
        reason = {403: "bad_signature", 404: "unknown_log", 422: "refused"}.get(
            reply.status, f"http_{reply.status}"
        )
        return Outcome(name, False, reason), None
    text = note[: note.rfind("\n\n") + 1]
    try:
        body = reply.body.decode("utf-8")
        found = verify_cosignatures(text, body, [ask.witness.verifier_key])
    except (UnicodeDecodeError, CosignatureError):
        return Outcome(name, False, "bad_cosignature"), None
    if not found or len(reply.body) > MAX_ANSWER_BYTES:
        return Outcome(name, False, "bad_cosignature"), None
    return Outcome(name, True, "cosigned"), (name, found[0].line, found[0].timestamp)


class CosignTicker:
    """``hub worker``'s retry of missing cosignatures on the latest checkpoint.

    At most once per ``HUB_WITNESS_RETRY_INTERVAL`` seconds while the latest checkpoint is
    missing any witness's cosignature, and at once when a new checkpoint appears.
    """

    def __init__(self, settings: Settings, *, send: Post = post,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.settings = settings
        self.send = send
        self.clock = clock
        self._last: tuple[int, float] | None = None

    def __call__(self, sessions: Callable[[], Session]) -> CosignResult | None:
        if not self.settings.witnesses:
            return None
        with sessions() as session:
            latest = store.latest_checkpoint(session)
            if latest is None:
                return None
            cosigned = [c.witness for c in cosignatures_for(session, latest.tree_size)]
            if set(cosigned) >= {w.name for w in self.settings.witnesses}:
                return None
            now = self.clock()
            if self._last is not None and self._last[0] == latest.tree_size and (
                now - self._last[1] < self.settings.witness_retry_interval
            ):
                return None
            self._last = (latest.tree_size, now)
            return request_cosignatures(session, self.settings, latest, send=self.send,
                                        runner="worker")  # fmt: skip
