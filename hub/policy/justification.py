"""Does a basis tuple justify releasing a field class? (docs/law.md, the class matrix)

Shared by the validator (which refuses an agreement) and by ``decide`` (which, as a second
line of defence, withholds the field even if an unvalidated agreement reached it).
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.policy.catalogue import SPECIAL_CATEGORY, LawfulBasis

# Codes that can carry the power or the lawfulness for a class; Art 9 and Art 10 codes are
# *conditions* on top, and never release anything by themselves.
JUSTIFYING_KINDS = frozenset({"gateway", "art6", "part3"})


def class_problem(
    cls: str, bases: Iterable[LawfulBasis], consent_required: bool = False
) -> tuple[str, str] | None:
    """``(reason code, text)`` if the tuple does not justify releasing ``cls``, else None.

    The regime decides what special-category data needs. Under UK GDPR: an Art 9 condition
    (DPA 2018 s10, Sch 1). Under DPA 2018 Part 3 (DPA_PART3 in the tuple, between competent
    authorities for a law-enforcement purpose) it is "sensitive processing" (s35(8)): consent
    (s35(4)) or a Schedule 8 condition with strict necessity (s35(5)); a Sch 1 condition does
    not serve. (Statute, not the domain notes: "any SC_* field needs an Art 9 condition" holds
    only under UK GDPR.)
    """
    tuple_ = list(bases)
    part3 = any(b.kind == "part3" for b in tuple_)
    for basis in tuple_:
        if cls in basis.excludes_classes:
            # e.g. PCSC Act 2022 s16(5): no health or social-care data under the SV duty.
            return "class_excluded_by_basis", f"{basis.code} may never release {cls} data"
    if not any(b.kind in JUSTIFYING_KINDS and cls in b.classes for b in tuple_):
        return (
            "class_not_justified_by_basis",
            f"no gateway or Art 6 basis in the tuple releases {cls}",
        )
    if cls in SPECIAL_CATEGORY and part3:
        if not consent_required and not any(b.kind == "sch8" and cls in b.classes for b in tuple_):
            return (
                "sensitive_processing_without_sch8",
                f"{cls} is sensitive processing under DPA 2018 Part 3: it needs consent (s35(4)) "
                "or a Schedule 8 condition (s35(5)) in the tuple",
            )
        return None
    if cls in SPECIAL_CATEGORY and not any(b.kind == "art9" and cls in b.classes for b in tuple_):
        # UK GDPR Art 9(1): special category data needs an Art 9(2) / DPA Sch 1 condition.
        return (
            "special_category_without_art9",
            f"{cls} needs an Art 9 condition in the tuple (UK GDPR Art 9(2), DPA 2018 Sch 1)",
        )
    if cls == "CRIM" and not any(b.code in ("ART10", "DPA_PART3") for b in tuple_):
        # UK GDPR Art 10 / DPA 2018 s10(5), s11(2), or the Part 3 law-enforcement regime.
        return (
            "criminal_offence_without_art10",
            "CRIM needs ART10 (UK GDPR Art 10, DPA 2018 s10(5)) or DPA_PART3 in the tuple",
        )
    return None
