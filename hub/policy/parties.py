"""Who may use a gateway, and for what: the statutes' own lists, by statutory role.

Each gateway in ``lawful_bases.toml`` names the roles that may disclose (``sender_roles``), the
roles that may receive (``recipient_roles``, with ``recipient_may_act_for`` for s115 CDA 1998's
"a person acting on behalf of" a relevant authority), the roles one of which must be at either
end (``one_end_roles``: s14 OMA 2007's Secretary of State or probation provider), the senders
it excludes (PCSC 2022 s16(4)(b): health and social care authorities), the field tags it may
never carry (s16(4)(a): patient information) and the purposes it serves. Every problem carries
the gateway's own statute reference, so a refusal names the law behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hub.policy.agreement import Agreement, Flow
from hub.policy.catalogue import Catalogues, LawfulBasis
from hub.policy.partner_info import PartnerInfo
from hub.policy.problems import Problem


def _roles(partner: PartnerInfo) -> str:
    return ", ".join(partner.statutory_roles) or "no statutory role"


def role_problems(
    a: Agreement,
    flow: Flow,
    basis: LawfulBasis,
    sender: PartnerInfo,
    recipient: PartnerInfo,
    acting_for: PartnerInfo | None,
    at: str,
) -> Iterator[Problem]:
    """The gateway's party rules for one flow."""

    def problem(code: str, message: str, path: str = f"{at}.basis") -> Problem:
        return Problem(a.source, path, code, message, statute=basis.reference)

    if basis.sender_roles and not sender.holds_any(basis.sender_roles):
        yield problem(
            "sender_not_eligible",
            f"{basis.code} ({basis.reference}) may be used only by "
            f"{', '.join(basis.sender_roles)}; {sender.id!r} holds {_roles(sender)}",
        )
    if basis.recipient_roles and not recipient.holds_any(basis.recipient_roles):
        yield from _acting_for(a, flow, basis, recipient, acting_for, at, problem)
    if basis.one_end_roles and not (
        sender.holds_any(basis.one_end_roles) or recipient.holds_any(basis.one_end_roles)
    ):
        yield problem(
            "no_required_party_at_either_end",
            f"{basis.code} ({basis.reference}) needs {' or '.join(basis.one_end_roles)} "
            f"at one end; neither {sender.id!r} nor {recipient.id!r} is",
        )
    if sender.holds_any(basis.sender_roles_excluded):
        yield problem(
            "sender_excluded_by_statute",
            f"{basis.code} ({basis.reference}) does not authorise a disclosure of personal "
            f"information by {sender.id!r} ({_roles(sender)}): a health or social care authority",
        )


def _acting_for(
    a: Agreement,
    flow: Flow,
    basis: LawfulBasis,
    recipient: PartnerInfo,
    acting_for: PartnerInfo | None,
    at: str,
    make: Callable[..., Problem],
) -> Iterator[Problem]:
    listed = ", ".join(basis.recipient_roles)
    if not basis.recipient_may_act_for or acting_for is None:
        yield make(
            "recipient_not_eligible",
            f"{basis.code} ({basis.reference}) needs the recipient to be {listed}"
            + (" (or act on behalf of one)" if basis.recipient_may_act_for else "")
            + f"; {recipient.id!r} holds {_roles(recipient)}",
        )
        return
    if not acting_for.holds_any(basis.recipient_roles):
        yield make(
            "recipient_not_eligible",
            f"{basis.code} ({basis.reference}): {flow.acting_for!r}, for whom "
            f"{recipient.id!r} acts, is not {listed}",
        )
    elif acting_for.id not in a.party_ids and not flow.acting_for_contract:
        # "Acting on behalf of" must be evidenced: the authority signs, or a contract is cited.
        yield make(
            "acting_for_not_evidenced",
            f"{basis.code} ({basis.reference}): {recipient.id!r} acting on behalf of "
            f"{acting_for.id!r} needs that authority as a party to the agreement (so it signs) "
            "or a contract or processor reference on the flow (acting_for_contract)",
            f"{at}.acting_for",
        )


def purpose_problems(
    a: Agreement, flow: Flow, bases: list[LawfulBasis], catalogues: Catalogues, at: str
) -> Iterator[Problem]:
    """The flow's purpose must be a known code, served by every gateway in its tuple."""
    if flow.purpose not in catalogues.purposes:
        yield Problem(
            a.source,
            f"{at}.purpose",
            "unknown_purpose",
            f"{flow.purpose!r} is not a purpose code of the lawful-basis catalogue",
        )
        return
    for basis in bases:
        if basis.kind == "gateway" and flow.purpose not in basis.purposes:
            yield Problem(
                a.source,
                f"{at}.purpose",
                "purpose_not_served_by_gateway",
                f"{basis.code} ({basis.reference}) serves {', '.join(basis.purposes)}, "
                f"not {flow.purpose!r}",
                statute=basis.reference,
            )


def tag_problems(
    a: Agreement, flow: Flow, bases: list[LawfulBasis], catalogues: Catalogues, at: str
) -> Iterator[Problem]:
    """Fields a gateway may never carry by their nature (PCSC 2022 s16(4)(a))."""
    for name in flow.fields:
        spec = catalogues.fields.get(name)
        if spec is None:
            continue
        for basis in bases:
            barred = spec.tags & set(basis.excludes_field_tags)
            if barred:
                yield Problem(
                    a.source,
                    f"{at}.fields.{name}",
                    "field_excluded_by_statute",
                    f"{name!r} is {', '.join(sorted(barred)).replace('_', ' ')}: "
                    f"{basis.code} ({basis.reference}) does not authorise its disclosure",
                    statute=basis.reference,
                )


def known_purposes(a: Agreement, catalogues: Catalogues) -> Iterator[Problem]:
    """Every purpose the agreement declares is a catalogue code."""
    for purpose in a.purposes:
        if purpose not in catalogues.purposes:
            yield Problem(
                a.source,
                "purposes",
                "unknown_purpose",
                f"{purpose!r} is not a purpose code of the lawful-basis catalogue",
            )
