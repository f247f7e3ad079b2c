"""``/api/v1/referrals`` and ``/api/v1/inbox``: sending, receiving and the workflow."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import Response, current_app, json, request
from flask.views import MethodView

from hub import db
from hub.api import examples
from hub.api.agreements import ConsentSchema, SubjectSchema
from hub.api.catalogue_schema import MESSAGE_DATA
from hub.api.fields import (
    BIGINT_MAX,
    EachOnItsOwn,
    code,
    identifier,
    message_data,
    split_rejected,
)
from hub.api.guards import Blueprint
from hub.api.ledger import EntrySchema, InclusionSchema
from hub.api.policy_errors import policy_request
from hub.api.problems import BODY, ProblemReasonSchema, ProblemSchema, problems
from hub.errors import PROBLEM_MEDIA_TYPE, HubError
from hub.oauth.protector import current_partner_id, requires
from hub.sharing import inbox, referrals, workflow

blp = Blueprint("referrals", __name__, description="Referrals, the inbox and their workflow")
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9._:\-]{8,255}$")
CURSOR_PATTERN = r"^[0-9]{1,19}$"


def _fits_bigint(value: str) -> None:
    """Inbox sequence numbers are database BIGINTs; a larger cursor names nothing."""
    # Runs even when the pattern failed (marshmallow runs every validator).
    if value.isascii() and value.isdigit() and int(value) > BIGINT_MAX:
        raise ma.ValidationError(f"Must be at most {BIGINT_MAX}.")



class MessageSchema(ma.Schema):
    """One referral; ``from`` is the caller, never the body."""

    to = identifier(required=True)
    purpose = code(required=True)
    data = message_data(required=True, metadata=MESSAGE_DATA)
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

    data = message_data(required=True, metadata=MESSAGE_DATA)
    consent = ma.fields.Nested(ConsentSchema)
    subject = ma.fields.Nested(SubjectSchema)


class StatusSchema(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["received", "accepted", "declined", "closed"])
    )
    outcome = ma.fields.Nested(
        OutcomeSchema, metadata={"description": "Sent to the sender only under a return flow"}
    )


class ReceiptSchema(EntrySchema):
    """The holder's own view of its ledger entry, enough to recompute the leaf offline
    (docs/ledger.md), plus the proof once a checkpoint covers it."""

    checkpoint = ma.fields.String(
        metadata={"description": "Signed note covering the leaf, once one is signed"}
    )
    inclusion = ma.fields.Nested(
        InclusionSchema, metadata={"description": "RFC 9162 inclusion proof in that checkpoint"}
    )


class DisclosureAgreementSchema(ma.Schema):
    id = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    digest = ma.fields.String(required=True, metadata={"description": "sha256:<hex>"})


class BriefWithheldSchema(ma.Schema):
    field = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={"description": "e.g. not_in_allow_list"})


class ReferralCreatedSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    to = ma.fields.String(required=True)
    released = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Field names"}
    )
    transforms = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    opinion = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Released fields that are opinion, not fact (ICO code)"},
    )
    withheld = ma.fields.List(ma.fields.Nested(BriefWithheldSchema), required=True)
    agreement = ma.fields.Nested(DisclosureAgreementSchema, required=True)
    basis = ma.fields.List(ma.fields.String(), required=True)
    receipt = ma.fields.Nested(ReceiptSchema, required=True)


class BatchItemResultSchema(ma.Schema):
    """201 (id, released, withheld, ledger_index), or 403/422 with a ``problem``."""

    index = ma.fields.Integer(required=True, metadata={"description": "Position in items"})
    client_ref = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.Integer(required=True, validate=ma.validate.OneOf([201, 403, 422]))
    id = ma.fields.String()
    released = ma.fields.List(ma.fields.String())
    withheld = ma.fields.List(ma.fields.Nested(BriefWithheldSchema))
    ledger_index = ma.fields.Integer()
    problem = ma.fields.Nested(ProblemSchema)


class BatchResultSchema(ma.Schema):
    results = ma.fields.List(
        ma.fields.Nested(BatchItemResultSchema),
        required=True,
        metadata={"description": "One per item, in order"},
    )


class ReferralViewSchema(ma.Schema):
    """The sender's view (released, withheld, outcome) or the recipient's (data)."""

    class Meta:
        include = {"from": ma.fields.String(required=True)}

    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "referral, alert, outcome"})
    alert_id = ma.fields.String(required=True, allow_none=True)
    to = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    agreement = ma.fields.Nested(DisclosureAgreementSchema, required=True)
    basis = ma.fields.List(ma.fields.String(), required=True)
    created_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    erased = ma.fields.Boolean(required=True)
    receipt = ma.fields.Nested(ReceiptSchema, required=True)
    data = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "Recipient only: the released data (null once erased)"},
    )
    retention_until = ma.fields.String(
        metadata={"description": "Recipient only", "format": "date-time"}
    )
    opinion = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Which released fields are opinion, not fact (ICO code)"},
    )
    released = ma.fields.List(ma.fields.String(), metadata={"description": "Sender only"})
    transforms = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), metadata={"description": "Sender only"}
    )
    withheld = ma.fields.List(
        ma.fields.Nested(BriefWithheldSchema), metadata={"description": "Sender only"}
    )
    outcome_id = ma.fields.String(
        allow_none=True, metadata={"description": "Sender only: the returned outcome"}
    )


class OutcomeResultSchema(ma.Schema):
    shared = ma.fields.Boolean(required=True)
    id = ma.fields.String()
    released = ma.fields.List(ma.fields.String())
    withheld = ma.fields.List(ma.fields.Nested(BriefWithheldSchema))
    ledger_index = ma.fields.Integer()
    reasons = ma.fields.List(ma.fields.Nested(ProblemReasonSchema))


class StatusResultSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    outcome = ma.fields.Nested(OutcomeResultSchema)


class InboxItemSchema(ma.Schema):
    item_id = ma.fields.String(required=True)
    cursor = ma.fields.String(required=True, metadata={"description": "Pass as ?cursor="})
    kind = ma.fields.String(required=True)
    created_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    disclosure = ma.fields.Nested(ReferralViewSchema, required=True)
    notice = ma.fields.Dict(
        metadata={"description": "Art 19 notice of a correction or withdrawal"}
    )


class InboxPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InboxItemSchema), required=True)
    next_cursor = ma.fields.String(required=True, metadata={"description": "Pass as ?cursor="})
    has_more = ma.fields.Boolean(required=True)


class InboxArgs(ma.Schema):
    # A string, like next_cursor and every item's cursor: clients pass it back opaque.
    cursor = ma.fields.String(
        load_default="0",
        validate=[ma.validate.Regexp(CURSOR_PATTERN), _fits_bigint],
        metadata={"description": "next_cursor of the previous page (default: the start)"},
    )
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, inbox.PAGE_LIMIT))


def _context() -> Any:
    return current_app.extensions["hub.sharing"]


def _json(status: int, body: dict[str, Any]) -> Response:
    mimetype = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return Response(json.dumps(body), status=status, mimetype=mimetype)


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_RE.pattern},
    "example": "kcc-referral-2026-000731",
    "description": "Retry safely: the first answer is replayed; the same key with another "
    "body is 409. 8-255 letters, digits or ._:- (otherwise 400).",
}


@blp.route("/referrals")
class Referrals(MethodView):
    @requires("referrals:write")
    @blp.arguments(MessageSchema, example=examples.REFERRAL)
    @blp.doc(operationId="sendReferral", parameters=[IDEMPOTENCY_KEY])
    @blp.response(201, ReferralCreatedSchema, example=examples.REFERRAL_CREATED)
    @problems(*BODY, 409)
    def post(self, body: dict[str, Any]) -> Response:
        """Send a referral: decided field by field, recorded on the ledger, delivered.

        The released fields are sealed and put in the recipient's inbox, and the decision
        is on the ledger, in one transaction. A refusal is a 403 `policy-refused` problem
        with every reason and its `ledger_index`: refusals are recorded too.
        """
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
    @blp.arguments(BatchSchema, example=examples.BATCH)
    @blp.response(200, BatchResultSchema, example=examples.BATCH_RESULT)
    @blp.doc(operationId="sendReferralBatch")
    @problems(*BODY)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Up to 10,000 referrals (the police daily download), each decided on its own.

        One result per item, in order: 201 with its id, or 403/422 with a problem whose
        pointers start `#/items/N/` (an item that fails the schema fails alone). Each
        decision is on the ledger.
        """
        items, rejected = split_rejected(body["items"], "/items")
        results = referrals.send_batch(
            db.session(), _context(), current_partner_id(), items, rejected
        )
        return {"results": results}


