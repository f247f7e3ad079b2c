"""Agreement files on disk, checked against the partners and keys declared beside them.

Used by ``hub agreements verify`` and ``list``: they judge the files in the project (what
is about to be loaded), not the database, so two agencies can check a draft before sync.
"""

from __future__ import annotations

from pathlib import Path

from hub.db import utcnow
from hub.policy import PolicyError, VerifyReport, load_policy, verify_agreement_file
from hub.settings import Settings


class AgreementFileError(RuntimeError):
    """The policies cannot be read at all (a catalogue or partner file is broken)."""


def verify_file(settings: Settings, path: Path) -> VerifyReport:
    """Validate, verify signatures, dates and supersession of one agreement file."""
    try:
        policy = load_policy(settings.root)
        others = [r for r in policy.agreements if Path(r.agreement.source) != path.resolve()]
        return verify_agreement_file(
            path.resolve(), policy.catalogues, policy.partners, policy.keys, utcnow(), others
        )
    except PolicyError as exc:
        raise AgreementFileError(str(exc)) from None


def list_files(settings: Settings) -> list[str]:
    """One line per agreement: id, version, status, review date, parties."""
    try:
        policy = load_policy(settings.root)
    except PolicyError as exc:
        raise AgreementFileError(str(exc)) from None
    now = utcnow()
    statuses = policy.statuses(now)
    lines = []
    for reg in policy.agreements:
        agreement = reg.agreement
        status = statuses[(agreement.id, agreement.version)]
        overdue = " (review overdue)" if agreement.review_by < now.date() else ""
        parties = ", ".join(p.id for p in agreement.parties)
        lines.append(
            f"{agreement.id:<32} v{agreement.version:<3} {status.status:<18} "
            f"review by {agreement.review_by.isoformat()}{overdue}  [{parties}]"
        )
    return lines
