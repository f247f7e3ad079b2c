"""``decide()``: the pure decision of what one request may release (deny by default).

The same function serves real shares and "what would be shared?" dry runs. It finds the
in-force agreement flow for (from, to, purpose), then looks at each field on its own: release,
transform or withhold, with a machine-readable reason for everything withheld. If no flow
applies, everything is refused with the reasons; the caller records refusals on the ledger too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from hub.policy.agreement import RELEASE, Flow
from hub.policy.catalogue import Catalogues, FieldSpec, LawfulBasis
from hub.policy.children import child_rule, para18_unmet, subject_is_adult, subject_is_child
from hub.policy.consent import ConsentRecord, record_problem
from hub.policy.justification import class_problem
from hub.policy.partner_info import PartnerInfo
from hub.policy.reasons import Reason, reason_text
from hub.policy.request import ShareRequest, parse_request
from hub.policy.status import RegisteredAgreement, agreement_status
from hub.policy.transforms import TransformError, apply_transform
from hub.policy.validate import is_perpetrator_facing


@dataclass(frozen=True)
class Withheld:
    """One field not released, and why (names only)."""

    field: str
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Refusal:
    """One reason nothing at all was released."""

    reason: Reason
    detail: str


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`, with everything the ledger must record."""

    allowed: bool
    sender: str
    recipient: str
    purpose: str
    released: Mapping[str, Any]
    withheld: tuple[Withheld, ...]
    refusals: tuple[Refusal, ...]
    consent_state: str
    consent_reason: str | None = None
    consent_record: str | None = None
    agreement_id: str | None = None
    agreement_version: int | None = None
    agreement_digest: str | None = None
    flow_index: int | None = None
    basis: tuple[str, ...] = ()
    retention_days: int | None = None
    onward_sharing: str | None = None
    transforms: Mapping[str, str] = field(default_factory=dict)
    # Released fields that are opinion, not fact (ICO data-sharing code: "fact and opinion
    # clearly distinguished"); by field, so a transformed opinion stays marked.
    opinion: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``share`` (all released), ``partial`` (some withheld) or ``refuse``."""
        if not self.allowed:
            return "refuse"
        return "partial" if self.withheld else "share"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API and the ledger (values only under ``released``)."""
        return {
            "allowed": self.allowed,
            "outcome": self.outcome,
            "from": self.sender,
            "to": self.recipient,
            "purpose": self.purpose,
            "released": dict(self.released),
            "withheld": [
                {"field": w.field, "reason": str(w.reason), "detail": w.detail}
                for w in self.withheld
            ],
            "refusals": [{"reason": str(r.reason), "detail": r.detail} for r in self.refusals],
            "agreement": None
            if self.agreement_id is None
            else {
                "id": self.agreement_id,
                "version": self.agreement_version,
                "digest": self.agreement_digest,
                "flow": self.flow_index,
            },
            "basis": list(self.basis),
            "consent": {
                "state": self.consent_state,
                "reason": self.consent_reason,
                **({"record": self.consent_record} if self.consent_record else {}),
            },
            "retention_days": self.retention_days,
            "onward_sharing": self.onward_sharing,
            "transforms": dict(self.transforms),
            "opinion": list(self.opinion),
        }


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _refuse(
    req: ShareRequest,
    refusals: list[Refusal],
    found: tuple[RegisteredAgreement, Flow] | None = None,
) -> Decision:
    """Refuse wholesale: every supplied field is withheld under the first reason."""
    first = refusals[0]
    withheld = tuple(Withheld(name, first.reason, first.detail) for name in req.data)
    extra: dict[str, Any] = {}
    if found is not None:
        reg, flow = found
        extra = {
            "agreement_id": reg.agreement.id,
            "agreement_version": reg.agreement.version,
            "agreement_digest": reg.digest,
            "flow_index": flow.index,
            "basis": flow.basis,
            "retention_days": flow.retention_days,
            "onward_sharing": flow.onward_sharing,
        }
    return Decision(
        allowed=False,
        sender=req.sender,
        recipient=req.recipient,
        purpose=req.purpose,
        released=MappingProxyType({}),
        withheld=withheld,
        refusals=tuple(refusals),
        consent_state=req.consent_state,
        consent_reason=req.consent_reason,
        **extra,
    )


_STATUS_REASON = {
    "draft": Reason.AGREEMENT_DRAFT,
    "invalid": Reason.AGREEMENT_INVALID,
    "not_yet_in_force": Reason.AGREEMENT_NOT_YET_IN_FORCE,
    "expired": Reason.AGREEMENT_EXPIRED,
    "suspended": Reason.AGREEMENT_SUSPENDED,
    "terminated": Reason.AGREEMENT_TERMINATED,
    "superseded": Reason.AGREEMENT_SUPERSEDED,
}


