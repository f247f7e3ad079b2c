"""MARAC definitions in ``policies/maracs/<id>.toml``, checked and loaded by ``hub sync``.

A definition names the co-ordinating partner, the members (``core`` or ``children_only``),
the agreement(s) the MARAC shares under and the purpose of each step. It is checked against
the agreements being loaded: every member is a party, and each step's purpose has flows in
the right direction. Whether a member is perpetrator-facing is not declared here: it is
read from the agreement (``hub.policy.validate.is_perpetrator_facing``, failing closed by
partner type) and stored with the member, so the services never send such a member anything.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.marac.models import MEMBER_KINDS, Marac
from hub.policy import RegisteredAgreement
from hub.policy.partner_info import PartnerInfo
from hub.policy.validate import is_perpetrator_facing

STEPS = ("circulation", "research_return", "action_update")
_ID = re.compile(r"[a-z0-9][a-z0-9\-]{0,63}")
_PREFIX = re.compile(r"[A-Z]{2,6}")


class MaracFileError(ValueError):
    """A MARAC definition is malformed or does not match the agreements."""


@dataclasses.dataclass(frozen=True)
class MaracDeclaration:
    id: str
    name: str
    coordinator: str
    case_prefix: str
    agreements: tuple[str, ...]
    referral_purposes: tuple[str, ...]
    purposes: Mapping[str, str]  # step -> purpose
    members: tuple[dict[str, Any], ...]  # {partner, kind, perpetrator_facing}

    def row_values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "coordinator_id": self.coordinator,
            "case_prefix": self.case_prefix,
            "agreement_ids": list(self.agreements),
            "members": [dict(m) for m in self.members],
            "purposes": {"referral": list(self.referral_purposes), **self.purposes},
        }


def read_marac_dir(
    policies_dir: Path,
    agreements: Sequence[RegisteredAgreement],
    partners: Mapping[str, PartnerInfo],
) -> list[MaracDeclaration]:
    """Every ``policies/maracs/*.toml``, checked; raises :class:`MaracFileError`."""
    by_id = {reg.agreement.id: reg.agreement for reg in agreements}
    found = []
    for path in sorted((policies_dir / "maracs").glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MaracFileError(f"{path}: {exc}") from None
        found.append(_declaration(path, raw, by_id, partners))
    ids = [d.id for d in found]
    if len(set(ids)) != len(ids):
        raise MaracFileError("policies/maracs: two files declare the same MARAC id")
    return found


def _text(path: Path, raw: Mapping[str, Any], key: str, pattern: re.Pattern[str] | None) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value or (pattern and not pattern.fullmatch(value)):
        raise MaracFileError(f"{path}: {key} must be a string of the expected form")
    return value


def _declaration(
    path: Path,
    raw: Mapping[str, Any],
    agreements: Mapping[str, Any],
    partners: Mapping[str, PartnerInfo],
) -> MaracDeclaration:
    unknown = set(raw) - {
        "id",
        "name",
        "coordinator",
        "case_prefix",
        "agreements",
        "purposes",
        "members",
    }
    if unknown:
        raise MaracFileError(f"{path}: unknown keys {sorted(unknown)}")
    marac_id = _text(path, raw, "id", _ID)
    if path.stem != marac_id:
        raise MaracFileError(f"{path}: id {marac_id!r} must match the file name")
    coordinator = _text(path, raw, "coordinator", None)
    names = raw.get("agreements")
    if not isinstance(names, list) or not names or not all(n in agreements for n in names):
        raise MaracFileError(f"{path}: agreements must list agreements being loaded")
    used = [agreements[n] for n in names]
    purposes = raw.get("purposes")
    if not isinstance(purposes, dict):
        raise MaracFileError(f"{path}: [purposes] is required")
    referral = purposes.get("referral")
    if isinstance(referral, str):
        referral = [referral]
    if not isinstance(referral, list) or not referral:
        raise MaracFileError(f"{path}: purposes.referral must name a purpose")
    steps = {step: purposes.get(step) for step in STEPS}
    if not all(isinstance(p, str) and p for p in steps.values()):
        raise MaracFileError(f"{path}: purposes needs {', '.join(STEPS)}")
    members = raw.get("members")
    if not isinstance(members, list) or not members:
        raise MaracFileError(f"{path}: at least one [[members]] is required")
    declared = []
    for member in members:
        partner = member.get("partner") if isinstance(member, dict) else None
        kind = member.get("kind", "core") if isinstance(member, dict) else None
        if not isinstance(partner, str) or partner not in partners or kind not in MEMBER_KINDS:
            raise MaracFileError(f"{path}: member {partner!r}: unknown partner or kind")
        if not any(partner in a.party_ids for a in used):
            raise MaracFileError(f"{path}: member {partner!r} is party to none of the agreements")
        # Facing in any of the MARAC's agreements is facing (fail closed).
        facing = any(
            partner in a.party_ids and is_perpetrator_facing(a, partners[partner]) for a in used
        )
        declared.append({"partner": partner, "kind": kind, "perpetrator_facing": facing})
    if coordinator not in {m["partner"] for m in declared}:
        raise MaracFileError(f"{path}: the coordinator must be one of the members")
    if any(m["perpetrator_facing"] for m in declared if m["partner"] == coordinator):
        raise MaracFileError(f"{path}: a perpetrator-facing partner cannot co-ordinate a MARAC")
    flows = [f for a in used for f in a.flows]
    for purpose in referral:
        if not any(f.purpose == purpose and f.recipient == coordinator for f in flows):
            raise MaracFileError(f"{path}: no flow to the coordinator for {purpose!r}")
    if not any(f.purpose == steps["circulation"] and f.sender == coordinator for f in flows):
        raise MaracFileError(f"{path}: no flow from the coordinator for the circulation")
    for step in ("research_return", "action_update"):
        if not any(f.purpose == steps[step] and f.recipient == coordinator for f in flows):
            raise MaracFileError(f"{path}: no flow to the coordinator for {step}")
    return MaracDeclaration(
        id=marac_id,
        name=_text(path, raw, "name", None),
        coordinator=coordinator,
        case_prefix=_text(path, raw, "case_prefix", _PREFIX),
        agreements=tuple(names),
        referral_purposes=tuple(referral),
        purposes={k: str(v) for k, v in steps.items()},
        members=tuple(declared),
    )


@dataclasses.dataclass
class MaracChanges:
    added: list[str] = dataclasses.field(default_factory=list)
    changed: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    deactivated: list[str] = dataclasses.field(default_factory=list)

    def report(self) -> list[str]:
        return [
            f"maracs: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.deactivated)} deactivated"
        ]


def sync_maracs(session: Session, declarations: Sequence[MaracDeclaration]) -> MaracChanges:
    """Make the ``maracs`` table match the files (flushes, never commits).

    A MARAC whose file is gone is deactivated, never deleted: its cases and meetings stay.
    """
    changes = MaracChanges()
    existing = {m.id: m for m in session.scalars(select(Marac))}
    now = utcnow()
    for declaration in declarations:
        values = declaration.row_values()
        row = existing.pop(declaration.id, None)
        if row is None:
            session.add(Marac(id=declaration.id, active=True, updated_at=now, **values))
            changes.added.append(declaration.id)
            continue
        current = {k: getattr(row, k) for k in values}
        if current == values and row.active:
            changes.unchanged.append(declaration.id)
            continue
        for key, value in values.items():
            setattr(row, key, value)
        row.active = True
        row.updated_at = now
        changes.changed.append(declaration.id)
    for row in existing.values():
        if row.active:
            row.active = False
            row.updated_at = now
            changes.deactivated.append(row.id)
    session.flush()
    return changes
