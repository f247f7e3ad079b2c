"""Ledger health: the latest checkpoint, the last consistency check, the last full verify.

Shown as green / amber / red lights in the manner of X-Road's diagnostics page: each light
says what was checked, when it last ran, and when it is next due. Runs are recorded in
``ledger_check_runs`` by whoever ran them (``hub worker`` periodically, ``hub log verify``,
or the console), so the page reads history and never re-runs a long check itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.audit.models import LedgerCheckRun
from hub.db import utcnow
from hub.ledger import fsck, store, verify
from hub.ledger.models import LedgerCheckpoint

FULL, CONSISTENCY, INCREMENTAL, WITNESS = "full", "consistency", "incremental", "witness"
VERIFICATIONS = (FULL, INCREMENTAL)
GREEN, AMBER, RED = "green", "amber", "red"


@dataclasses.dataclass(frozen=True)
class Light:
    """One diagnostics row."""

    name: str
    state: str
    summary: str
    last: dt.datetime | None
    next_due: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses the hub asks (names) and how many must cosign (k of n)."""

    names: tuple[str, ...]
    needed: int


@dataclasses.dataclass(frozen=True)
class Health:
    """The ledger health page."""

    size: int
    lights: list[Light]
    runs: list[LedgerCheckRun]
    checkpoint_size: int | None
    checkpoint_age: dt.timedelta | None
    # Checkpoints with fewer cosignatures than the witness quorum (None: no witnesses set).
    short_of_quorum: int | None = None

    @property
    def overall(self) -> str:
        states = {light.state for light in self.lights}
        return RED if RED in states else AMBER if AMBER in states else GREEN


def record_run(
    session: Session, kind: str, started: dt.datetime, ok: bool, size: int, detail: str,
    runner: str,
) -> LedgerCheckRun:  # fmt: skip
    run = LedgerCheckRun(
        kind=kind, started_at=started, finished_at=utcnow(), ok=ok, tree_size=size,
        detail=detail[:500], runner=runner,
    )  # fmt: skip
    session.add(run)
    session.flush()
    return run


def run_full_verification(session: Session, verifier_key: str, runner: str) -> LedgerCheckRun:
    """Verify everything (:func:`hub.ledger.verify.verify_ledger` and the projection); record it.

    The record is added to the session; the caller commits (after the read-only walk, so a
    long verification holds no write lock).
    """
    started = utcnow()
    try:
        report = verify.verify_ledger(session, verifier_key)
        fsck.check_projection(session, report.size)
    except verify.VerificationError as exc:
        return record_run(session, FULL, started, False, store.tree_size(session), str(exc), runner)
    detail = f"{report.size} entries and {report.checkpoints} checkpoints verified"
    return record_run(session, FULL, started, True, report.size, detail, runner)


def run_consistency_check(session: Session, verifier_key: str, runner: str) -> LedgerCheckRun:
    """Latest checkpoint: signature, root against the stored tree, consistency with the last."""
    started = utcnow()
    checkpoints = store.all_checkpoints(session)
    size = store.tree_size(session)
    if not checkpoints:
        return record_run(session, CONSISTENCY, started, True, size, "no checkpoint yet", runner)
    latest = checkpoints[-1]
    try:
        body = verify.verify_checkpoint(latest.note, verifier_key)
        if store.stored_root(session, body.size) != body.root_hash:
            raise verify.VerificationError("the stored tree does not match the checkpoint root")
        if len(checkpoints) > 1:
            previous = verify.verify_checkpoint(checkpoints[-2].note, verifier_key)
            proof = store.consistency_proof(session, previous.size, body.size)
            verify.verify_consistency(previous, body, proof)
    except verify.VerificationError as exc:
        return record_run(session, CONSISTENCY, started, False, size, str(exc), runner)
    detail = f"checkpoint at size {body.size} signed, matches the tree"
    if len(checkpoints) > 1:
        detail += f" and extends size {checkpoints[-2].tree_size}"
    return record_run(session, CONSISTENCY, started, True, size, detail, runner)


