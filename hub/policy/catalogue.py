"""The field catalogue and the lawful-basis catalogue (``policies/*.toml``).

The catalogues are the vocabulary every agreement and every request is checked against: a
field the catalogue does not know has no sensitivity class, so the engine cannot reason about
it and refuses it ("a field not in the catalogue is a 422"). The lawful-basis
catalogue encodes the field-class matrix of ``docs/law.md``: which field classes each
code may release and who may rely on it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.policy.errors import PolicyFileError, line_of
from hub.policy.vocabulary import Purpose, Role, load_purposes, load_roles

FIELD_CLASSES = (
    "ID",
    "REF",
    "CON",
    "WHERE",
    "SC_HEALTH",
    "SC_OTHER",
    "CRIM",
    "VICT",
    "CSG",
    "EDU",
    "RISK",
    "THIRD",
    "INTEL",
    "CASE",
)
SPECIAL_CATEGORY = frozenset({"SC_HEALTH", "SC_OTHER"})  # UK GDPR Art 9(1)
FIELD_TYPES = ("string", "text", "date", "datetime", "integer", "boolean", "enum")
# Which transforms make sense for which value type; the loader refuses any other pairing.
TRANSFORMS_FOR_TYPE: Mapping[str, frozenset[str]] = {
    "string": frozenset({"initials", "postcode_district", "mask", "keyed_hash"}),
    "text": frozenset({"mask"}),
    "date": frozenset({"year_of_birth", "age_band", "keyed_hash"}),
    "datetime": frozenset(),
    "integer": frozenset({"keyed_hash"}),
    "boolean": frozenset(),
    "enum": frozenset(),
}
BASIS_KINDS = ("gateway", "duty", "art6", "art9", "art10", "part3", "sch8", "confidence")
PARTNER_FLAGS = ("relevant_authority", "competent_authority", "public_authority")
# Tags a field may carry; a gateway can exclude a tag (PCSC 2022 s16(4)(a) patient information).
FIELD_TAGS = ("patient_information",)
# When relying on a condition needs an appropriate policy document (DPA 2018 Sch 1 para 5, s42).
APD_RULES = ("always", "except_to_competent_authority")


@dataclass(frozen=True)
class FieldSpec:
    """One catalogue field: its class, its type and the transforms it allows."""

    name: str
    cls: str
    type: str
    description: str
    opinion: bool = False  # ICO code: fact and opinion kept apart
    max_length: int | None = None
    values: tuple[str, ...] = ()
    transforms: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LawfulBasis:
    """One code of the lawful-basis catalogue (docs/law.md)."""

    code: str
    reference: str
    kind: str
    relied_on_by: str
    classes: frozenset[str]
    excludes_classes: frozenset[str] = frozenset()
    sender_must_be: tuple[str, ...] = ()
    sender_must_not_be: tuple[str, ...] = ()
    recipient_must_be: tuple[str, ...] = ()
    requires_any: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    # Parties by statutory role (the statute's own lists), see vocabulary.py.
    sender_roles: tuple[str, ...] = ()
    recipient_roles: tuple[str, ...] = ()
    recipient_may_act_for: bool = False
    one_end_roles: tuple[str, ...] = ()
    sender_roles_excluded: tuple[str, ...] = ()
    excludes_field_tags: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    duty: bool = False  # a legal duty to share, not a mere power
    apd: str | None = None  # see APD_RULES
    without_consent: bool = False  # a condition for processing without consent only


@dataclass(frozen=True)
class Catalogues:
    """The catalogues, loaded together because each check needs them all."""

    fields: Mapping[str, FieldSpec]
    bases: Mapping[str, LawfulBasis]
    roles: Mapping[str, Role] = field(default_factory=dict)
    purposes: Mapping[str, Purpose] = field(default_factory=dict)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a :class:`PolicyFileError`."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise PolicyFileError(path, "", f"cannot read file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(path, "", f"not valid TOML ({exc})", line_of(exc)) from None


def _str_list(
    path: Path, where: str, value: Any, allowed: tuple[str, ...] | None
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyFileError(path, where, "must be a list of strings")
    if allowed is not None:
        for item in value:
            if item not in allowed:
                raise PolicyFileError(path, where, f"{item!r} is not one of {', '.join(allowed)}")
    return tuple(value)


def _field_spec(path: Path, name: str, raw: Any) -> FieldSpec:
    where = f"fields.{name}"
    if not isinstance(raw, dict):
        raise PolicyFileError(path, where, "must be a table")
    unknown = set(raw) - {
        "class",
        "type",
        "description",
        "opinion",
        "max_length",
        "values",
        "transforms",
        "tags",
    }
    if unknown:
        raise PolicyFileError(path, where, f"unknown keys {sorted(unknown)}")
    cls, typ = raw.get("class"), raw.get("type")
    if cls not in FIELD_CLASSES:
        raise PolicyFileError(path, f"{where}.class", f"must be one of {', '.join(FIELD_CLASSES)}")
    if typ not in FIELD_TYPES:
        raise PolicyFileError(path, f"{where}.type", f"must be one of {', '.join(FIELD_TYPES)}")
    description = raw.get("description")
    if not isinstance(description, str) or not description:
        raise PolicyFileError(path, f"{where}.description", "a non-empty string is required")
    opinion = raw.get("opinion", False)
    if not isinstance(opinion, bool):
        raise PolicyFileError(path, f"{where}.opinion", "must be true or false")
    max_length = raw.get("max_length")
    if max_length is not None and (type(max_length) is not int or max_length < 1):
        raise PolicyFileError(path, f"{where}.max_length", "must be a positive integer")
    values = _str_list(path, f"{where}.values", raw.get("values", []), None)
    if (typ == "enum") != bool(values):
        raise PolicyFileError(path, f"{where}.values", "required for enum fields and only for them")
    transforms = _str_list(path, f"{where}.transforms", raw.get("transforms", []), None)
    for transform in transforms:
        if transform not in TRANSFORMS_FOR_TYPE[typ]:
            raise PolicyFileError(
                path,
                f"{where}.transforms",
                f"transform {transform!r} does not apply to type {typ!r}",
            )
    tags = _str_list(path, f"{where}.tags", raw.get("tags", []), FIELD_TAGS)
    return FieldSpec(
        name=name,
        tags=frozenset(tags),
        cls=cls,
        type=typ,
        description=description,
        opinion=opinion,
        max_length=max_length,
        values=values,
        transforms=frozenset(transforms),
    )


def load_fields(path: Path) -> dict[str, FieldSpec]:
    """Load ``fields.toml``: a ``[fields.<name>]`` table per field."""
    raw = read_toml(path).get("fields")
    if not isinstance(raw, dict) or not raw:
        raise PolicyFileError(path, "fields", "expected a non-empty [fields.<name>] table")
    return {name: _field_spec(path, name, spec) for name, spec in raw.items()}


_BASIS_LISTS = {
    "sender_must_be": PARTNER_FLAGS,
    "sender_must_not_be": PARTNER_FLAGS,
    "recipient_must_be": PARTNER_FLAGS,
    "requires_any": None,
    "conditions": None,
    "sender_roles": None,
    "recipient_roles": None,
    "one_end_roles": None,
    "sender_roles_excluded": None,
    "excludes_field_tags": FIELD_TAGS,
    "purposes": None,
}
_BASIS_FLAGS = ("recipient_may_act_for", "duty", "without_consent")


def _basis(path: Path, code: str, raw: Any) -> LawfulBasis:
    where = f"bases.{code}"
    if not isinstance(raw, dict):
        raise PolicyFileError(path, where, "must be a table")
    unknown = (
        set(raw)
        - set(_BASIS_LISTS)
        - set(_BASIS_FLAGS)
        - {"reference", "kind", "relied_on_by", "classes", "excludes_classes", "apd"}
    )
    if unknown:
        raise PolicyFileError(path, where, f"unknown keys {sorted(unknown)}")
    for key in ("reference", "relied_on_by"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise PolicyFileError(path, f"{where}.{key}", "a non-empty string is required")
    if raw.get("kind") not in BASIS_KINDS:
        raise PolicyFileError(path, f"{where}.kind", f"must be one of {', '.join(BASIS_KINDS)}")
    lists: dict[str, Any] = {
        key: _str_list(path, f"{where}.{key}", raw.get(key, []), allowed)
        for key, allowed in _BASIS_LISTS.items()
    }
    flags: dict[str, Any] = {}
    for key in _BASIS_FLAGS:
        flags[key] = raw.get(key, False)
        if not isinstance(flags[key], bool):
            raise PolicyFileError(path, f"{where}.{key}", "must be true or false")
    apd = raw.get("apd")
    if apd is not None and apd not in APD_RULES:
        raise PolicyFileError(path, f"{where}.apd", f"must be one of {', '.join(APD_RULES)}")
    if raw["kind"] == "gateway" and not lists["purposes"]:
        # Purposes as codes: a gateway serves the purposes of its statute, and only those.
        raise PolicyFileError(
            path, f"{where}.purposes", "a gateway must list the purposes it serves"
        )
    classes = _str_list(path, f"{where}.classes", raw.get("classes", []), FIELD_CLASSES)
    excludes = _str_list(
        path, f"{where}.excludes_classes", raw.get("excludes_classes", []), FIELD_CLASSES
    )
    return LawfulBasis(
        code=code,
        reference=raw["reference"],
        kind=raw["kind"],
        relied_on_by=raw["relied_on_by"],
        classes=frozenset(classes),
        excludes_classes=frozenset(excludes),
        apd=apd,
        **flags,
        **lists,
    )


def load_lawful_bases(
    path: Path,
    roles: Mapping[str, Role] | None = None,
    purposes: Mapping[str, Purpose] | None = None,
) -> dict[str, LawfulBasis]:
    """Load ``lawful_bases.toml``: a ``[bases.<CODE>]`` table per code.

    With ``roles`` and ``purposes`` (as :func:`load_catalogues` passes them), every role and
    purpose a code names must exist: a typo would otherwise silently refuse every flow.
    """
    raw = read_toml(path).get("bases")
    if not isinstance(raw, dict) or not raw:
        raise PolicyFileError(path, "bases", "expected a non-empty [bases.<CODE>] table")
    bases = {code: _basis(path, code, spec) for code, spec in raw.items()}
    for basis in bases.values():
        for needed in basis.requires_any:
            if needed not in bases:
                raise PolicyFileError(
                    path, f"bases.{basis.code}.requires_any", f"names unknown code {needed!r}"
                )
        _check_names(path, basis, roles, purposes)
    return bases


def _check_names(
    path: Path,
    basis: LawfulBasis,
    roles: Mapping[str, Role] | None,
    purposes: Mapping[str, Purpose] | None,
) -> None:
    named = {
        "sender_roles": basis.sender_roles,
        "recipient_roles": basis.recipient_roles,
        "one_end_roles": basis.one_end_roles,
        "sender_roles_excluded": basis.sender_roles_excluded,
    }
    for key, values in named.items():
        for role in values:
            if roles is not None and role not in roles:
                raise PolicyFileError(path, f"bases.{basis.code}.{key}", f"unknown role {role!r}")
    for purpose in basis.purposes:
        if purposes is not None and purpose not in purposes:
            raise PolicyFileError(
                path, f"bases.{basis.code}.purposes", f"unknown purpose {purpose!r}"
            )


def load_catalogues(policies_dir: Path) -> Catalogues:
    """Load ``fields.toml`` and ``lawful_bases.toml`` from a ``policies/`` directory."""
    fields = load_fields(policies_dir / "fields.toml")
    bases_path = policies_dir / "lawful_bases.toml"
    doc = read_toml(bases_path)
    roles = load_roles(bases_path, doc)
    purposes = load_purposes(bases_path, doc)
    return Catalogues(
        fields=fields,
        bases=load_lawful_bases(bases_path, roles, purposes),
        roles=roles,
        purposes=purposes,
    )