def _find_flow(
    req: ShareRequest, agreements: Sequence[RegisteredAgreement], now: dt.datetime
) -> tuple[RegisteredAgreement, Flow] | list[Refusal]:
    """The in-force flow for (from, to, purpose), or every reason there is none."""
    pairs = [
        (reg, f)
        for reg in agreements
        for f in reg.agreement.flows
        if f.sender == req.sender and f.recipient == req.recipient
    ]
    names = {"sender": req.sender, "recipient": req.recipient, "purpose": req.purpose}
    if not pairs:
        return [Refusal(Reason.NO_AGREEMENT, reason_text(Reason.NO_AGREEMENT, **names))]
    matching = [(reg, f) for reg, f in pairs if f.purpose == req.purpose]
    if not matching:
        purposes = ", ".join(sorted({f.purpose for _, f in pairs}))
        return [
            Refusal(
                Reason.WRONG_PURPOSE, reason_text(Reason.WRONG_PURPOSE, detail=purposes, **names)
            )
        ]
    refusals: list[Refusal] = []
    in_force = []
    for reg, f in matching:
        status = agreement_status(reg, now, agreements)
        if status.in_force:
            in_force.append((reg, f))
        else:
            code = _STATUS_REASON[status.status]
            refusals.append(Refusal(code, "; ".join(r.message for r in status.reasons)))
    if in_force:
        # Several in force: the most recent one governs (deterministic order).
        return max(
            in_force,
            key=lambda p: (
                p[0].agreement.effective_from,
                p[0].agreement.version,
                p[0].agreement.id,
            ),
        )
    return refusals


def _consent_refusal(req: ShareRequest, flow: Flow) -> Refusal | None:
    """A consent flow needs a live consent record on each message (docs/law.md)."""
    if flow.consent == "required" and req.consent_state != "given":
        code = (
            Reason.CONSENT_REFUSED
            if req.consent_state == "refused"
            else Reason.CONSENT_REQUIRED_BUT_ABSENT
        )
        return Refusal(code, reason_text(code))
    if flow.consent == "preferred":
        if req.consent_state == "refused" and not req.justification:
            return Refusal(
                Reason.CONSENT_REFUSED_WITHOUT_JUSTIFICATION,
                reason_text(Reason.CONSENT_REFUSED_WITHOUT_JUSTIFICATION),
            )
        if req.consent_state == "not_sought" and not req.consent_reason:
            return Refusal(
                Reason.CONSENT_NOT_SOUGHT_WITHOUT_REASON,
                reason_text(Reason.CONSENT_NOT_SOUGHT_WITHOUT_REASON),
            )
    return None


@dataclass(frozen=True)
class _FlowContext:
    reg: RegisteredAgreement
    flow: Flow
    catalogues: Catalogues
    recipient: PartnerInfo
    justification: str | None
    today: dt.date
    secret: bytes | None
    child: bool = False
    adult_not_at_risk: bool = False  # DPA 2018 Sch 1 para 18(1)(a), (3)
    # The flow's lawful-basis tuple, and what it says of each field class (a message's
    # fields share a few classes): worked out once per decision, not once per field.
    bases: tuple[LawfulBasis, ...] = ()
    class_problems: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def class_problem(self, cls: str) -> tuple[str, str] | None:
        if cls not in self.class_problems:
            required = self.flow.consent == "required"
            self.class_problems[cls] = class_problem(cls, self.bases, required)
        return self.class_problems[cls]


def _applied(flow: Flow, name: str, child: bool) -> str:
    """The action applied to a released field (a child rule's stricter transform wins)."""
    if child and flow.children is not None and name in flow.children.transforms:
        return flow.children.transforms[name]
    return flow.fields[name]