@blp.route("/referrals/<referral_id>")
class ReferralById(MethodView):
    @requires("referrals:read")
    @blp.response(200, ReferralViewSchema, example=examples.SENDER_VIEW)
    @blp.doc(operationId="getReferral")
    @problems(404)
    def get(self, referral_id: str) -> Response:
        """A referral for its sender (what left, what was withheld) or recipient (the data).

        Anyone else gets 404. A recipient's read is a consultation, logged on the ledger.
        """
        view = inbox.referral_for(db.session(), _context(), current_partner_id(), referral_id)
        return _json(200, view)


@blp.route("/referrals/<referral_id>/status")
class ReferralStatus(MethodView):
    @requires("referrals:write")
    @blp.arguments(StatusSchema, example=examples.STATUS)
    @blp.response(200, StatusResultSchema, example=examples.STATUS_RESULT)
    @blp.doc(operationId="setReferralStatus")
    @problems(*BODY, 404, 409)
    def post(self, body: dict[str, Any], referral_id: str) -> Response:
        """Recipient moves the referral on; an outcome goes back only under a return flow.

        `sent -> received -> accepted | declined -> closed`; only the recipient may move
        it (409 otherwise, or for a step the workflow does not allow).
        """
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
    @blp.response(200, InboxPageSchema, example=examples.INBOX_PAGE)
    @blp.doc(operationId="readInbox")
    def get(self, args: dict[str, Any]) -> Response:
        """What was sent to the caller, oldest first, after the cursor; each read is logged.

        Items are referrals, alerts, returned outcomes and Art 19 notices of corrections
        and withdrawals; each item read writes a `consultation` ledger entry.
        """
        page = inbox.read_inbox(
            db.session(), _context(), current_partner_id(), int(args["cursor"]), args["limit"]
        )
        return _json(200, page)
