"""``/api/v1/agreements`` and ``/api/v1/decisions``: the caller's agreements and dry runs."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from hub import db
from hub.agreements import services
from hub.api.fields import code, identifier, message_data
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
from hub.instance_secrets import keyed_hash_secret
from hub.oauth.protector import current_partner_id, requires
from hub.policy.children import AGE_BANDS

blp = Blueprint("agreements", __name__, description="Information-sharing agreements")


class ConsentSchema(ma.Schema):
    state = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["given", "refused", "not_sought"])
    )
    reason = ma.fields.String(
        metadata={"description": "Why consent was not sought (para 18(2)(a)-(c), para 10)"}
    )
    record = ma.fields.String(
        validate=ma.validate.Length(1, 64),
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
    data = message_data(
        required=True,
        metadata={"description": "Flat object of catalogue field names to values"},
    )
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)
    justification = ma.fields.String(validate=ma.validate.Length(1, 500))


class WithheldSchema(ma.Schema):
    field = ma.fields.String()
    reason = ma.fields.String()
    detail = ma.fields.String()


class AgreementRefSchema(ma.Schema):
    id = ma.fields.String()
    version = ma.fields.Integer()
    digest = ma.fields.String()
    flow = ma.fields.Integer()


class DecisionSchema(ma.Schema):
    allowed = ma.fields.Boolean()
    outcome = ma.fields.String(metadata={"description": "share, partial or refuse"})
    to = ma.fields.String()
    purpose = ma.fields.String()
    released = ma.fields.Dict()
    withheld = ma.fields.List(ma.fields.Nested(WithheldSchema))
    refusals = ma.fields.List(ma.fields.Dict())
    agreement = ma.fields.Nested(AgreementRefSchema, allow_none=True)
    basis = ma.fields.List(ma.fields.String())
    consent = ma.fields.Dict()
    retention_days = ma.fields.Integer(allow_none=True)
    transforms = ma.fields.Dict()
    opinion = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "released fields that are opinion, not fact (ICO code)"},
    )


class FlowSchema(ma.Schema):
    class Meta:
        include = {"from": ma.fields.String()}

    to = ma.fields.String()
    purpose = ma.fields.String()
    basis = ma.fields.List(ma.fields.String())
    # Named apart from ``Schema.fields``; serialised as "fields" (field name -> rule).
    field_rules = ma.fields.Dict(attribute="fields", data_key="fields")
    consent = ma.fields.String()
    fact_only = ma.fields.Boolean()
    retention_days = ma.fields.Integer()


class AgreementSchema(ma.Schema):
    id = ma.fields.String()
    version = ma.fields.Integer()
    title = ma.fields.String()
    type = ma.fields.String()
    digest = ma.fields.String()
    status = ma.fields.String()
    reasons = ma.fields.List(ma.fields.Dict())
    warnings = ma.fields.List(ma.fields.Dict())
    effective_from = ma.fields.String()
    effective_to = ma.fields.String(allow_none=True)
    review_by = ma.fields.String()
    review_overdue = ma.fields.Boolean()
    purposes = ma.fields.List(ma.fields.String())
    parties = ma.fields.List(ma.fields.Dict())
    signed_by = ma.fields.List(ma.fields.String())
    flows = ma.fields.List(ma.fields.Nested(FlowSchema))


def _catalogues() -> Any:
    return current_app.extensions["hub.catalogues"]


@blp.route("/agreements")
class Agreements(MethodView):
    @requires("agreements:read")
    @blp.response(200, AgreementSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every agreement the caller is a party to, with live status and review dates."""
        return services.agreements_for(
            db.session(), _catalogues(), current_partner_id(), db.utcnow()
        )


@blp.route("/agreements/<agreement_id>")
class AgreementById(MethodView):
    @requires("agreements:read")
    @blp.response(200, AgreementSchema(many=True))
    def get(self, agreement_id: str) -> list[dict[str, Any]]:
        """Every version of one agreement (404 unless the caller is a party)."""
        return services.agreement_for(
            db.session(), _catalogues(), current_partner_id(), agreement_id, db.utcnow()
        )


@blp.route("/decisions")
class Decisions(MethodView):
    @requires("agreements:read")
    @blp.arguments(DecisionRequestSchema)
    @blp.response(200, DecisionSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Dry run: what would be released, transformed and withheld, and why. Logs nothing."""
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
