"""``/api/v1/referrals`` and ``/api/v1/inbox``: sending, receiving and the workflow."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import Response, current_app, json, request
from flask.views import MethodView

from hub import db
from hub.api.agreements import ConsentSchema, SubjectSchema
from hub.api.fields import EachOnItsOwn, bigint, code, identifier, message_data, split_rejected
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
from hub.errors import PROBLEM_MEDIA_TYPE, HubError
from hub.oauth.protector import current_partner_id, requires
from hub.sharing import inbox, referrals, workflow

blp = Blueprint("referrals", __name__, description="Referrals, the inbox and their workflow")
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9._:\-]{8,255}$")


class MessageSchema(ma.Schema):
    """One referral; ``from`` is the caller, never the body."""

    to = identifier(required=True)
    purpose = code(required=True)
    data = message_data(required=True)
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)
    justification = ma.fields.String(validate=ma.validate.Length(1, 500))


class BatchItemSchema(MessageSchema):
    client_ref = ma.fields.String(
        validate=ma.validate.Length(1, 100),
        metadata={"description": "Your reference, echoed in the item's result"},
    )


class BatchSchema(ma.Schema):
    items = ma.fields.List(
        EachOnItsOwn(BatchItemSchema),
        required=True,
        validate=ma.validate.Length(1, referrals.BATCH_LIMIT),
    )


class OutcomeSchema(ma.Schema):
    """An outcome for the sender: catalogue fields, decided under a return flow."""

    data = message_data(required=True)
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)


class StatusSchema(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["received", "accepted", "declined", "closed"])
    )
    outcome = ma.fields.Nested(
        OutcomeSchema, metadata={"description": "Sent to the sender only under a return flow"}
    )


class ReceiptSchema(ma.Schema):
    index = ma.fields.Integer(metadata={"description": "Ledger leaf index"})
    leaf_hash = ma.fields.String()
    checkpoint = ma.fields.String(metadata={"description": "Signed note covering the leaf"})
    inclusion = ma.fields.Dict(metadata={"description": "RFC 9162 inclusion proof"})


class ReferralCreatedSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String()
    to = ma.fields.String()
    released = ma.fields.List(ma.fields.String(), metadata={"description": "Field names"})
    transforms = ma.fields.Dict()
    opinion = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "released fields that are opinion, not fact (ICO code)"},
    )
    withheld = ma.fields.List(ma.fields.Dict())
    agreement = ma.fields.Dict()
    basis = ma.fields.List(ma.fields.String())
    receipt = ma.fields.Nested(ReceiptSchema)


class BatchResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Dict(), metadata={"description": "One per item, in order"})


class ReferralViewSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String()
    data = ma.fields.Dict(metadata={"description": "Recipient only: the released data"})
    opinion = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Recipient only: which released fields are opinion"},
    )
    withheld = ma.fields.List(ma.fields.Dict(), metadata={"description": "Sender only"})
    receipt = ma.fields.Nested(ReceiptSchema)


class StatusResultSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String()
    outcome = ma.fields.Dict()


class InboxPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Dict())
    next_cursor = ma.fields.String()
    has_more = ma.fields.Boolean()


class InboxArgs(ma.Schema):
    cursor = bigint(load_default=0)
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, inbox.PAGE_LIMIT))


def _context() -> Any:
    return current_app.extensions["hub.sharing"]


def _json(status: int, body: dict[str, Any]) -> Response:
    mimetype = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return Response(json.dumps(body), status=status, mimetype=mimetype)


@blp.route("/referrals")
class Referrals(MethodView):
    @requires("referrals:write")
    @blp.arguments(MessageSchema)
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string"},
                "description": "Retry safely: the first answer is replayed",
            }
        ]
    )
    @blp.response(201, ReferralCreatedSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Send a referral: decided field by field, recorded on the ledger, delivered."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(key):
            raise HubError("Idempotency-Key must be 8-255 letters, digits or ._:-")
        with policy_request():
            outcome = referrals.send_referral(
                db.session(), _context(), current_partner_id(), body, key
            )
        return _json(outcome.status, outcome.body)


@blp.route("/referrals:batch")
class ReferralBatch(MethodView):
    @requires("referrals:write")
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Up to 10,000 referrals (the police daily download), each decided on its own."""
        items, rejected = split_rejected(body["items"], "/items")
        results = referrals.send_batch(
            db.session(), _context(), current_partner_id(), items, rejected
        )
        return {"results": results}


@blp.route("/referrals/<referral_id>")
class ReferralById(MethodView):
    @requires("referrals:read")
    @blp.response(200, ReferralViewSchema)
    def get(self, referral_id: str) -> Response:
        """A referral for its sender (what left, what was withheld) or recipient (the data)."""
        view = inbox.referral_for(db.session(), _context(), current_partner_id(), referral_id)
        return _json(200, view)


@blp.route("/referrals/<referral_id>/status")
class ReferralStatus(MethodView):
    @requires("referrals:write")
    @blp.arguments(StatusSchema)
    @blp.response(200, StatusResultSchema)
    def post(self, body: dict[str, Any], referral_id: str) -> Response:
        """Recipient moves the referral on; an outcome goes back only under a return flow."""
        with policy_request():
            result = workflow.set_status(
                db.session(),
                _context(),
                current_partner_id(),
                referral_id,
                body["status"],
                body.get("outcome"),
            )
        return _json(200, result)


@blp.route("/inbox")
class Inbox(MethodView):
    @requires("referrals:read")
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, InboxPageSchema)
    def get(self, args: dict[str, int]) -> Response:
        """What was sent to the caller, oldest first, after ``cursor``; each read is logged."""
        page = inbox.read_inbox(
            db.session(), _context(), current_partner_id(), args["cursor"], args["limit"]
        )
        return _json(200, page)
