"""The few facts about a partner that the law turns on (``policies/partners/*.toml``).

The policy engine needs only the legal flags: whether the partner is a *relevant authority*
for s115 Crime and Disorder Act 1998, a *competent authority* for DPA 2018 Part 3, and a
*public authority* (which bars UK GDPR Art 6(1)(ea)); plus its type, because a processor
(``contractor``) and the s16 PCSC Act 2022 exclusions depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.policy.catalogue import read_toml
from hub.policy.errors import PolicyFileError

PARTNER_TYPES = (
    "police",
    "youth_offending",
    "childrens_services",
    "prison",
    "probation",
    "victim_service",
    "voluntary_provider",
    "local_authority",
    "marac",
    "education",
    "housing",
    "health",
    "contractor",
)
# Partners whose work is with the person causing harm. High privacy default: a WHERE field
# (refuge, secret address) never goes to them unless the agreement says otherwise.
PERPETRATOR_FACING_TYPES = frozenset({"probation", "prison", "youth_offending"})


@dataclass(frozen=True)
class PartnerInfo:
    """The partner facts ``validate`` and ``decide`` need; the DB layer builds these too."""

    id: str
    name: str
    type: str
    relevant_authority: bool
    competent_authority: bool
    public_authority: bool

    def flag(self, name: str) -> bool:
        """The value of one legal flag by name (as used in ``lawful_bases.toml``)."""
        return bool(getattr(self, name))


def load_partner(path: Path) -> PartnerInfo:
    """Read one ``policies/partners/<id>.toml``."""
    raw = read_toml(path)
    for key in ("id", "name", "type"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise PolicyFileError(path, key, "a non-empty string is required")
    if raw["type"] not in PARTNER_TYPES:
        raise PolicyFileError(path, "type", f"must be one of {', '.join(PARTNER_TYPES)}")
    if raw["id"] != path.stem:
        raise PolicyFileError(path, "id", f"must match the file name {path.stem!r}")
    flags = {}
    for key in ("relevant_authority", "competent_authority", "public_authority"):
        if not isinstance(raw.get(key), bool):
            raise PolicyFileError(path, key, "must be true or false")
        flags[key] = raw[key]
    return PartnerInfo(id=raw["id"], name=raw["name"], type=raw["type"], **flags)


def load_partners(partners_dir: Path) -> dict[str, PartnerInfo]:
    """Every partner file in ``policies/partners/``, keyed by id."""
    return {p.id: p for p in (load_partner(f) for f in sorted(partners_dir.glob("*.toml")))}
