"""The agreement model: an information-sharing agreement and its flows, as frozen data.

The TOML layout follows the ICO data-sharing code headings:
purpose and benefits, parties (with roles and signatories), data items and lawful basis (per
flow), rights, information governance (security, retention, breaches, training), review and
termination. Parsing here is *structural* only; the law is checked in ``validate.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hub.policy.catalogue import read_toml
from hub.policy.children import ChildRules
from hub.policy.errors import PolicyFileError

AGREEMENT_TYPES = ("ISP", "DDA", "JCA", "PROCESSOR")  # WASPI's four types
PARTY_ROLES = ("controller", "joint_controller", "processor")
STATUS_OVERRIDES = ("active", "suspended", "terminated")
CONSENT_MODELS = ("required", "preferred", "not_required")
# DPA 2018 Sch 1 para 18(2)(a)-(c), the para 10 prejudice test, or a statute that makes the
# disclosure a requirement (consent is then not the basis: e.g. Drugs Act 2005 assessments).
CONSENT_EXEMPTIONS = (
    "para18_2_a",
    "para18_2_b",
    "para18_2_c",
    "para10_prejudice",
    "statutory_requirement",
    # DPA 2018 Part 3: lawful because necessary for a law-enforcement task (s35(2)(b)), so
    # consent is not the basis at all.
    "part3_law_enforcement_task",
)
ONWARD_SHARING = ("no", "with_originator_consent", "yes")
RELEASE = "release"
TOP_KEYS = frozenset(
    {
        "id",
        "version",
        "type",
        "title",
        "status",
        "supersedes",
        "purposes",
        "benefits",
        "joining_and_leaving",
        "effective_from",
        "effective_to",
        "review_by",
        "parties",
        "governance",
        "rights",
        "flows",
        "dpia_reference",
        "appropriate_policy_document",
        "review_history",
    }
)
FLOW_KEYS = frozenset(
    {
        "from",
        "to",
        "purpose",
        "basis",
        "fields",
        "consent",
        "consent_exemption",
        "safety_justification",
        "fact_only",
        "onward_sharing",
        "retention_days",
        "return_flow",
        "acting_for",
        "acting_for_contract",
        "strictly_necessary",
        "children",
        "description",
    }
)
GOVERNANCE_KEYS = (
    "security",
    "breach_notification",
    "training",
    "retention_and_disposal",
    "termination",
    "review",
)
RIGHTS_KEYS = ("sar_contact", "complaints", "rectification_notice")


@dataclass(frozen=True)
class Party:
    """A signatory organisation and its role under the agreement."""

    id: str
    role: str
    signatory: str
    perpetrator_facing: bool | None = None  # None: use the partner type's default
    perpetrator_facing_reason: str | None = None  # why the default is overridden


@dataclass(frozen=True)
class Review:
    """One completed review of the agreement (ICO data-sharing code: review regularly)."""

    date: dt.date
    by: str
    outcome: str


@dataclass(frozen=True)
class Flow:
    """One permitted direction of sharing: (from, to, purpose) with its allow-list."""

    index: int
    sender: str
    recipient: str
    purpose: str
    basis: tuple[str, ...]
    fields: Mapping[str, str]  # field name -> "release" or a transform name
    consent: str
    retention_days: int
    consent_exemption: str | None = None
    safety_justification: str | None = None
    fact_only: bool = False
    onward_sharing: str = "no"
    return_flow: bool = False
    acting_for: str | None = None
    # s115 "acting on behalf of": the contract or processor reference, when the authority
    # acted for is not itself a party to the agreement.
    acting_for_contract: str | None = None
    # DPA 2018 s35(5)(a): why sensitive processing is strictly necessary (Part 3 flows).
    strictly_necessary: str | None = None
    children: ChildRules | None = None  # rules for under-18 subjects (children.py)
    description: str = ""


@dataclass(frozen=True)
class Agreement:
    """An information-sharing agreement (ICO data-sharing code headings)."""

    id: str
    version: int
    type: str
    title: str
    status: str
    purposes: tuple[str, ...]
    parties: tuple[Party, ...]
    effective_from: dt.date
    effective_to: dt.date | None
    review_by: dt.date
    flows: tuple[Flow, ...]
    governance: Mapping[str, str]
    rights: Mapping[str, str]
    supersedes: str | None = None
    source: str = ""
    dpia_reference: str | None = None  # UK GDPR Art 35
    appropriate_policy_document: str | None = None  # DPA 2018 Sch 1 para 5, s42
    review_history: tuple[Review, ...] = ()

    @property
    def party_ids(self) -> frozenset[str]:
        """Ids of every party (who must all sign)."""
        return frozenset(p.id for p in self.parties)


class _Reader:
    """Typed access to one table of the raw document, naming the path on failure."""

    def __init__(self, source: str, where: str, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise PolicyFileError(source, where or "(document)", "must be a table")
        self.source, self.where, self.raw = source, where, raw

    def fail(self, key: str, message: str) -> PolicyFileError:
        return PolicyFileError(self.source, f"{self.where}.{key}" if self.where else key, message)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.raw:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = self.raw[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"has the wrong type ({type(value).__name__})")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not None and value is not default and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not default and value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list)
        if not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        return tuple(value)

    def date(self, key: str, default: Any = ...) -> Any:
        # ISO strings too: the canonical JSON form (as stored by the DB) has the same digest.
        value = self.get(key, (dt.date, str), default)
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise self.fail(key, "must be a date (YYYY-MM-DD)") from None
        if isinstance(value, dt.datetime):
            raise self.fail(key, "must be a date (YYYY-MM-DD), not a date-time")
        return value

    def unknown(self, allowed: frozenset[str] | tuple[str, ...]) -> None:
        extra = sorted(set(self.raw) - set(allowed))
        if extra:
            raise self.fail(extra[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _party(source: str, index: int, raw: Any) -> Party:
    r = _Reader(source, f"parties[{index}]", raw)
    r.unknown(("id", "role", "signatory", "perpetrator_facing", "perpetrator_facing_reason"))
    return Party(
        id=r.text("id"),
        role=r.choice("role", PARTY_ROLES),
        signatory=r.text("signatory"),
        perpetrator_facing=r.get("perpetrator_facing", bool, None),
        perpetrator_facing_reason=r.text("perpetrator_facing_reason", None),
    )


def _review(source: str, index: int, raw: Any) -> Review:
    r = _Reader(source, f"review_history[{index}]", raw)
    r.unknown(("date", "by", "outcome"))
    return Review(date=r.date("date"), by=r.text("by"), outcome=r.text("outcome"))


def _flow(source: str, index: int, raw: Any) -> Flow:
    r = _Reader(source, f"flows[{index}]", raw)
    r.unknown(FLOW_KEYS)
    fields = _Reader(source, f"flows[{index}].fields", r.get("fields", dict))
    if not fields.raw:
        raise r.fail("fields", "must list at least one field")
    for name in fields.raw:
        fields.text(name)
    retention = r.get("retention_days", int)
    if retention < 1:
        raise r.fail("retention_days", "must be a positive number of days")
    return Flow(
        index=index,
        sender=r.text("from"),
        recipient=r.text("to"),
        purpose=r.text("purpose"),
        basis=r.strings("basis"),
        fields=MappingProxyType(dict(fields.raw)),
        consent=r.choice("consent", CONSENT_MODELS),
        retention_days=retention,
        consent_exemption=r.choice("consent_exemption", CONSENT_EXEMPTIONS, None),
        safety_justification=r.text("safety_justification", None),
        fact_only=r.get("fact_only", bool, False),
        onward_sharing=r.choice("onward_sharing", ONWARD_SHARING, "no"),
        return_flow=r.get("return_flow", bool, False),
        acting_for=r.text("acting_for", None),
        acting_for_contract=r.text("acting_for_contract", None),
        strictly_necessary=r.text("strictly_necessary", None),
        children=_children(source, index, r.get("children", dict, None)),
        description=r.get("description", str, ""),
    )


def _children(source: str, index: int, raw: Any) -> ChildRules | None:
    if raw is None:
        return None
    r = _Reader(source, f"flows[{index}].children", raw)
    r.unknown(("withhold", "transforms", "allow"))
    where = f"flows[{index}].children.transforms"
    transforms = _Reader(source, where, r.get("transforms", dict, {}))
    for name in transforms.raw:
        transforms.text(name)
    return ChildRules(
        withhold=r.strings("withhold") if "withhold" in r.raw else (),
        transforms=MappingProxyType(dict(transforms.raw)),
        allow=r.strings("allow") if "allow" in r.raw else (),
    )


def _text_table(source: str, key: str, raw: Any, keys: tuple[str, ...]) -> Mapping[str, str]:
    r = _Reader(source, key, raw)
    r.unknown(keys)
    return MappingProxyType({k: r.text(k) for k in keys})


def parse_agreement(doc: Mapping[str, Any], source: str = "<agreement>") -> Agreement:
    """Build an :class:`Agreement` from a parsed TOML document, or raise PolicyFileError."""
    r = _Reader(source, "", dict(doc))
    r.unknown(TOP_KEYS)
    version = r.get("version", int)
    if version < 1:
        raise r.fail("version", "must be a positive integer")
    parties = r.get("parties", list)
    flows = r.get("flows", list)
    if not parties or not flows:
        raise r.fail("parties" if not parties else "flows", "must not be empty")
    r.text("benefits")
    r.text("joining_and_leaving")
    return Agreement(
        id=r.text("id"),
        version=version,
        type=r.choice("type", AGREEMENT_TYPES),
        title=r.text("title"),
        status=r.choice("status", STATUS_OVERRIDES, "active"),
        purposes=r.strings("purposes"),
        parties=tuple(_party(source, i, p) for i, p in enumerate(parties)),
        effective_from=r.date("effective_from"),
        effective_to=r.date("effective_to", None),
        review_by=r.date("review_by"),
        flows=tuple(_flow(source, i, f) for i, f in enumerate(flows)),
        governance=_text_table(source, "governance", r.get("governance", dict), GOVERNANCE_KEYS),
        rights=_text_table(source, "rights", r.get("rights", dict), RIGHTS_KEYS),
        supersedes=r.text("supersedes", None),
        source=source,
        dpia_reference=r.text("dpia_reference", None),
        appropriate_policy_document=r.text("appropriate_policy_document", None),
        review_history=tuple(
            _review(source, i, x) for i, x in enumerate(r.get("review_history", list, []))
        ),
    )


def load_agreement_document(path: Path) -> dict[str, Any]:
    """The raw TOML document of an agreement file (what the signatures cover)."""
    return read_toml(path)
