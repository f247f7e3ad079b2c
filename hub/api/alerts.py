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
from hub.api.agreements import ConsentSchema, SubjectSchema
from hub.api.fields import CODE, identifier, message_data
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
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
    data = message_data(required=True)
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)
    justification = ma.fields.String(validate=ma.validate.Length(1, 500))


class AlertRecipientSchema(ma.Schema):
    to = ma.fields.String()
    status = ma.fields.Integer(metadata={"description": "201 released or 403 refused"})
    id = ma.fields.String(metadata={"description": "The recipient's disclosure id (201)"})
    released = ma.fields.List(ma.fields.String(), metadata={"description": "Field names"})
    withheld = ma.fields.List(ma.fields.Dict())
    agreement = ma.fields.Dict()
    basis = ma.fields.List(ma.fields.String())
    receipt = ma.fields.Dict(metadata={"description": "Ledger receipt (201)"})
    problem = ma.fields.Dict(metadata={"description": "policy-refused problem (403)"})


class AlertCreatedSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    purpose = ma.fields.String()
    repeat = ma.fields.Boolean(
        metadata={"description": "A MARAC referral about the subject within 12 months"}
    )
    criteria = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "MARAC criteria met (marac_criterion values, e.g. repeat)"},
    )
    created_at = ma.fields.String()
    recipients = ma.fields.List(ma.fields.Nested(AlertRecipientSchema))


class AlertViewSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    purpose = ma.fields.String()
    repeat = ma.fields.Boolean()
    created_at = ma.fields.String()
    recipients = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "Delivered recipients: to, id, status, released, ledger_index"},
    )


class AlertPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AlertViewSchema))
    next_cursor = ma.fields.String(allow_none=True)
    has_more = ma.fields.Boolean()


class AlertListArgs(ma.Schema):
    cursor = identifier(metadata={"description": "next_cursor of the previous page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, alerts.PAGE_LIMIT))


def _json(status: int, body: dict[str, Any]) -> Response:
    mimetype = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return Response(json.dumps(body), status=status, mimetype=mimetype)


@blp.route("/alerts")
class Alerts(MethodView):
    @requires("referrals:write")
    @blp.arguments(AlertSchema)
    @blp.response(201, AlertCreatedSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Send an alert: each recipient decided, recorded and delivered on its own."""
        with policy_request():
            outcome = alerts.send_alert(
                db.session(), current_app.extensions["hub.sharing"], current_partner_id(), body
            )
        return _json(outcome.status, outcome.body)

    @requires("referrals:read")
    @blp.arguments(AlertListArgs, location="query")
    @blp.response(200, AlertPageSchema)
    def get(self, args: dict[str, Any]) -> Response:
        """The alerts the caller sent, newest first; recipients and statuses, no values."""
        page = alerts.alerts_sent(
            db.session(), current_partner_id(), args.get("cursor"), args["limit"]
        )
        return _json(200, page)


@blp.route("/alerts/<alert_id>")
class AlertById(MethodView):
    @requires("referrals:read")
    @blp.response(200, AlertViewSchema)
    def get(self, alert_id: str) -> Response:
        """One alert, for its sender only (404 for anyone else)."""
        return _json(200, alerts.alert_for(db.session(), current_partner_id(), alert_id))
