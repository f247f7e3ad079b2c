"""Statutory roles and purpose codes (``[roles.*]`` and ``[purposes.*]`` of lawful_bases.toml).

A gateway's parties are named in its statute by what they *are* (s115(2) CDA 1998 lists
"relevant authorities", s16(2) PCSC 2022 lists specified, educational, prison and youth custody
authorities...). Partner files declare the roles they hold; each role documents its statute and
the legal flags it implies, so the flags other code reads (``relevant_authority``,
``competent_authority``, ``public_authority``) are derived from the law rather than asserted.
Purposes are codes, each with its statute, so a gateway can say which purposes it serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.policy.errors import PolicyFileError

LEGAL_FLAGS = ("relevant_authority", "competent_authority", "public_authority")


@dataclass(frozen=True)
class Role:
    """A statutory role: what a body is in law, with the statute that says so."""

    name: str
    statute: str
    description: str
    implies: frozenset[str]


@dataclass(frozen=True)
class Purpose:
    """A purpose code; ``law_enforcement`` marks a DPA 2018 s31 purpose."""

    code: str
    description: str
    statute: str
    law_enforcement: bool


def _text(path: Path | str, where: str, raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise PolicyFileError(path, f"{where}.{key}", "a non-empty string is required")
    return value


def _flag(path: Path | str, where: str, raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise PolicyFileError(path, f"{where}.{key}", "must be true or false")
    return value


def _tables(path: Path | str, doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    raw = doc.get(key)
    if not isinstance(raw, dict) or not raw:
        raise PolicyFileError(path, key, f"expected a non-empty [{key}.<name>] table")
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise PolicyFileError(path, f"{key}.{name}", "must be a table")
    return raw


def load_roles(path: Path | str, doc: Mapping[str, Any]) -> dict[str, Role]:
    """The ``[roles.<role>]`` tables of a parsed lawful_bases.toml."""
    roles = {}
    for name, raw in _tables(path, doc, "roles").items():
        where = f"roles.{name}"
        unknown = set(raw) - {"statute", "description", "implies"}
        if unknown:
            raise PolicyFileError(path, where, f"unknown keys {sorted(unknown)}")
        implies = raw.get("implies", [])
        if not isinstance(implies, list) or any(flag not in LEGAL_FLAGS for flag in implies):
            raise PolicyFileError(
                path, f"{where}.implies", f"must list flags from {', '.join(LEGAL_FLAGS)}"
            )
        roles[name] = Role(
            name=name,
            statute=_text(path, where, raw, "statute"),
            description=_text(path, where, raw, "description"),
            implies=frozenset(implies),
        )
    return roles


def load_purposes(path: Path | str, doc: Mapping[str, Any]) -> dict[str, Purpose]:
    """The ``[purposes.<code>]`` tables of a parsed lawful_bases.toml."""
    purposes = {}
    for code, raw in _tables(path, doc, "purposes").items():
        where = f"purposes.{code}"
        unknown = set(raw) - {"description", "statute", "law_enforcement"}
        if unknown:
            raise PolicyFileError(path, where, f"unknown keys {sorted(unknown)}")
        purposes[code] = Purpose(
            code=code,
            description=_text(path, where, raw, "description"),
            statute=_text(path, where, raw, "statute"),
            law_enforcement=_flag(path, where, raw, "law_enforcement"),
        )
    return purposes


def implied_flags(roles: Iterable[str], catalogue: Mapping[str, Role]) -> dict[str, bool]:
    """The legal flags a set of roles implies (unknown roles imply nothing)."""
    held: set[str] = set()
    for role in roles:
        if role in catalogue:
            held |= catalogue[role].implies
    return {flag: flag in held for flag in LEGAL_FLAGS}


def role_flag_problems(
    roles: Iterable[str], flags: Mapping[str, bool], catalogue: Mapping[str, Role]
) -> list[str]:
    """Why a partner's declared roles and flags disagree (empty: they agree).

    The flags stay in partner files because other code reads them; the roles are the law,
    so a flag that says more or less than the roles is an error, not a preference.
    """
    roles = list(roles)
    problems = [f"unknown statutory role {role!r}" for role in roles if role not in catalogue]
    if not roles:
        return problems
    for flag, implied in implied_flags(roles, catalogue).items():
        if flag in flags and flags[flag] != implied:
            because = (
                "no declared role implies it" if not implied else "its statutory roles imply it"
            )
            problems.append(
                f"{flag} = {str(flags[flag]).lower()} disagrees with statutory_roles ({because})"
            )
    return problems
