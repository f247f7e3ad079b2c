"""Machine-readable reason codes for refusals and withheld fields, with their human texts.

HM Government advice: record the decision and the reason whether you share or not. Texts are
built from field names, partner ids and agreement ids only — never from a value, because a
reason is logged and shown to the sender, and the ledger holds no personal data.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a request was refused wholesale, or why one field was withheld."""

    # wholesale refusals
    NO_AGREEMENT = "no_agreement"
    WRONG_PURPOSE = "wrong_purpose"
    UNKNOWN_PARTNER = "unknown_partner"
    AGREEMENT_DRAFT = "agreement_draft"
    AGREEMENT_INVALID = "agreement_invalid"
    AGREEMENT_NOT_YET_IN_FORCE = "agreement_not_yet_in_force"
    AGREEMENT_EXPIRED = "agreement_expired"
    AGREEMENT_SUSPENDED = "agreement_suspended"
    AGREEMENT_TERMINATED = "agreement_terminated"
    AGREEMENT_SUPERSEDED = "agreement_superseded"
    CONSENT_REFUSED = "consent_refused"
    CONSENT_REQUIRED_BUT_ABSENT = "consent_required_but_absent"
    CONSENT_REFUSED_WITHOUT_JUSTIFICATION = "consent_refused_without_justification"
    CONSENT_NOT_SOUGHT_WITHOUT_REASON = "consent_not_sought_without_reason"
    CONSENT_RECORD_MISSING = "consent_record_missing"
    CONSENT_RECORD_UNKNOWN = "consent_record_unknown"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_OUT_OF_SCOPE = "consent_out_of_scope"
    CONSENT_NOT_EXPLICIT = "consent_not_explicit"
    NOTHING_TO_RELEASE = "nothing_to_release"
    # per-field withholding
    NOT_IN_ALLOW_LIST = "not_in_allow_list"
    CLASS_NOT_JUSTIFIED_BY_BASIS = "class_not_justified_by_basis"
    CLASS_EXCLUDED_BY_BASIS = "class_excluded_by_basis"
    SPECIAL_CATEGORY_WITHOUT_ART9 = "special_category_without_art9"
    CRIMINAL_OFFENCE_WITHOUT_ART10 = "criminal_offence_without_art10"
    SENSITIVE_PROCESSING_WITHOUT_SCH8 = "sensitive_processing_without_sch8"
    WHERE_WITHOUT_JUSTIFICATION = "where_without_justification"
    WHERE_TO_PERPETRATOR_FACING = "where_to_perpetrator_facing"
    OPINION_ON_FACT_ONLY_FLOW = "opinion_on_fact_only_flow"
    WITHHELD_FOR_CHILD = "withheld_for_child"
    CHILD_HIGH_PRIVACY_DEFAULT = "child_high_privacy_default"
    PARA18_ADULT_NOT_AT_RISK = "para18_adult_not_at_risk"
    TRANSFORM_FAILED = "transform_failed"
    TRANSFORM_UNAVAILABLE = "transform_unavailable"


TEXTS: dict[Reason, str] = {
    Reason.NO_AGREEMENT: "no agreement has a flow from {sender} to {recipient}",
    Reason.WRONG_PURPOSE: "no flow from {sender} to {recipient} for purpose {purpose}; "
    "agreed purposes: {detail}",
    Reason.UNKNOWN_PARTNER: "{detail} is not a registered partner",
    Reason.AGREEMENT_DRAFT: "{detail}",
    Reason.AGREEMENT_INVALID: "{detail}",
    Reason.AGREEMENT_NOT_YET_IN_FORCE: "{detail}",
    Reason.AGREEMENT_EXPIRED: "{detail}",
    Reason.AGREEMENT_SUSPENDED: "{detail}",
    Reason.AGREEMENT_TERMINATED: "{detail}",
    Reason.AGREEMENT_SUPERSEDED: "{detail}",
    Reason.CONSENT_REFUSED: "the flow needs consent and the subject refused it",
    Reason.CONSENT_REQUIRED_BUT_ABSENT: "the flow needs a live consent record and none was given",
    Reason.CONSENT_REFUSED_WITHOUT_JUSTIFICATION: (
        "consent was refused; sharing anyway needs a recorded justification"
    ),
    Reason.CONSENT_NOT_SOUGHT_WITHOUT_REASON: (
        "consent is preferred on this flow; say why it was not sought (consent.reason)"
    ),
    Reason.CONSENT_RECORD_MISSING: "{detail}",
    Reason.CONSENT_RECORD_UNKNOWN: "{detail}",
    Reason.CONSENT_WITHDRAWN: "{detail}",
    Reason.CONSENT_OUT_OF_SCOPE: "{detail}",
    Reason.CONSENT_NOT_EXPLICIT: "{detail}",
    Reason.NOTHING_TO_RELEASE: "every field supplied was withheld",
    Reason.NOT_IN_ALLOW_LIST: "{field} is not on the allow-list of flow {detail}",
    Reason.CLASS_NOT_JUSTIFIED_BY_BASIS: "{field}: {detail}",
    Reason.CLASS_EXCLUDED_BY_BASIS: "{field}: {detail}",
    Reason.SPECIAL_CATEGORY_WITHOUT_ART9: "{field}: {detail}",
    Reason.CRIMINAL_OFFENCE_WITHOUT_ART10: "{field}: {detail}",
    Reason.SENSITIVE_PROCESSING_WITHOUT_SCH8: "{field}: {detail}",
    Reason.WHERE_WITHOUT_JUSTIFICATION: (
        "{field} reveals where someone at risk is; it needs the flow's safety justification "
        "and a justification on the request"
    ),
    Reason.WHERE_TO_PERPETRATOR_FACING: "{field} never goes to a perpetrator-facing recipient",
    Reason.OPINION_ON_FACT_ONLY_FLOW: "{field} is opinion and this flow carries facts only",
    Reason.WITHHELD_FOR_CHILD: "{field} is withheld from a child's record under this flow",
    Reason.PARA18_ADULT_NOT_AT_RISK: (
        "{field} rests on DPA 2018 Sch 1 para 18 alone, which protects a child or an adult at "
        "risk (para 18(1)(a), (3)); the subject is 18 or over and not declared subject.at_risk"
    ),
    Reason.CHILD_HIGH_PRIVACY_DEFAULT: (
        "{field} is withheld for a subject under 18: the agreement does not allow it for "
        "children (ICO high privacy default)"
    ),
    Reason.TRANSFORM_FAILED: "{field} could not be transformed with {detail}",
    Reason.TRANSFORM_UNAVAILABLE: "{field} needs {detail} and no secret is configured",
}


def reason_text(reason: Reason, **names: str) -> str:
    """The human text for a reason; callers pass names and ids only, never values."""
    defaults = {"field": "", "detail": "", "sender": "", "recipient": "", "purpose": ""}
    return TEXTS[reason].format(**(defaults | names))
