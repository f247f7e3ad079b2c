"""Whether an agreement is in force, and every reason it is not.

An agreement is in force only when every party has signed with a key registered to
it, the signatures verify, today is inside its dates, and it is neither suspended nor
terminated. We add two fail-closed conditions: it passes the validator, and no newer
version has taken its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.policy.agreement import Agreement, parse_agreement
from hub.policy.catalogue import Catalogues
from hub.policy.partner_info import PartnerInfo
from hub.policy.signatures import SignatureResult, agreement_digest, verify_signatures
from hub.policy.validate import Problem, validate_agreement

# Most decisive first: the status reported is the first that applies; reasons list them all.
STATUS_ORDER = (
    "terminated",
    "superseded",
    "invalid",
    "draft",
    "suspended",
    "not_yet_in_force",
    "expired",
)


@dataclass(frozen=True)
class RegisteredAgreement:
    """An agreement with everything that does not depend on the clock already checked."""

    agreement: Agreement
    document: Mapping[str, Any]
    digest: str
    signatures: tuple[SignatureResult, ...]
    problems: tuple[Problem, ...]

    @property
    def fully_signed(self) -> bool:
        """Every party has a verifying signature made with a key registered to it."""
        ok = {s.party for s in self.signatures if s.ok}
        return self.agreement.party_ids <= ok

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Validator problems that refuse the agreement."""
        return tuple(p for p in self.problems if p.severity == "error")


def register_agreement(
    document: Mapping[str, Any],
    signatures: Mapping[str, Any] | list[Any],
    catalogues: Catalogues,
    partners: Mapping[str, PartnerInfo],
    keys_by_partner: Mapping[str, Mapping[str, Any]],
    source: str = "<agreement>",
) -> RegisteredAgreement:
    """Parse, validate and verify one agreement (raises PolicyFileError if unparseable)."""
    agreement = parse_agreement(document, source)
    return RegisteredAgreement(
        agreement=agreement,
        document=document,
        digest=agreement_digest(document),
        signatures=verify_signatures(document, signatures, keys_by_partner),
        problems=tuple(validate_agreement(agreement, catalogues, partners)),
    )


@dataclass(frozen=True)
class StatusReason:
    """A machine code and a human sentence (no personal data: agreements hold none)."""

    code: str
    message: str


@dataclass(frozen=True)
class AgreementStatus:
    """The status at a moment, with every reason and warning."""

    status: str  # in_force or one of STATUS_ORDER
    reasons: tuple[StatusReason, ...]
    warnings: tuple[StatusReason, ...]

    @property
    def in_force(self) -> bool:
        """True only when nothing stands in the way."""
        return self.status == "in_force"


def _effective(reg: RegisteredAgreement, today: dt.date) -> bool:
    a = reg.agreement
    return (
        reg.fully_signed
        and not reg.errors
        and a.status != "terminated"
        and a.effective_from <= today
    )


def _superseded_by(
    reg: RegisteredAgreement, others: Iterable[RegisteredAgreement], today: dt.date
) -> RegisteredAgreement | None:
    a = reg.agreement
    names = {a.id, f"{a.id}@{a.version}"}
    for other in others:
        o = other.agreement
        newer = (o.id == a.id and o.version > a.version) or (o.id != a.id and o.supersedes in names)
        if newer and _effective(other, today):
            return other
    return None


def agreement_status(
    reg: RegisteredAgreement,
    now: dt.datetime | dt.date,
    others: Iterable[RegisteredAgreement] = (),
) -> AgreementStatus:
    """The status of ``reg`` at ``now`` (dates compare with ``now``'s calendar date)."""
    a = reg.agreement
    today = now.date() if isinstance(now, dt.datetime) else now
    found: dict[str, list[StatusReason]] = {}

    def add(status: str, code: str, message: str) -> None:
        found.setdefault(status, []).append(StatusReason(code, message))

    label = f"agreement {a.id} v{a.version}"
    if a.status == "terminated":
        add("terminated", "terminated", f"{label} has been terminated")
    newer = _superseded_by(reg, others, today)
    if newer is not None:
        add(
            "superseded",
            "superseded",
            f"{label} is superseded by {newer.agreement.id} v{newer.agreement.version}",
        )
    for problem in reg.errors:
        add(
            "invalid",
            "invalid",
            f"{label} fails validation: {problem.path}: {problem.message} "
            f"[{problem.code}; {problem.citation}]",
        )
    stray = []
    for sig in reg.signatures:
        if sig.code == "not_a_party":  # a stranger's signature adds nothing and takes nothing
            stray.append(StatusReason(f"signature_{sig.code}", f"{label}: {sig.detail}"))
        elif not sig.ok:
            add("draft", f"signature_{sig.code}", f"{label}: {sig.detail}")
    if a.status == "suspended":
        add("suspended", "suspended", f"{label} is suspended")
    if today < a.effective_from:
        add(
            "not_yet_in_force",
            "not_yet_in_force",
            f"{label} comes into force on {a.effective_from}",
        )
    if a.effective_to is not None and today > a.effective_to:
        add("expired", "expired", f"{label} expired on {a.effective_to}")
    warnings = stray + [
        StatusReason(p.code, f"{p.path}: {p.message} [{p.citation}]")
        for p in reg.problems
        if p.severity == "warning"
    ]
    if today > a.review_by:
        warnings.append(
            StatusReason("review_overdue", f"{label} was due for review on {a.review_by}")
        )
    status = next((s for s in STATUS_ORDER if s in found), "in_force")
    reasons = tuple(r for s in STATUS_ORDER for r in found.get(s, []))
    return AgreementStatus(status, reasons, tuple(warnings))
