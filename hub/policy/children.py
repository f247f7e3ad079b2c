"""Children: the decision knows whether the subject is under 18, and applies child rules.

UN Convention on the Rights of the Child art 1 and Children Act 1989 s105: a child is a person
under 18. The ICO data-sharing code asks for a *high privacy default* for children; an
agreement may declare its own child rules per flow (``[flows.children]``: fields withheld from
under-18s' records, stricter transforms, and fields it allows despite the default). Where a
flow is silent, the default here withholds the classes that expose other people or carry
intelligence about the child (THIRD, INTEL): they go only where the agreement says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.policy.catalogue import SPECIAL_CATEGORY, LawfulBasis
from hub.policy.problems import Problem

if TYPE_CHECKING:
    from hub.policy.agreement import Flow
    from hub.policy.catalogue import FieldSpec

ADULT_AGE = 18  # Children Act 1989 s105(1)
AGE_BANDS = ("under_18", "adult")
PARA18 = "SCH1_P18"  # DPA 2018 Sch 1 para 18: safeguarding of children and individuals at risk
# ICO data-sharing code, children: the high privacy default where an agreement is silent.
CHILD_DEFAULT_WITHHELD_CLASSES = frozenset({"THIRD", "INTEL"})


@dataclass(frozen=True)
class ChildRules:
    """A flow's declared rules for subjects under 18."""

    withhold: tuple[str, ...] = ()
    transforms: Mapping[str, str] = field(default_factory=dict)
    allow: tuple[str, ...] = ()


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    """Whole years of age on ``today``."""
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - before_birthday


def subject_is_child(data: Mapping[str, Any], age_band: str | None, today: dt.date) -> bool:
    """Under 18 by the date of birth at decision time, else by the declared age band.

    Fail towards protection: a date of birth that says "child" wins over a declared band.
    """
    dob = data.get("date_of_birth")
    if isinstance(dob, str):
        try:
            dob = dt.date.fromisoformat(dob)
        except ValueError:
            dob = None
    if isinstance(dob, dt.date) and age_on(dob, today) < ADULT_AGE:
        return True
    return age_band == "under_18"


def subject_is_adult(data: Mapping[str, Any], age_band: str | None, today: dt.date) -> bool:
    """Known to be 18 or over: by the date of birth, else by a declared ``adult`` band.

    Unknown age is not "adult": the agreement's own para 18 purpose then stands.
    """
    dob = data.get("date_of_birth")
    if isinstance(dob, str):
        try:
            dob = dt.date.fromisoformat(dob)
        except ValueError:
            dob = None
    if isinstance(dob, dt.date):
        return age_on(dob, today) >= ADULT_AGE
    return age_band == "adult"


def para18_unmet(cls: str, bases: Sequence[LawfulBasis], adult_not_at_risk: bool) -> bool:
    """DPA 2018 Sch 1 para 18(1)(a): the condition protects a person *under 18, or aged 18 or
    over and at risk* (para 18(3)). For a subject known to be an adult not declared at risk it
    does not apply, so a special-category or criminal-offence field whose only Sch 1 / Art 9
    condition in the tuple is para 18 has no condition (withheld, as any missing condition).
    """
    codes = {b.code for b in bases}
    if not adult_not_at_risk or PARA18 not in codes:
        return False
    if cls not in SPECIAL_CATEGORY and cls != "CRIM":
        return False
    if cls == "CRIM" and any(b.kind == "part3" for b in bases):
        return False
    others = (
        b
        for b in bases
        if b.code not in (PARA18, "ART10") and b.kind in ("art9", "art10", "sch8")
    )
    return not any(cls in b.classes for b in others)


def child_rule(
    rules: ChildRules | None, name: str, cls: str, action: str
) -> tuple[str | None, str | None]:
    """``(action, None)`` to go on (perhaps a stricter transform), or ``(None, reason)``."""
    if rules is None:
        if cls in CHILD_DEFAULT_WITHHELD_CLASSES:
            return None, "child_high_privacy_default"
        return action, None
    if name in rules.withhold:
        return None, "withheld_for_child"
    if cls in CHILD_DEFAULT_WITHHELD_CLASSES and name not in rules.allow:
        return None, "child_high_privacy_default"
    return rules.transforms.get(name, action), None


def child_rule_problems(
    source: str, flow: Flow, fields: Mapping[str, FieldSpec], at: str
) -> list[Problem]:
    """A flow's child rules name allow-listed fields and transforms those fields allow."""
    rules = flow.children
    if rules is None:
        return []
    found = []
    named = [*rules.withhold, *rules.allow, *rules.transforms]
    for name in named:
        if name not in flow.fields:
            found.append(
                Problem(
                    source,
                    f"{at}.children",
                    "child_rule_outside_allow_list",
                    f"{name!r} is not on the flow's allow-list",
                )
            )
    for name, transform in rules.transforms.items():
        spec = fields.get(name)
        if spec is not None and transform not in spec.transforms:
            found.append(
                Problem(
                    source,
                    f"{at}.children.transforms.{name}",
                    "transform_not_allowed",
                    f"{transform!r} is not an allowed transform for {name!r}",
                )
            )
    return found
