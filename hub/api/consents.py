"""``/api/v1/consents``: the consent records a sender keeps, and their withdrawal.

UK GDPR Art 7(1): a controller relying on consent must be able to show it; Art 7(3): the
subject may withdraw it at any time. A referral on a consent flow cites a record
(``consent.record``); once withdrawn, every later message citing it is refused, and says so.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from hub import db
from hub.api import examples
from hub.api.fields import code, identifier, no_repeats
from hub.api.guards import Blueprint
from hub.api.problems import BODY, problems
from hub.consent import services
from hub.oauth.protector import current_partner_id, requires

blp = Blueprint("consents", __name__, description="Consent records and their withdrawal")


class ConsentRecordInSchema(ma.Schema):
    given_at = ma.fields.AwareDateTime(
        metadata={"description": "When consent was given (default now)"}
    )
    purposes = ma.fields.List(
        code(), required=True, validate=[ma.validate.Length(1, 20), no_repeats]
    )
    recipients = ma.fields.List(
        identifier(), required=True, validate=[ma.validate.Length(1, 50), no_repeats]
    )
    explicit = ma.fields.Boolean(
        load_default=False, metadata={"description": "An express statement (UK GDPR Art 9(2)(a))"}
    )


class ConsentRecordSchema(ma.Schema):
    id = ma.fields.String(required=True)
    given_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    purposes = ma.fields.List(ma.fields.String(), required=True)
    recipients = ma.fields.List(ma.fields.String(), required=True)
    explicit = ma.fields.Boolean(required=True)
    withdrawn_at = ma.fields.String(
        required=True, allow_none=True, metadata={"format": "date-time"}
    )


@blp.route("/consents")
class Consents(MethodView):
    @requires("referrals:write")
    @blp.arguments(ConsentRecordInSchema, example=examples.CONSENT_IN)
    @blp.response(201, ConsentRecordSchema, example=examples.CONSENT_RECORD)
    @blp.doc(operationId="recordConsent")
    @problems(*BODY)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a consent the caller obtained; cite its id as ``consent.record``.

        UK GDPR Art 7(1): a controller relying on consent must be able to show it. The
        record names the purposes and recipients it covers, and whether it is explicit
        (Art 9(2)(a)); a message outside that scope is refused.
        """
        session = db.session()
        row = services.record(session, current_partner_id(), body, db.utcnow())
        session.commit()
        return services.view(row)


@blp.route("/consents/<record_id>")
class Consent(MethodView):
    @requires("referrals:read")
    @blp.response(200, ConsentRecordSchema, example=examples.CONSENT_RECORD)
    @blp.doc(operationId="getConsent")
    @problems(404)
    def get(self, record_id: str) -> dict[str, Any]:
        """One of the caller's consent records.

        Another partner's record is a 404, as for one that does not exist.
        """
        return services.view(services.get(db.session(), current_partner_id(), record_id))


@blp.route("/consents/<record_id>/withdrawal")
class Withdrawal(MethodView):
    @requires("referrals:write")
    @blp.response(
        200,
        ConsentRecordSchema,
        example={**examples.CONSENT_RECORD, "withdrawn_at": "2026-12-02T10:00:00+00:00"},
    )
    @blp.doc(operationId="withdrawConsent")
    @problems(404, 409)
    def post(self, record_id: str) -> dict[str, Any]:
        """Record the withdrawal: every later message relying on it is refused.

        UK GDPR Art 7(3): consent may be withdrawn at any time. A second withdrawal is 409.
        """
        session = db.session()
        row = services.withdraw(session, current_partner_id(), record_id, db.utcnow())
        session.commit()
        return services.view(row)
