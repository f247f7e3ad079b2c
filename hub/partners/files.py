"""Reading and writing partner declarations: ``policies/partners/<id>.toml`` + JWKS.

Policy is code reviewed in git (docs/architecture.md): these files are the source of truth and the
database is loaded from them. Every error names the file and, where it can, the line.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.oauth.scopes import DEFAULT_PARTNER_SCOPES, SCOPES
from hub.partners.keys import KeyFileError, read_jwks
from hub.partners.models import PARTNER_TYPES
from hub.policy.errors import PolicyFileError
from hub.policy.vocabulary import LEGAL_FLAGS, Role, load_roles, role_flag_problems

PARTNER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
_FIELDS = {
    "id": str,
    "name": str,
    "type": str,
    "relevant_authority": bool,
    "competent_authority": bool,
    "public_authority": bool,
    "webhook_url": str,
    "scopes": list,
    "active": bool,
    # Single sign-on for the partner's people; checked by hub.people.single_sign_on.
    "sso": dict,
    "statutory_roles": list,
}
_REQUIRED = ("id", "name", "type", "relevant_authority", "competent_authority", "public_authority")


class PartnerFileError(ValueError):
    """A partner declaration that cannot be loaded; ``str()`` is ``file:line: problem``."""


@dataclasses.dataclass(frozen=True)
class PartnerDeclaration:
    """One partner as declared in git."""

    id: str
    name: str
    type: str
    relevant_authority: bool
    competent_authority: bool
    public_authority: bool
    jwks: dict[str, Any]
    webhook_url: str | None = None
    scopes: tuple[str, ...] = DEFAULT_PARTNER_SCOPES
    active: bool = True
    # Statutory roles (lawful_bases.toml [roles.*]): what the gateways' parties rules read.
    statutory_roles: tuple[str, ...] = ()

    @property
    def demo_only(self) -> bool:
        return bool(self.jwks.get("demo_only"))

    def record(self) -> dict[str, Any]:
        """The JSON-compatible record whose digest tells whether anything changed."""
        data = dataclasses.asdict(self)
        data["scopes"] = list(self.scopes)
        data["statutory_roles"] = list(self.statutory_roles)
        return data


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _fail(path: Path, text: str, key: str | None, problem: str) -> PartnerFileError:
    line = _line_of(text, key) if key else None
    where = f"{path}:{line}" if line else str(path)
    return PartnerFileError(f"{where}: {problem}")


def _role_catalogue(policies_dir: Path) -> Mapping[str, Role]:
    """The statutory roles of ``lawful_bases.toml`` (none if the catalogue is unreadable:
    the agreement load reports that file's problem with its own message)."""
    try:
        path = policies_dir / "lawful_bases.toml"
        return load_roles(path, tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, PolicyFileError):
        return {}


def read_partner_file(
    path: Path, keys_dir: Path, roles: Mapping[str, Role] | None = None
) -> PartnerDeclaration:
    """Parse and check one partner file and its JWKS; raise :class:`PartnerFileError`.

    The legal flags must agree with the declared statutory roles (``roles`` defaults to the
    catalogue beside the partner directory).
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PartnerFileError(f"{path}: invalid TOML: {exc}") from None
    for key in data:
        if key not in _FIELDS:
            raise _fail(path, text, key, f"unknown key {key!r}")
    for key in _REQUIRED:
        if key not in data:
            raise _fail(path, text, None, f"missing required key {key!r}")
    for key, value in data.items():
        if not isinstance(value, _FIELDS[key]):
            raise _fail(path, text, key, f"{key} must be a {_FIELDS[key].__name__}")
    _check_values(path, text, data)
    if roles is None:
        roles = _role_catalogue(path.parent.parent)
    declared = data.get("statutory_roles", [])
    if not all(isinstance(r, str) for r in declared):
        raise _fail(path, text, "statutory_roles", "statutory_roles must be a list of strings")
    flags = {k: data[k] for k in LEGAL_FLAGS}
    problems = role_flag_problems(declared, flags, roles) if roles else []
    if problems:
        raise _fail(path, text, "statutory_roles", "; ".join(problems))
    jwks_path = keys_dir / "partners" / f"{data['id']}.jwks.json"
    if not jwks_path.exists():
        raise PartnerFileError(f"{path}: no public keys at {jwks_path}")
    try:
        jwks = read_jwks(jwks_path)
    except KeyFileError as exc:
        raise PartnerFileError(str(exc)) from None
    scopes = tuple(data.pop("scopes", DEFAULT_PARTNER_SCOPES))
    statutory_roles = tuple(data.pop("statutory_roles", ()))
    _check_sso(path, data.pop("sso", None), data)
    return PartnerDeclaration(jwks=jwks, scopes=scopes, statutory_roles=statutory_roles, **data)


def _check_sso(path: Path, table: dict[str, Any] | None, data: dict[str, Any]) -> None:
    """An ``[sso]`` table is console configuration, not part of the partner record."""
    if table is None:
        return
    from hub.people.single_sign_on import SsoConfigError, parse_sso_table

    try:
        parse_sso_table(path, data["id"], data["name"], table)
    except SsoConfigError as exc:
        raise PartnerFileError(str(exc)) from None


def _check_values(path: Path, text: str, data: dict[str, Any]) -> None:
    if not PARTNER_ID_RE.fullmatch(data["id"]):
        raise _fail(path, text, "id", "id must be 3-64 lower-case letters, digits and hyphens")
    if path.stem != data["id"]:
        raise _fail(path, text, "id", f"id {data['id']!r} does not match the file name")
    if data["type"] not in PARTNER_TYPES:
        raise _fail(path, text, "type", f"type must be one of {', '.join(PARTNER_TYPES)}")
    if not data["name"].strip() or len(data["name"]) > 200:
        raise _fail(path, text, "name", "name must be 1-200 characters")
    url = data.get("webhook_url")
    if url is not None and not re.fullmatch(r"https?://[^\s]{1,490}", url):
        raise _fail(path, text, "webhook_url", "webhook_url must be an http(s) URL")
    for scope in data.get("scopes", []):
        if scope not in SCOPES:
            raise _fail(path, text, "scopes", f"unknown scope {scope!r}")


def read_partner_dir(policies_dir: Path, keys_dir: Path) -> list[PartnerDeclaration]:
    """Every partner under ``policies/partners``; the first bad file stops the load."""
    found = []
    seen: set[str] = set()
    roles = _role_catalogue(policies_dir)
    for path in sorted((policies_dir / "partners").glob("*.toml")):
        declaration = read_partner_file(path, keys_dir, roles)
        if declaration.id in seen:
            raise PartnerFileError(f"{path}: duplicate partner id {declaration.id!r}")
        seen.add(declaration.id)
        found.append(declaration)
    return found


def write_partner_files(
    declaration: PartnerDeclaration, policies_dir: Path, keys_dir: Path
) -> tuple[Path, Path]:
    """Write a new partner's TOML and public JWKS (``hub partners add``)."""
    toml_path = policies_dir / "partners" / f"{declaration.id}.toml"
    jwks_path = keys_dir / "partners" / f"{declaration.id}.jwks.json"
    if toml_path.exists():
        raise PartnerFileError(f"{toml_path}: partner {declaration.id!r} already exists")
    lines = [
        f"id = {json.dumps(declaration.id)}",
        f"name = {json.dumps(declaration.name)}",
        f"type = {json.dumps(declaration.type)}",
        f"relevant_authority = {str(declaration.relevant_authority).lower()}",
        f"competent_authority = {str(declaration.competent_authority).lower()}",
        f"public_authority = {str(declaration.public_authority).lower()}",
    ]
    if declaration.statutory_roles:
        lines.append(f"statutory_roles = {json.dumps(list(declaration.statutory_roles))}")
    if declaration.webhook_url:
        lines.append(f"webhook_url = {json.dumps(declaration.webhook_url)}")
    toml_path.parent.mkdir(parents=True, exist_ok=True)
    jwks_path.parent.mkdir(parents=True, exist_ok=True)
    jwks_path.write_text(json.dumps(declaration.jwks, indent=2) + "\n", encoding="utf-8")
    toml_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return toml_path, jwks_path
