"""The validator: refuse an agreement whose flows the law does not support (docs/law.md).

Every rule returns :class:`Problem` values naming the file and the field path, so an operator
running ``hub agreements verify`` sees every reason at once, not the first. An agreement with
any ``error`` problem is never in force (``status.py``); warnings are for the register.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hub.policy.agreement import RELEASE, Agreement, Flow
from hub.policy.catalogue import Catalogues, LawfulBasis
from hub.policy.children import child_rule_problems
from hub.policy.justification import class_problem
from hub.policy.parties import known_purposes, purpose_problems, role_problems, tag_problems
from hub.policy.partner_info import PERPETRATOR_FACING_TYPES, PartnerInfo
from hub.policy.problems import Problem
from hub.policy.regime import regime_problems

__all__ = ["Problem", "is_perpetrator_facing", "validate_agreement"]


def is_perpetrator_facing(agreement: Agreement, partner: PartnerInfo) -> bool:
    """Whether a recipient works with people causing harm (agreement overrides type default).

    2024 safeguarding rules: protect the identities of anyone who could be harmed; the
    perpetrator must never learn a MARAC referral exists (SafeLives). Fail closed by type.
    """
    for party in agreement.parties:
        if party.id == partner.id and party.perpetrator_facing is not None:
            return party.perpetrator_facing
    return partner.type in PERPETRATOR_FACING_TYPES


def validate_agreement(
    agreement: Agreement, catalogues: Catalogues, partners: Mapping[str, PartnerInfo]
) -> list[Problem]:
    """Every problem with an agreement, against the catalogues and the partner register."""
    problems = list(_agreement_problems(agreement, partners))
    problems.extend(known_purposes(agreement, catalogues))
    problems.extend(_record_problems(agreement, partners))
    for flow in agreement.flows:
        problems.extend(_flow_problems(agreement, flow, catalogues, partners))
    return problems


def _agreement_problems(a: Agreement, partners: Mapping[str, PartnerInfo]) -> Iterator[Problem]:
    def problem(path: str, code: str, message: str, severity: str = "error") -> Problem:
        return Problem(a.source, path, code, message, severity)

    seen: set[str] = set()
    for i, party in enumerate(a.parties):
        if party.id in seen:
            yield problem(f"parties[{i}].id", "duplicate_party", f"{party.id!r} is listed twice")
        seen.add(party.id)
        if party.id not in partners:
            yield problem(
                f"parties[{i}].id", "unknown_partner", f"{party.id!r} is not a registered partner"
            )
    if a.effective_to is not None and a.effective_to < a.effective_from:
        yield problem("effective_to", "dates_inverted", "effective_to is before effective_from")
    if a.effective_to is not None and a.review_by > a.effective_to:
        yield problem(
            "review_by", "review_after_expiry", "review_by is after effective_to", "warning"
        )
    if a.type == "PROCESSOR" and sorted(p.role for p in a.parties) != ["controller", "processor"]:
        # UK GDPR Art 28: a processor contract is between one controller and its processor.
        yield problem(
            "parties",
            "processor_roles",
            "a PROCESSOR agreement needs exactly one controller and one processor",
        )
    keys = [(f.sender, f.recipient, f.purpose) for f in a.flows]
    for flow in a.flows:
        if keys.count((flow.sender, flow.recipient, flow.purpose)) > 1:
            yield problem(
                f"flows[{flow.index}]",
                "duplicate_flow",
                f"flow {flow.sender} -> {flow.recipient} for {flow.purpose!r} is listed twice",
            )
    for purpose in a.purposes:
        if not any(f.purpose == purpose for f in a.flows):
            yield problem(
                "purposes", "unused_purpose", f"purpose {purpose!r} has no flow", "warning"
            )


def _flow_problems(
    a: Agreement, flow: Flow, catalogues: Catalogues, partners: Mapping[str, PartnerInfo]
) -> Iterator[Problem]:
    at = f"flows[{flow.index}]"
    yield from _flow_party_problems(a, flow, partners, at)
    if flow.purpose not in a.purposes:
        yield Problem(
            a.source,
            f"{at}.purpose",
            "purpose_not_declared",
            f"purpose {flow.purpose!r} is not among the agreement's purposes",
        )
    bases = []
    for code in flow.basis:
        if code in catalogues.bases:
            bases.append(catalogues.bases[code])
        else:
            yield Problem(
                a.source,
                f"{at}.basis",
                "unknown_basis",
                f"{code!r} is not in the lawful-basis catalogue",
            )
    sender, recipient = partners.get(flow.sender), partners.get(flow.recipient)
    acting_for = partners.get(flow.acting_for) if flow.acting_for else None
    if sender is not None and recipient is not None:
        for basis in bases:
            yield from _eligibility(a, flow, basis, sender, recipient, at)
            yield from role_problems(a, flow, basis, sender, recipient, acting_for, at)
        yield from _art6_problems(a, flow, bases, sender, recipient, at)
    yield from purpose_problems(a, flow, bases, catalogues, at)
    yield from tag_problems(a, flow, bases, catalogues, at)
    yield from regime_problems(a, flow, bases, catalogues, recipient, at)
    yield from _field_problems(a, flow, bases, catalogues, recipient, at)
    yield from child_rule_problems(a.source, flow, catalogues.fields, at)
    yield from _consent_problems(a, flow, bases, at)


def _flow_party_problems(
    a: Agreement, flow: Flow, partners: Mapping[str, PartnerInfo], at: str
) -> Iterator[Problem]:
    for key, pid in (
        ("from", flow.sender),
        ("to", flow.recipient),
        ("acting_for", flow.acting_for),
    ):
        if pid is None:
            continue
        if pid not in partners:
            yield Problem(
                a.source, f"{at}.{key}", "unknown_partner", f"{pid!r} is not a registered partner"
            )
        if key != "acting_for" and pid not in a.party_ids:
            yield Problem(
                a.source,
                f"{at}.{key}",
                "flow_party_not_in_agreement",
                f"{pid!r} is not a party to the agreement",
            )
    if flow.sender == flow.recipient:
        yield Problem(a.source, at, "flow_to_self", "a flow needs two different partners")
    recipient = partners.get(flow.recipient)
    role = next((p.role for p in a.parties if p.id == flow.recipient), None)
    if ((recipient is not None and recipient.type == "contractor") or role == "processor") and (
        a.type != "PROCESSOR" or role != "processor"
    ):
        # A processor acts on a controller's instructions under an Art 28 contract, not an ISA.
        yield Problem(
            a.source,
            f"{at}.to",
            "processor_outside_processor_agreement",
            f"{flow.recipient!r} is a processor and may only receive under a PROCESSOR agreement",
        )
    if flow.return_flow and not any(
        f.sender == flow.recipient and f.recipient == flow.sender for f in a.flows
    ):
        yield Problem(
            a.source,
            f"{at}.return_flow",
            "return_flow_without_outbound",
            "a return flow needs an outbound flow in the opposite direction",
        )


def _eligibility(
    a: Agreement,
    flow: Flow,
    basis: LawfulBasis,
    sender: PartnerInfo,
    recipient: PartnerInfo,
    at: str,
) -> Iterator[Problem]:
    """The legal-flag rules of Art 6 and Part 3 codes (the gateways' roles: parties.py)."""
    path = f"{at}.basis"
    for flag in basis.sender_must_be:
        if not sender.flag(flag):
            yield Problem(
                a.source,
                path,
                "sender_not_eligible",
                f"{basis.code} ({basis.reference}) needs the sender to be a "
                f"{flag.replace('_', ' ')}; {sender.id!r} is not",
                statute=basis.reference,
            )
    for flag in basis.sender_must_not_be:
        if sender.flag(flag):
            # e.g. Art 6(1)(ea): public authorities cannot rely on it for their tasks.
            yield Problem(
                a.source,
                path,
                "sender_not_eligible",
                f"{basis.code} ({basis.reference}) cannot be relied on by a "
                f"{flag.replace('_', ' ')} ({sender.id!r})",
                statute=basis.reference,
            )
    for flag in basis.recipient_must_be:
        if not recipient.flag(flag):
            yield Problem(
                a.source,
                path,
                "recipient_not_eligible",
                f"{basis.code} ({basis.reference}) needs the recipient to be a "
                f"{flag.replace('_', ' ')}; {recipient.id!r} is not",
                statute=basis.reference,
            )
    if basis.requires_any and not set(basis.requires_any) & set(flow.basis):
        yield Problem(
            a.source,
            path,
            "basis_missing_companion",
            f"{basis.code} needs one of {', '.join(basis.requires_any)} in the tuple",
        )
    if basis.code in ("GDPR_6_1_A", "GDPR_9_2_A", "SCH1_P29") and flow.consent != "required":
        yield Problem(
            a.source,
            f"{at}.consent",
            "consent_basis_without_consent",
            f"{basis.code} is consent: the flow's consent must be 'required'",
        )
    if basis.without_consent and flow.consent == "required":
        # Sch 1 para 10(1)(b) and para 18(1)(c): conditions for processing *without* consent.
        yield Problem(
            a.source,
            f"{at}.consent",
            "without_consent_condition_on_consent_flow",
            f"{basis.code} ({basis.reference}) applies only to processing without consent; "
            "a flow that requires consent needs explicit consent (GDPR_9_2_A) instead",
            statute=basis.reference,
        )


def _art6_problems(
    a: Agreement,
    flow: Flow,
    bases: list[LawfulBasis],
    sender: PartnerInfo,
    recipient: PartnerInfo,
    at: str,
) -> Iterator[Problem]:
    # Part 3 processing between competent authorities is lawful under DPA 2018 s35, not Art 6.
    part3 = (
        any(b.kind == "part3" for b in bases)
        and sender.competent_authority
        and recipient.competent_authority
    )
    if not any(b.kind == "art6" for b in bases) and not part3:
        yield Problem(
            a.source,
            f"{at}.basis",
            "no_art6_basis",
            "the tuple needs a UK GDPR Art 6 basis (or DPA_PART3 between competent authorities)",
        )


def _field_problems(
    a: Agreement,
    flow: Flow,
    bases: list[LawfulBasis],
    catalogues: Catalogues,
    recipient: PartnerInfo | None,
    at: str,
) -> Iterator[Problem]:
    for name, action in flow.fields.items():
        path = f"{at}.fields.{name}"
        spec = catalogues.fields.get(name)
        if spec is None:
            yield Problem(
                a.source, path, "unknown_field", f"{name!r} is not in the field catalogue"
            )
            continue
        if action != RELEASE and action not in spec.transforms:
            yield Problem(
                a.source,
                path,
                "transform_not_allowed",
                f"{action!r} is not an allowed transform for {name!r}",
            )
        if spec.opinion and flow.fact_only:
            yield Problem(
                a.source,
                path,
                "opinion_on_fact_only_flow",
                f"{name!r} is opinion and the flow is fact-only",
            )
        found = class_problem(spec.cls, bases, flow.consent == "required")
        if found is not None:
            yield Problem(a.source, path, found[0], f"{name!r} ({spec.cls}): {found[1]}")
        if spec.cls == "WHERE":
            yield from _where_problems(a, flow, recipient, path, name)


def _where_problems(
    a: Agreement, flow: Flow, recipient: PartnerInfo | None, path: str, name: str
) -> Iterator[Problem]:
    if not flow.safety_justification:
        yield Problem(
            a.source,
            path,
            "where_without_safety_justification",
            f"{name!r} reveals where someone at risk is; the flow must name a safety justification",
        )
    if recipient is not None and is_perpetrator_facing(a, recipient):
        yield Problem(
            a.source,
            path,
            "where_to_perpetrator_facing",
            f"{name!r} may never go to a perpetrator-facing recipient ({recipient.id!r})",
        )


_EXEMPTION_BASES = {
    "para18_2_a": ("SCH1_P18", "SCH8_P4"),
    "para18_2_b": ("SCH1_P18", "SCH8_P4"),
    "para18_2_c": ("SCH1_P18", "SCH8_P4"),
    "para10_prejudice": ("SCH1_P10",),
    "statutory_requirement": ("GDPR_6_1_C",),
    "part3_law_enforcement_task": ("DPA_PART3",),
}


def _consent_problems(
    a: Agreement, flow: Flow, bases: list[LawfulBasis], at: str
) -> Iterator[Problem]:
    if flow.consent == "not_required":
        if flow.consent_exemption is None:
            yield Problem(
                a.source,
                f"{at}.consent_exemption",
                "consent_exemption_missing",
                "a flow without consent must name why: "
                + ", ".join(_EXEMPTION_BASES),
            )
        elif not set(_EXEMPTION_BASES[flow.consent_exemption]) & set(flow.basis):
            yield Problem(
                a.source,
                f"{at}.consent_exemption",
                "consent_exemption_basis_mismatch",
                f"{flow.consent_exemption} needs one of "
                f"{', '.join(_EXEMPTION_BASES[flow.consent_exemption])} in the tuple",
            )
        elif flow.consent_exemption == "statutory_requirement" and not any(
            b.duty and b.kind in ("gateway", "duty") for b in bases
        ):
            # A power to share (s115, s14 OMA 2007, s16 PCSC) is not a requirement.
            yield Problem(
                a.source,
                f"{at}.consent_exemption",
                "statutory_requirement_without_duty",
                "statutory_requirement needs a gateway that imposes a duty to share "
                f"(lawful_bases.toml duty = true); {', '.join(flow.basis)} confer powers only",
            )
    elif flow.consent_exemption is not None:
        yield Problem(
            a.source,
            f"{at}.consent_exemption",
            "consent_exemption_unexpected",
            "consent_exemption only applies when consent is 'not_required'",
            "warning",
        )


def _record_problems(a: Agreement, partners: Mapping[str, PartnerInfo]) -> Iterator[Problem]:
    """The records the law asks an agreement to keep (Art 35 DPIA, review, overrides)."""
    if a.dpia_reference is None:
        yield Problem(
            a.source,
            "dpia_reference",
            "dpia_reference_missing",
            "record the data protection impact assessment (UK GDPR Art 35) in dpia_reference",
        )
    if not a.review_history:
        yield Problem(
            a.source,
            "review_history",
            "no_review_recorded",
            "no review is recorded (review_history)",
            "warning",
        )
    for i, party in enumerate(a.parties):
        partner = partners.get(party.id)
        if partner is None or party.perpetrator_facing is None:
            continue
        default = partner.type in PERPETRATOR_FACING_TYPES
        if party.perpetrator_facing != default and not party.perpetrator_facing_reason:
            yield Problem(
                a.source,
                f"parties[{i}].perpetrator_facing",
                "perpetrator_facing_override_without_reason",
                f"{party.id!r} overrides its perpetrator-facing default ({str(default).lower()}); "
                "record why in perpetrator_facing_reason",
            )
