"""The few facts about a partner that the law turns on (``policies/partners/*.toml``).

The policy engine needs the partner's *statutory roles* (``statutory_roles = [...]``, the
vocabulary of ``[roles.*]`` in lawful_bases.toml, named after the statutes' own lists of who may
disclose and receive), and the legal flags other code reads: whether the partner is a
*relevant authority* for s115 Crime and Disorder Act 1998, a *competent authority* for DPA 2018
Part 3, and a *public authority* (which bars UK GDPR Art 6(1)(ea)). The flags must agree with
the roles (``vocabulary.role_flag_problems``). Its type still decides processor status
(``contractor``) and the perpetrator-facing default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.policy.catalogue import read_toml
from hub.policy.errors import PolicyFileError
from hub.policy.vocabulary import LEGAL_FLAGS, Role, role_flag_problems

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
    statutory_roles: tuple[str, ...] = ()

    def flag(self, name: str) -> bool:
        """The value of one legal flag by name (as used in ``lawful_bases.toml``)."""
        return bool(getattr(self, name))

    def holds_any(self, roles: tuple[str, ...]) -> bool:
        """Whether the partner holds at least one of ``roles``."""
        return bool(set(self.statutory_roles) & set(roles))


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
    roles = raw.get("statutory_roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        raise PolicyFileError(path, "statutory_roles", "must be a list of role names")
    return PartnerInfo(
        id=raw["id"], name=raw["name"], type=raw["type"], statutory_roles=tuple(roles), **flags
    )


def check_roles(path: Path | str, partner: PartnerInfo, roles: Mapping[str, Role]) -> None:
    """Refuse a partner whose roles are unknown or whose flags disagree with its roles."""
    flags = {k: partner.flag(k) for k in LEGAL_FLAGS}
    problems = role_flag_problems(partner.statutory_roles, flags, roles)
    if problems:
        raise PolicyFileError(path, "statutory_roles", "; ".join(problems))


def load_partners(
    partners_dir: Path, roles: Mapping[str, Role] | None = None
) -> dict[str, PartnerInfo]:
    """Every partner file in ``policies/partners/``, keyed by id (roles checked if given)."""
    found = {}
    for path in sorted(partners_dir.glob("*.toml")):
        partner = load_partner(path)
        if roles is not None:
            check_roles(path, partner, roles)
        found[partner.id] = partner
    return found
