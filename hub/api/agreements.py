"""``/api/v1/agreements`` and ``/api/v1/decisions``: the caller's agreements and dry runs."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from hub import db
from hub.agreements import services
from hub.api import examples
from hub.api.catalogue_schema import MESSAGE_DATA
from hub.api.fields import code, identifier, message_data
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
from hub.api.problems import BODY, problems
from hub.instance_secrets import keyed_hash_secret
from hub.oauth.protector import current_partner_id, requires
from hub.policy.children import AGE_BANDS
from hub.policy.request import NOT_SOUGHT_REASONS

blp = Blueprint("agreements", __name__, description="Information-sharing agreements")


class ConsentSchema(ma.Schema):
    state = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["given", "refused", "not_sought"])
    )
    reason = ma.fields.String(
        validate=ma.validate.OneOf(NOT_SOUGHT_REASONS),
        metadata={"description": "Why consent was not sought (para 18(2)(a)-(c), para 10)"},
    )
    record = identifier(
        metadata={"description": "The consent record relied on (/api/v1/consents)"},
    )


class SubjectSchema(ma.Schema):
    """What the sender declares about the person, beyond the data (no identifying value)."""

    age_band = ma.fields.String(
        validate=ma.validate.OneOf(AGE_BANDS),
        metadata={
            "description": "under_18 or adult, when no date_of_birth is sent (a date of birth "
            "that makes the subject a child wins: Children Act 1989 s105)"
        },
    )
    at_risk = ma.fields.Boolean(
        metadata={
            "description": "The adult subject is at risk (DPA 2018 Sch 1 para 18(3)): needed "
            "for a flow relying on para 18 to carry special-category or criminal fields "
            "about someone 18 or over"
        }
    )


class DecisionRequestSchema(ma.Schema):
    """What the caller would send; ``from`` is always the caller."""

    to = identifier(required=True)
    purpose = code(required=True)
    data = message_data(required=True, metadata=MESSAGE_DATA)
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)
    justification = ma.fields.String(validate=ma.validate.Length(1, 500))


class WithheldSchema(ma.Schema):
    field = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={"description": "e.g. not_in_allow_list"})
    detail = ma.fields.String(required=True)


class RefusalSchema(ma.Schema):
    reason = ma.fields.String(required=True, metadata={"description": "e.g. no_agreement"})
    detail = ma.fields.String(required=True)


class AgreementRefSchema(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    digest = ma.fields.String(required=True, metadata={"description": "sha256:<hex>"})
    flow = ma.fields.Integer(required=True, metadata={"description": "Index of the flow"})


class DecidedConsentSchema(ma.Schema):
    state = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, allow_none=True)


class DecisionSchema(ma.Schema):
    allowed = ma.fields.Boolean(required=True)
    outcome = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["share", "partial", "refuse"])
    )
    to = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    released = ma.fields.Dict(
        required=True, metadata={"description": "Field names to the values that would leave"}
    )
    withheld = ma.fields.List(ma.fields.Nested(WithheldSchema), required=True)
    refusals = ma.fields.List(ma.fields.Nested(RefusalSchema), required=True)
    agreement = ma.fields.Nested(AgreementRefSchema, required=True, allow_none=True)
    basis = ma.fields.List(ma.fields.String(), required=True)
    consent = ma.fields.Nested(DecidedConsentSchema, required=True)
    retention_days = ma.fields.Integer(required=True, allow_none=True)
    transforms = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "Field name to the redaction applied, e.g. initials"},
    )
    opinion = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Released fields that are opinion, not fact (ICO code)"},
    )


class FlowSchema(ma.Schema):
    class Meta:
        include = {"from": ma.fields.String(required=True)}

    to = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    basis = ma.fields.List(ma.fields.String(), required=True)
    # Named apart from ``Schema.fields``; serialised as "fields" (field name -> rule).
    field_rules = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        attribute="fields",
        data_key="fields",
        required=True,
        metadata={"description": "Field name to release or a transform"},
    )
    consent = ma.fields.String(required=True)
    fact_only = ma.fields.Boolean(required=True)
    retention_days = ma.fields.Integer(required=True)


class StatusReasonSchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class PartySchema(ma.Schema):
    id = ma.fields.String(required=True)
    role = ma.fields.String(required=True)


class AgreementSchema(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    digest = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "e.g. in_force, expired"})
    reasons = ma.fields.List(ma.fields.Nested(StatusReasonSchema), required=True)
    warnings = ma.fields.List(ma.fields.Nested(StatusReasonSchema), required=True)
    effective_from = ma.fields.String(required=True, metadata={"format": "date"})
    effective_to = ma.fields.String(required=True, allow_none=True, metadata={"format": "date"})
    review_by = ma.fields.String(required=True, metadata={"format": "date"})
    review_overdue = ma.fields.Boolean(required=True)
    purposes = ma.fields.List(ma.fields.String(), required=True)
    parties = ma.fields.List(ma.fields.Nested(PartySchema), required=True)
    signed_by = ma.fields.List(ma.fields.String(), required=True)
    flows = ma.fields.List(ma.fields.Nested(FlowSchema), required=True)


def _catalogues() -> Any:
    return current_app.extensions["hub.catalogues"]


@blp.route("/agreements")
class Agreements(MethodView):
    @requires("agreements:read")
    @blp.response(200, AgreementSchema(many=True), example=[examples.AGREEMENT])
    @blp.doc(operationId="listAgreements")
    def get(self) -> list[dict[str, Any]]:
        """Every agreement the caller is a party to, with live status and review dates.

        Status is computed now: in force, not yet in force, expired, unsigned or invalid,
        with every reason; each flow lists its fields, lawful basis and consent rule.
        """
        return services.agreements_for(
            db.session(), _catalogues(), current_partner_id(), db.utcnow()
        )


@blp.route("/agreements/<agreement_id>")
class AgreementById(MethodView):
    @requires("agreements:read")
    @blp.response(200, AgreementSchema(many=True), example=[examples.AGREEMENT])
    @blp.doc(operationId="getAgreement")
    @problems(404)
    def get(self, agreement_id: str) -> list[dict[str, Any]]:
        """Every version of one agreement (404 unless the caller is a party).

        Oldest version first; a party that is not yours answers exactly as a missing one.
        """
        return services.agreement_for(
            db.session(), _catalogues(), current_partner_id(), agreement_id, db.utcnow()
        )


@blp.route("/decisions")
class Decisions(MethodView):
    @requires("agreements:read")
    @blp.arguments(DecisionRequestSchema, example=examples.REFERRAL)
    @blp.response(200, DecisionSchema, example=examples.DECISION)
    @blp.doc(operationId="decide")
    @problems(*BODY)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Dry run: what would be released, transformed and withheld, and why. Logs nothing.

        Decided exactly as a referral would be, field by field under the caller's in-force
        agreements; a refusal is a 200 with `allowed: false` and every reason. A field not
        in the catalogue is a 422 pointing at it.
        """
        settings = current_app.config["HUB_SETTINGS"]
        with policy_request():
            decision = services.dry_run(
                db.session(),
                _catalogues(),
                current_partner_id(),
                body,
                db.utcnow(),
                keyed_hash_secret(settings),
            )
        result = decision.as_dict()
        if result["agreement"]:
            result["agreement"]["digest"] = f"sha256:{result['agreement']['digest']}"
        return result
