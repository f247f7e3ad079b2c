"""The validator: refuse an agreement whose flows the law does not support (DOMAIN.md rules).

Every rule returns :class:`Problem` values naming the file and the field path, so an operator
running ``hub agreements verify`` sees every reason at once, not the first. An agreement with
any ``error`` problem is never in force (``status.py``); warnings are for the register.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hub.policy.agreement import RELEASE, Agreement, Flow
from hub.policy.catalogue import Catalogues, LawfulBasis
from hub.policy.justification import class_problem
from hub.policy.partner_info import PERPETRATOR_FACING_TYPES, PartnerInfo


@dataclass(frozen=True)
class Problem:
    """One reason an agreement is refused (``error``) or needs attention (``warning``)."""

    file: str
    path: str
    code: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message} [{self.code}]"


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
            yield from _eligibility(a, flow, basis, sender, recipient, acting_for, at)
        yield from _art6_problems(a, flow, bases, sender, recipient, at)
    yield from _field_problems(a, flow, bases, catalogues, recipient, at)
    yield from _consent_problems(a, flow, at)


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
    acting_for: PartnerInfo | None,
    at: str,
) -> Iterator[Problem]:
    path = f"{at}.basis"
    for flag in basis.sender_must_be:
        if not sender.flag(flag):
            yield Problem(
                a.source,
                path,
                "sender_not_eligible",
                f"{basis.code} needs the sender to be a {flag.replace('_', ' ')}; "
                f"{sender.id!r} is not",
            )
    for flag in basis.sender_must_not_be:
        if sender.flag(flag):
            # e.g. Art 6(1)(ea): public authorities cannot rely on it for their tasks.
            yield Problem(
                a.source,
                path,
                "sender_not_eligible",
                f"{basis.code} cannot be relied on by a {flag.replace('_', ' ')} ({sender.id!r})",
            )
    for flag in basis.recipient_must_be:
        # s115: disclosure to a relevant authority "or a person acting on behalf of" one.
        if not recipient.flag(flag) and not (acting_for is not None and acting_for.flag(flag)):
            yield Problem(
                a.source,
                path,
                "recipient_not_eligible",
                f"{basis.code} needs the recipient to be a {flag.replace('_', ' ')} "
                f"(or act for one); {recipient.id!r} is not",
            )
    if sender.type in basis.sender_types_excluded:
        yield Problem(
            a.source,
            path,
            "sender_type_excluded",
            f"{basis.code} cannot release data held by a {sender.type.replace('_', ' ')} body",
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
        found = class_problem(spec.cls, bases)
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
    "para18_2_a": ("SCH1_P18",),
    "para18_2_b": ("SCH1_P18",),
    "para18_2_c": ("SCH1_P18",),
    "para10_prejudice": ("SCH1_P10",),
    "statutory_requirement": ("GDPR_6_1_C", "SCH1_P6", "DPA_PART3"),
}


def _consent_problems(a: Agreement, flow: Flow, at: str) -> Iterator[Problem]:
    if flow.consent == "not_required":
        if flow.consent_exemption is None:
            yield Problem(
                a.source,
                f"{at}.consent_exemption",
                "consent_exemption_missing",
                "a flow without consent must name why: para18_2_a, para18_2_b, para18_2_c, "
                "para10_prejudice or statutory_requirement",
            )
        elif not set(_EXEMPTION_BASES[flow.consent_exemption]) & set(flow.basis):
            yield Problem(
                a.source,
                f"{at}.consent_exemption",
                "consent_exemption_basis_mismatch",
                f"{flow.consent_exemption} needs one of "
                f"{', '.join(_EXEMPTION_BASES[flow.consent_exemption])} in the tuple",
            )
    elif flow.consent_exemption is not None:
        yield Problem(
            a.source,
            f"{at}.consent_exemption",
            "consent_exemption_unexpected",
            "consent_exemption only applies when consent is 'not_required'",
            "warning",
        )
