"""Which data-protection regime governs a flow, and the records that regime asks for.

DPA 2018 Part 3 governs processing by a competent authority for a law-enforcement purpose
(s29, s31); everything else is UK GDPR with DPA 2018 Part 2. The two regimes have different
conditions for sensitive data: Sch 1 (with Art 9 and Art 10) under UK GDPR, s35 with Sch 8
under Part 3. A tuple that mixes them, or uses Part 3 for a purpose that is not law
enforcement, is refused; so is a reliance on a condition that needs an appropriate policy
document (Sch 1 para 5, s35(4)-(5), s42) when the agreement records none.
"""

from __future__ import annotations

from collections.abc import Iterator

from hub.policy.agreement import Agreement, Flow
from hub.policy.catalogue import SPECIAL_CATEGORY, Catalogues, LawfulBasis
from hub.policy.partner_info import PartnerInfo
from hub.policy.problems import Problem


def is_part3(bases: list[LawfulBasis]) -> bool:
    """Whether the tuple relies on DPA 2018 Part 3 (its eligibility is checked elsewhere)."""
    return any(b.kind == "part3" for b in bases)


def regime_problems(
    a: Agreement,
    flow: Flow,
    bases: list[LawfulBasis],
    catalogues: Catalogues,
    recipient: PartnerInfo | None,
    at: str,
) -> Iterator[Problem]:
    """Refuse a tuple that mixes regimes, misuses Part 3, or lacks the records it needs."""
    part3 = is_part3(bases)
    purpose = catalogues.purposes.get(flow.purpose)
    if part3 and purpose is not None and not purpose.law_enforcement:
        yield Problem(
            a.source,
            f"{at}.basis",
            "part3_purpose_not_law_enforcement",
            f"DPA_PART3 covers only law-enforcement purposes (DPA 2018 s31); "
            f"{flow.purpose!r} is not one",
        )
    for basis in bases:
        if part3 and basis.kind in ("art9", "art10"):
            yield Problem(
                a.source,
                f"{at}.basis",
                "wrong_regime_sch1_under_part3",
                f"{basis.code} ({basis.reference}) is a UK GDPR condition; between competent "
                "authorities for law enforcement, DPA 2018 Part 3 applies (s35 with a Sch 8 "
                "condition for sensitive processing)",
            )
        if not part3 and basis.kind == "sch8":
            yield Problem(
                a.source,
                f"{at}.basis",
                "wrong_regime_sch8_under_gdpr",
                f"{basis.code} ({basis.reference}) is a Part 3 condition; this flow is under "
                "UK GDPR, where special category data needs an Art 9 / Sch 1 condition",
            )
    sensitive = [
        name
        for name in flow.fields
        if name in catalogues.fields and catalogues.fields[name].cls in SPECIAL_CATEGORY
    ]
    if part3 and sensitive and flow.consent != "required" and not flow.strictly_necessary:
        yield Problem(
            a.source,
            f"{at}.strictly_necessary",
            "strict_necessity_not_stated",
            f"sensitive processing ({', '.join(sensitive)}) without consent must be strictly "
            "necessary for the law-enforcement purpose (DPA 2018 s35(5)(a)): say why",
        )
    if a.appropriate_policy_document is None:
        yield from _apd_problems(a, flow, bases, recipient, at, part3 and bool(sensitive))


def _apd_problems(
    a: Agreement,
    flow: Flow,
    bases: list[LawfulBasis],
    recipient: PartnerInfo | None,
    at: str,
    part3_sensitive: bool,
) -> Iterator[Problem]:
    needing = [
        b.code
        for b in bases
        if b.apd == "always"
        or (
            b.apd == "except_to_competent_authority"
            and not (recipient is not None and recipient.competent_authority)
        )
    ]
    if part3_sensitive and "DPA_PART3" not in needing:
        needing.append("DPA_PART3 sensitive processing (s35(4)-(5), s42)")
    if needing:
        yield Problem(
            a.source,
            f"{at}.basis",
            "apd_missing",
            f"{', '.join(needing)} needs an appropriate policy document: record its reference "
            "in appropriate_policy_document",
        )
