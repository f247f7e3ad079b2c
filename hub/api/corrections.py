"""``/api/v1/referrals/{id}/correction`` and ``/withdraw``: the sender's Art 16/17 duties.

Each call rectifies or erases one disclosure and puts an Art 19 notice in its recipient's
inbox (and on its webhook). Only the sender may call them; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from hub import db
from hub.api import examples
from hub.api.agreements import ConsentSchema, SubjectSchema
from hub.api.catalogue_schema import MESSAGE_DATA
from hub.api.fields import message_data
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
from hub.api.problems import BODY, problems
from hub.api.referrals import ReceiptSchema
from hub.oauth.protector import current_partner_id, requires
from hub.sharing import corrections

blp = Blueprint(
    "corrections",
    __name__,
    description="Corrections and withdrawals of what a sender shared (UK GDPR Art 16, 17, 19)",
)


class CorrectionSchema(ma.Schema):
    """Changed fields only; each must have been released by the original disclosure."""

    data = message_data(required=True, metadata=MESSAGE_DATA)
    reason = ma.fields.String(
        required=True, validate=ma.validate.OneOf(corrections.CORRECTION_REASONS)
    )
    consent = ma.fields.Nested(
        ConsentSchema, metadata={"description": "Default: the original disclosure's consent"}
    )
    subject = ma.fields.Nested(SubjectSchema)
    justification = ma.fields.String(validate=ma.validate.Length(1, 500))


class WithdrawalSchema(ma.Schema):
    reason = ma.fields.String(
        required=True, validate=ma.validate.OneOf(corrections.WITHDRAWAL_REASONS)
    )


class CorrectedSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    corrected = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Field names"}
    )
    payload_digest = ma.fields.String(required=True, metadata={"description": "sha256:<hex>"})
    ledger_index = ma.fields.Integer(
        required=True, metadata={"description": "The correction entry"}
    )
    notified = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Recipients told"}
    )
    receipt = ma.fields.Nested(ReceiptSchema, required=True)


class WithdrawnSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    erased = ma.fields.Boolean(required=True)
    reason = ma.fields.String(required=True)
    ledger_index = ma.fields.Integer(required=True, metadata={"description": "The erasure entry"})
    notified = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Recipients told"}
    )
    receipt = ma.fields.Nested(ReceiptSchema, required=True)


def _context() -> Any:
    return current_app.extensions["hub.sharing"]


@blp.route("/referrals/<referral_id>/correction")
class ReferralCorrection(MethodView):
    @requires("referrals:write")
    @blp.arguments(CorrectionSchema, example=examples.CORRECTION)
    @blp.response(200, CorrectedSchema, example=examples.CORRECTED)
    @blp.doc(operationId="correctReferral")
    @problems(*BODY, 404, 409)
    def post(self, body: dict[str, Any], referral_id: str) -> dict[str, Any]:
        """Correct released fields; re-decided under the flow, re-sealed, recipient notified.

        UK GDPR Art 16 and 19: the recipient gets a notice naming the fields (not values).
        A correction the flow no longer allows is a 403 `policy-refused`, recorded; one that
        changes nothing, or of an erased referral, is a 409.
        """
        with policy_request():
            return corrections.correct_disclosure(
                db.session(), _context(), current_partner_id(), referral_id, body
            )


@blp.route("/referrals/<referral_id>/withdraw")
class ReferralWithdrawal(MethodView):
    @requires("referrals:write")
    @blp.arguments(WithdrawalSchema, example=examples.WITHDRAWAL)
    @blp.response(200, WithdrawnSchema, example=examples.WITHDRAWN)
    @blp.doc(operationId="withdrawReferral")
    @problems(*BODY, 404, 409)
    def post(self, body: dict[str, Any], referral_id: str) -> dict[str, Any]:
        """Withdraw a referral: its payload is crypto-shredded and the recipient notified.

        UK GDPR Art 17 and 19: the data key is destroyed, the erasure is on the ledger and
        the recipient's inbox gets a notice. Withdrawing twice is a 409.
        """
        return corrections.withdraw_disclosure(
            db.session(), _context(), current_partner_id(), referral_id, body["reason"]
        )
