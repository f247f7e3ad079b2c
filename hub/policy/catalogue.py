"""The field catalogue and the lawful-basis catalogue (``policies/*.toml``).

The catalogues are the vocabulary every agreement and every request is checked against: a
field the catalogue does not know has no sensitivity class, so the engine cannot reason about
it and refuses it (DESIGN.md "a field not in the catalogue is a 422"). The lawful-basis
catalogue encodes the §2b matrix of ``reference/uk-domain-model.md``: which field classes each
code may release and who may rely on it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.policy.errors import PolicyFileError, line_of

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
BASIS_KINDS = ("gateway", "duty", "art6", "art9", "art10", "part3", "confidence")
PARTNER_FLAGS = ("relevant_authority", "competent_authority", "public_authority")


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


@dataclass(frozen=True)
class LawfulBasis:
    """One code of the lawful-basis catalogue (reference/uk-domain-model.md §2, §2b)."""

    code: str
    reference: str
    kind: str
    relied_on_by: str
    classes: frozenset[str]
    excludes_classes: frozenset[str] = frozenset()
    sender_must_be: tuple[str, ...] = ()
    sender_must_not_be: tuple[str, ...] = ()
    recipient_must_be: tuple[str, ...] = ()
    sender_types_excluded: tuple[str, ...] = ()
    requires_any: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogues:
    """Both catalogues, loaded together because each check needs both."""

    fields: Mapping[str, FieldSpec]
    bases: Mapping[str, LawfulBasis]


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
    return FieldSpec(
        name=name,
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
    "sender_types_excluded": None,
    "requires_any": None,
    "conditions": None,
}


def _basis(path: Path, code: str, raw: Any) -> LawfulBasis:
    where = f"bases.{code}"
    if not isinstance(raw, dict):
        raise PolicyFileError(path, where, "must be a table")
    unknown = (
        set(raw)
        - set(_BASIS_LISTS)
        - {"reference", "kind", "relied_on_by", "classes", "excludes_classes"}
    )
    if unknown:
        raise PolicyFileError(path, where, f"unknown keys {sorted(unknown)}")
    for key in ("reference", "relied_on_by"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise PolicyFileError(path, f"{where}.{key}", "a non-empty string is required")
    if raw.get("kind") not in BASIS_KINDS:
        raise PolicyFileError(path, f"{where}.kind", f"must be one of {', '.join(BASIS_KINDS)}")
    lists = {
        key: _str_list(path, f"{where}.{key}", raw.get(key, []), allowed)
        for key, allowed in _BASIS_LISTS.items()
    }
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
        **lists,
    )


def load_lawful_bases(path: Path) -> dict[str, LawfulBasis]:
    """Load ``lawful_bases.toml``: a ``[bases.<CODE>]`` table per code."""
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
    return bases


def load_catalogues(policies_dir: Path) -> Catalogues:
    """Load ``fields.toml`` and ``lawful_bases.toml`` from a ``policies/`` directory."""
    return Catalogues(
        fields=load_fields(policies_dir / "fields.toml"),
        bases=load_lawful_bases(policies_dir / "lawful_bases.toml"),
    )