def _field_outcome(ctx: _FlowContext, spec: FieldSpec, value: Any) -> tuple[Any, Withheld | None]:
    """Release (possibly transformed) or withhold one field; checks run most specific first."""
    flow, name = ctx.flow, spec.name

    def hold(reason: Reason, detail: str = "") -> tuple[None, Withheld]:
        return None, Withheld(name, reason, reason_text(reason, field=name, detail=detail))

    if spec.opinion and flow.fact_only:
        return hold(Reason.OPINION_ON_FACT_ONLY_FLOW)
    action = flow.fields.get(name)
    if action is None:
        return hold(Reason.NOT_IN_ALLOW_LIST, f"{ctx.reg.agreement.id}#{flow.index}")
    if ctx.child:
        child_action, held = child_rule(flow.children, name, spec.cls, action)
        if child_action is None:
            return hold(Reason(held) if held else Reason.CHILD_HIGH_PRIVACY_DEFAULT)
        action = child_action
    problem = ctx.class_problem(spec.cls)
    if problem is not None:
        return hold(Reason(problem[0]), problem[1])
    if para18_unmet(spec.cls, ctx.bases, ctx.adult_not_at_risk):
        return hold(Reason.PARA18_ADULT_NOT_AT_RISK)
    if spec.cls == "WHERE":
        if is_perpetrator_facing(ctx.reg.agreement, ctx.recipient):
            return hold(Reason.WHERE_TO_PERPETRATOR_FACING)
        if not flow.safety_justification or not ctx.justification:
            return hold(Reason.WHERE_WITHOUT_JUSTIFICATION)
    if action == RELEASE:
        return _json_value(value), None
    if action not in spec.transforms:  # fail closed on an unvalidated agreement
        return hold(Reason.TRANSFORM_FAILED, action)
    if action == "keyed_hash" and not ctx.secret:
        return hold(Reason.TRANSFORM_UNAVAILABLE, action)
    try:
        return _json_value(apply_transform(action, value, ctx.today, ctx.secret)), None
    except TransformError:
        return hold(Reason.TRANSFORM_FAILED, action)


def decide(
    request: ShareRequest | Mapping[str, Any],
    agreements: Sequence[RegisteredAgreement],
    catalogues: Catalogues,
    partners: Mapping[str, PartnerInfo],
    now: dt.datetime,
    *,
    keyed_hash_secret: bytes | None = None,
    consent_records: Mapping[str, ConsentRecord] | None = None,
) -> Decision:
    """Decide what ``request`` may release. Raises RequestValidationError (422) if malformed.

    ``consent_records`` (by id): the caller's consent records; with them, a consent flow's
    message must cite a live record in scope (consent.py).
    """
    req = (
        request if isinstance(request, ShareRequest) else parse_request(request, catalogues.fields)
    )
    for pid in (req.sender, req.recipient):
        if pid not in partners:
            return _refuse(
                req,
                [Refusal(Reason.UNKNOWN_PARTNER, reason_text(Reason.UNKNOWN_PARTNER, detail=pid))],
            )
    found = _find_flow(req, agreements, now)
    if isinstance(found, list):
        return _refuse(req, found)
    reg, flow = found
    consent = _consent_refusal(req, flow)
    if consent is not None:
        return _refuse(req, [consent], found)
    record = record_problem(
        req.consent_record,
        consent_records,
        sender=req.sender,
        recipient=req.recipient,
        purpose=req.purpose,
        flow=flow,
        now=now,
        state=req.consent_state,
    )
    if record is not None:
        return _refuse(req, [Refusal(*record)], found)
    ctx = _FlowContext(
        reg,
        flow,
        catalogues,
        partners[req.recipient],
        req.justification,
        now.date(),
        keyed_hash_secret,
        subject_is_child(req.data, req.subject_age_band, now.date()),
        subject_is_adult(req.data, req.subject_age_band, now.date()) and not req.subject_at_risk,
        tuple(catalogues.bases[c] for c in flow.basis if c in catalogues.bases),
    )
    released: dict[str, Any] = {}
    withheld: list[Withheld] = []
    for name, value in req.data.items():
        out, held = _field_outcome(ctx, catalogues.fields[name], value)
        if held is None:
            released[name] = out
        else:
            withheld.append(held)
    if not released:
        refusal = Refusal(Reason.NOTHING_TO_RELEASE, reason_text(Reason.NOTHING_TO_RELEASE))
        return replace(_refuse(req, [refusal], found), withheld=tuple(withheld))
    return Decision(
        allowed=True,
        sender=req.sender,
        recipient=req.recipient,
        purpose=req.purpose,
        released=MappingProxyType(released),
        withheld=tuple(withheld),
        refusals=(),
        consent_state=req.consent_state,
        consent_reason=req.consent_reason,
        consent_record=req.consent_record,
        agreement_id=reg.agreement.id,
        agreement_version=reg.agreement.version,
        agreement_digest=reg.digest,
        flow_index=flow.index,
        basis=flow.basis,
        retention_days=flow.retention_days,
        onward_sharing=flow.onward_sharing,
        transforms=MappingProxyType(
            {n: a for n in released if (a := _applied(flow, n, ctx.child)) != RELEASE}
        ),
        opinion=tuple(sorted(n for n in released if catalogues.fields[n].opinion)),
    )
