"""``/api/v1/alerts``: risk alerts fanned out with a decision per recipient.

Recipients collect alert payloads through ``/api/v1/inbox`` (items of kind ``alert``);
these routes are the sender's: send one, list what it sent, look at one.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, json
from flask.views import MethodView

from hub import db
from hub.api import examples
from hub.api.agreements import ConsentSchema, SubjectSchema
from hub.api.catalogue_schema import MESSAGE_DATA
from hub.api.fields import CODE, identifier, message_data
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
from hub.api.problems import BODY, ProblemSchema, problems
from hub.api.referrals import (
    BriefWithheldSchema,
    DisclosureAgreementSchema,
    ReceiptSchema,
)
from hub.errors import PROBLEM_MEDIA_TYPE
from hub.oauth.protector import current_partner_id, requires
from hub.sharing import alerts

blp = Blueprint("alerts", __name__, description="Risk alerts fanned out to every lawful recipient")


class AlertSchema(ma.Schema):
    """One alert; ``from`` is the caller and the recipients are the purpose's flows."""

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(alerts.ALERT_KINDS))
    purpose = ma.fields.String(
        required=True,
        validate=CODE,
        metadata={"description": "An agreement purpose, e.g. community_marac_alert"},
    )
    data = message_data(required=True, metadata=MESSAGE_DATA)
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)
    justification = ma.fields.String(validate=ma.validate.Length(1, 500))


class AlertRecipientSchema(ma.Schema):
    """201: the recipient's disclosure and receipt; 403: a ``policy-refused`` problem."""

    to = ma.fields.String(required=True)
    status = ma.fields.Integer(
        required=True,
        validate=ma.validate.OneOf([201, 403]),
        metadata={"description": "201 released or 403 refused"},
    )
    id = ma.fields.String(metadata={"description": "The recipient's disclosure id (201)"})
    released = ma.fields.List(ma.fields.String(), metadata={"description": "Field names"})
    transforms = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    withheld = ma.fields.List(ma.fields.Nested(BriefWithheldSchema))
    opinion = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Released fields that are opinion, not fact (201)"},
    )
    agreement = ma.fields.Nested(DisclosureAgreementSchema)
    basis = ma.fields.List(ma.fields.String())
    receipt = ma.fields.Nested(ReceiptSchema, metadata={"description": "Ledger receipt (201)"})
    problem = ma.fields.Nested(
        ProblemSchema, metadata={"description": "policy-refused problem (403)"}
    )


class AlertCreatedSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    repeat = ma.fields.Boolean(
        required=True,
        metadata={"description": "A MARAC referral about the subject within 12 months"},
    )
    criteria = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "MARAC criteria met (marac_criterion values, e.g. repeat)"},
    )
    created_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    recipients = ma.fields.List(ma.fields.Nested(AlertRecipientSchema), required=True)


class DeliveredRecipientSchema(ma.Schema):
    to = ma.fields.String(required=True)
    id = ma.fields.String(required=True, metadata={"description": "The disclosure id"})
    status = ma.fields.String(required=True, metadata={"description": "Workflow status"})
    released = ma.fields.List(ma.fields.String(), required=True)
    ledger_index = ma.fields.Integer(required=True)
    erased = ma.fields.Boolean(required=True)


class RefusedRecipientSchema(ma.Schema):
    to = ma.fields.String(required=True)
    reasons = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Reason codes"}
    )
    ledger_index = ma.fields.Integer(required=True, metadata={"description": "The refusal"})


class AlertViewSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    repeat = ma.fields.Boolean(required=True)
    created_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    recipients = ma.fields.List(
        ma.fields.Nested(DeliveredRecipientSchema),
        required=True,
        metadata={"description": "Delivered recipients"},
    )
    refused = ma.fields.List(
        ma.fields.Nested(RefusedRecipientSchema),
        required=True,
        metadata={"description": "Recipients refused by their flow, with the reason codes"},
    )


class AlertPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AlertViewSchema), required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )
    has_more = ma.fields.Boolean(required=True)


class AlertListArgs(ma.Schema):
    cursor = identifier(metadata={"description": "next_cursor of the previous page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, alerts.PAGE_LIMIT))


def _json(status: int, body: dict[str, Any]) -> Response:
    mimetype = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return Response(json.dumps(body), status=status, mimetype=mimetype)


@blp.route("/alerts")
class Alerts(MethodView):
    @requires("referrals:write")
    @blp.arguments(AlertSchema, example=examples.ALERT)
    @blp.response(201, AlertCreatedSchema, example=examples.ALERT_CREATED)
    @blp.doc(operationId="sendAlert")
    @problems(*BODY)
    def post(self, body: dict[str, Any]) -> Response:
        """Send an alert: each recipient decided, recorded and delivered on its own.

        The recipients are every partner an in-force flow allows for the purpose; one
        refused by its own flow is a 403 item inside the 201. No flow at all is a 403
        `policy-refused` problem, recorded on the ledger.
        """
        with policy_request():
            outcome = alerts.send_alert(
                db.session(), current_app.extensions["hub.sharing"], current_partner_id(), body
            )
        return _json(outcome.status, outcome.body)

    @requires("referrals:read")
    @blp.arguments(AlertListArgs, location="query")
    @blp.response(200, AlertPageSchema, example=examples.ALERT_PAGE)
    @blp.doc(operationId="listAlerts")
    @problems(404)
    def get(self, args: dict[str, Any]) -> Response:
        """The alerts the caller sent, newest first; recipients and statuses, no values.

        A `cursor` that is not one of the caller's alerts is a 404.
        """
        page = alerts.alerts_sent(
            db.session(), current_partner_id(), args.get("cursor"), args["limit"]
        )
        return _json(200, page)


@blp.route("/alerts/<alert_id>")
class AlertById(MethodView):
    @requires("referrals:read")
    @blp.response(200, AlertViewSchema, example=examples.ALERT_VIEW)
    @blp.doc(operationId="getAlert")
    @problems(404)
    def get(self, alert_id: str) -> Response:
        """One alert, for its sender only (404 for anyone else).

        Delivered recipients with their disclosure ids and statuses, refused ones with
        their reason codes and ledger entries; never a value.
        """
        return _json(200, alerts.alert_for(db.session(), current_partner_id(), alert_id))
