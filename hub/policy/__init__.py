"""The pure policy engine: catalogues, agreements, signatures, validation and ``decide()``.

No Flask, no SQLAlchemy: stdlib, tomllib, rfc8785 and joserfc only, so partners can reuse it
and tests need no application. See docs/law.md for the rules it encodes.
"""

from hub.policy.agreement import Agreement, Flow, Party, parse_agreement
from hub.policy.catalogue import Catalogues, FieldSpec, LawfulBasis, load_catalogues
from hub.policy.decision import Decision, Refusal, Withheld, decide
from hub.policy.errors import FieldProblem, PolicyError, PolicyFileError, RequestValidationError
from hub.policy.partner_info import PartnerInfo, load_partners
from hub.policy.reasons import Reason
from hub.policy.registry import (
    PolicySet,
    VerifyReport,
    load_agreement_file,
    load_agreements,
    load_keys,
    load_policy,
    sign_agreement_file,
    verify_agreement_file,
)
from hub.policy.request import ShareRequest, parse_request
from hub.policy.signatures import (
    SignatureResult,
    agreement_digest,
    canonical_bytes,
    sign_agreement,
    verify_signatures,
)
from hub.policy.status import (
    AgreementStatus,
    RegisteredAgreement,
    agreement_status,
    register_agreement,
)
from hub.policy.template import render_agreement_template
from hub.policy.validate import Problem, validate_agreement

__all__ = [
    "Agreement",
    "AgreementStatus",
    "Catalogues",
    "Decision",
    "FieldProblem",
    "FieldSpec",
    "Flow",
    "LawfulBasis",
    "PartnerInfo",
    "Party",
    "PolicyError",
    "PolicyFileError",
    "PolicySet",
    "Problem",
    "Reason",
    "Refusal",
    "RegisteredAgreement",
    "RequestValidationError",
    "ShareRequest",
    "SignatureResult",
    "VerifyReport",
    "Withheld",
    "agreement_digest",
    "agreement_status",
    "canonical_bytes",
    "decide",
    "load_agreement_file",
    "load_agreements",
    "load_catalogues",
    "load_keys",
    "load_partners",
    "load_policy",
    "parse_agreement",
    "parse_request",
    "register_agreement",
    "render_agreement_template",
    "sign_agreement",
    "sign_agreement_file",
    "validate_agreement",
    "verify_agreement_file",
    "verify_signatures",
]