def last_run(session: Session, kind: str) -> LedgerCheckRun | None:
    """The most recent recorded run of ``kind``."""
    query = (
        select(LedgerCheckRun)
        .where(LedgerCheckRun.kind == kind)
        .order_by(LedgerCheckRun.finished_at.desc(), LedgerCheckRun.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def incremental_start(session: Session) -> int:
    """Where a routine (incremental) verification may begin: the largest checkpoint an
    earlier successful run verified, or 0 (verify everything) when there is none or when
    the most recent verification failed (a known-bad ledger is re-checked in full)."""
    query = (
        select(LedgerCheckRun)
        .where(LedgerCheckRun.kind.in_(VERIFICATIONS))
        .order_by(LedgerCheckRun.finished_at.desc(), LedgerCheckRun.id.desc())
        .limit(1)
    )
    run = session.scalars(query).first()
    if run is None or not run.ok:
        return 0
    sizes = select(func.max(LedgerCheckpoint.tree_size)).where(
        LedgerCheckpoint.tree_size <= run.tree_size
    )
    return int(session.execute(sizes).scalar() or 0)


def is_due(session: Session, kind: str, interval: int, now: dt.datetime | None = None) -> bool:
    """Whether a periodic run of ``kind`` is due (interval 0: never)."""
    if interval <= 0:
        return False
    run = last_run(session, kind)
    now = now or utcnow()
    return run is None or (now - run.finished_at).total_seconds() >= interval


def _verification_run(session: Session) -> LedgerCheckRun | None:
    """The last full verification, unless a later incremental run failed (that one shows)."""
    full, incremental = last_run(session, FULL), last_run(session, INCREMENTAL)
    if incremental is not None and not incremental.ok and (
        full is None or incremental.finished_at >= full.finished_at
    ):
        return incremental
    return full


def _run_light(
    name: str, run: LedgerCheckRun | None, interval: int, now: dt.datetime
) -> Light:
    if run is None:
        return Light(name, AMBER, "never run", None, now if interval else None)
    next_due = run.finished_at + dt.timedelta(seconds=interval) if interval else None
    if not run.ok:
        return Light(name, RED, f"FAILED: {run.detail}", run.finished_at, next_due)
    late = interval and (now - run.finished_at).total_seconds() > 2 * interval
    state = AMBER if late else GREEN
    summary = run.detail + (" (overdue: is hub worker running?)" if late else "")
    return Light(name, state, summary, run.finished_at, next_due)


def ledger_health(
    session: Session,
    verifier_key: str,
    *,
    checkpoint_interval: int,
    consistency_interval: int,
    verify_interval: int,
    witnesses: WitnessPolicy | None = None,
    now: dt.datetime | None = None,
) -> Health:
    """The diagnostics page: three lights (four with witnesses) and the recent runs."""
    now = now or utcnow()
    size = store.tree_size(session)
    latest = store.latest_checkpoint(session)
    if latest is None:
        state = AMBER if size else GREEN
        checkpoint = Light("Latest checkpoint", state, "no checkpoint signed yet", None, None)
        age = None
    else:
        age = now - latest.created_at
        try:
            body = verify.verify_checkpoint(latest.note, verifier_key)
            signed = body.size == latest.tree_size and body.root_hash == bytes(latest.root_hash)
        except verify.VerificationError:
            signed = False
        unsigned = size - latest.tree_size
        if not signed:
            checkpoint = Light(
                "Latest checkpoint", RED, "signature does not verify", latest.created_at, None
            )
        else:
            stale = unsigned > 0 and age.total_seconds() > 2 * checkpoint_interval
            summary = f"size {latest.tree_size:,}, signature verified"
            summary += f", {unsigned:,} newer entries not yet signed" if unsigned else ""
            checkpoint = Light(
                "Latest checkpoint", AMBER if stale else GREEN, summary, latest.created_at,
                latest.created_at + dt.timedelta(seconds=checkpoint_interval),
            )  # fmt: skip
    runs = list(
        session.scalars(
            select(LedgerCheckRun).order_by(LedgerCheckRun.finished_at.desc()).limit(20)
        )
    )
    lights = [
        checkpoint,
        _run_light(
            "Consistency check", last_run(session, CONSISTENCY), consistency_interval, now
        ),
        _run_light("Full verification", _verification_run(session), verify_interval, now),
    ]
    short = None
    if witnesses is not None and witnesses.names:
        lights.append(witness_light(session, witnesses, latest))
        short = checkpoints_short_of_quorum(session, witnesses)
    return Health(size, lights, runs, latest.tree_size if latest else None, age, short)


def checkpoints_short_of_quorum(session: Session, policy: WitnessPolicy) -> int:
    """How many checkpoints since witnessing began (the first one any witness cosigned;
    the latest alone until then) have fewer than ``policy.needed`` cosignatures by the
    configured witnesses. An older checkpoint short of quorum stays counted: nobody
    vouched that the history it shows was shown to everyone."""
    from hub.witness.models import LedgerCosignature

    first = session.scalar(select(func.min(LedgerCosignature.tree_size)))
    if first is None:
        first = session.scalar(select(func.max(LedgerCheckpoint.tree_size)))
        if first is None:
            return 0

    counted = (
        select(func.count())
        .where(LedgerCosignature.tree_size == LedgerCheckpoint.tree_size)
        .where(LedgerCosignature.witness.in_(policy.names))
        .scalar_subquery()
    )
    query = (
        select(func.count())
        .select_from(LedgerCheckpoint)
        .where(LedgerCheckpoint.tree_size >= first)
        .where(counted < policy.needed)
    )
    return int(session.scalar(query) or 0)


def witness_light(
    session: Session, policy: WitnessPolicy, latest: LedgerCheckpoint | None
) -> Light:
    """Green: every witness cosigned the latest checkpoint; amber: quorum met, some
    missing; red: short of quorum. Names the missing witnesses and, from the last
    ``witness`` run for that checkpoint, why each is missing."""
    from hub.witness.collect import cosignatures_for

    name = "Witness cosignatures"
    if latest is None:
        return Light(name, GREEN, "no checkpoint to cosign yet", None, None)
    size = latest.tree_size
    rows = [c for c in cosignatures_for(session, size) if c.witness in policy.names]
    have = {c.witness for c in rows}
    missing = [n for n in policy.names if n not in have]
    summary = (
        f"checkpoint {size:,}: {len(have)} of {len(policy.names)} witnesses cosigned, "
        f"{policy.needed} needed"
    )
    if missing:
        summary += "; missing " + ", ".join(missing)
        run = last_run(session, WITNESS)
        if run is not None and run.tree_size == size and not run.ok:
            summary += f" (last attempt: {run.detail})"
    last = max((c.received_at for c in rows), default=None)
    if len(have) < policy.needed:
        return Light(name, RED, "SHORT OF QUORUM: " + summary, last, None)
    return Light(name, AMBER if missing else GREEN, summary, last, None)




def tick_checks(
    sessions: Callable[[], Session],
    verifier_key: str,
    *,
    verify_interval: int,
    consistency_interval: int,
    runner: str = "worker",
) -> list[LedgerCheckRun]:
    """Run whichever periodic check is due, each in its own session; return the runs."""
    done = []
    for kind, interval, check in (
        (CONSISTENCY, consistency_interval, run_consistency_check),
        (FULL, verify_interval, run_full_verification),
    ):
        with sessions() as session:
            if is_due(session, kind, interval):
                run = check(session, verifier_key, runner)
                session.commit()
                done.append(run)
    return done
