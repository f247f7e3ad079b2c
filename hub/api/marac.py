"""``/api/v1/marac``: the MARAC cycle for agencies whose case-management systems integrate.

A member agency's system lists the research sent to it, reads the circulated case (a
disclosure: ``GET /api/v1/referrals/{circulation_id}``, a logged consultation), returns its
research field by field (a disclosure to the co-ordinator, with what it did not share and
why), signs a meeting's confidentiality statement, and reports on the actions it owns (each
report a disclosure). The caller is always its own agency (never the co-ordinator: that is
a person, in the console). A perpetrator-facing agency, or one outside the MARAC, gets empty
lists and the same 404 as a missing id on every route: whether a case exists is not theirs.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from hub import db, marac
from hub.api import examples_marac as examples
from hub.api.agreements import ConsentSchema
from hub.api.catalogue_schema import MESSAGE_DATA
from hub.api.fields import FIELD_NAME, identifier, message_data
from hub.api.guards import Blueprint
from hub.api.policy_errors import policy_request
from hub.api.problems import BODY, problems
from hub.api.referrals import BriefWithheldSchema
from hub.marac.models import ACTION_STATUSES, MEETING_STATUSES
from hub.oauth.protector import current_partner_id, requires
from hub.sharing.referrals import PolicyRefused

blp = Blueprint(
    "marac", __name__, description="MARAC research returns, statements and actions for agencies"
)

_DATE = {"format": "date"}
_TIME = {"format": "date-time"}


class ResearchRequestSchema(ma.Schema):
    """A case circulated to the caller's agency for a meeting, and whether it was returned."""

    id = ma.fields.String(required=True)
    meeting_id = ma.fields.String(required=True)
    marac_id = ma.fields.String(required=True)
    case_number = ma.fields.String(required=True, metadata={"description": "Never a name"})
    agency = ma.fields.String(required=True, metadata={"description": "The caller's agency"})
    member_kind = ma.fields.String(required=True, metadata={"description": "core or children_only"})
    status = ma.fields.String(
        required=True,
        metadata={"description": "delivered or returned", "enum": ["delivered", "returned"]},
    )
    circulation_id = ma.fields.String(
        required=True,
        metadata={"description": "The circulated case: GET /api/v1/referrals/{id} (logged)"},
    )
    circulation_ledger_index = ma.fields.Integer(required=True)
    circulated_fields = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Fields circulated"}
    )
    research_due = ma.fields.String(required=True, metadata=_DATE)
    returned_at = ma.fields.String(required=True, allow_none=True, metadata=_TIME)
    return_id = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The return's disclosure id"}
    )


class ResearchRequestListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ResearchRequestSchema), required=True)


class ResearchRequestArgs(ma.Schema):
    meeting_id = identifier(metadata={"description": "Only this meeting's requests"})


class NotSharedSchema(ma.Schema):
    field = ma.fields.String(required=True, validate=FIELD_NAME)
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(marac.NOT_SHARED_REASONS)),
        metadata={
            "description": "; ".join(f"{k}: {v}" for k, v in marac.NOT_SHARED_REASONS.items())
        },
    )
    detail = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(0, 200),
        metadata={"description": "A short reason, never personal data (required for other)"},
    )


class ResearchReturnBodySchema(ma.Schema):
    """The agency's research: catalogue fields, and each field it held back with a reason."""

    data = message_data(required=True, metadata=MESSAGE_DATA)
    not_shared = ma.fields.List(
        ma.fields.Nested(NotSharedSchema), load_default=list, validate=ma.validate.Length(0, 100)
    )
    consent = ma.fields.Nested(ConsentSchema)


class ResearchReturnSchema(ma.Schema):
    request_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["returned"]})
    id = ma.fields.String(required=True, metadata={"description": "The return's disclosure"})
    ledger_index = ma.fields.Integer(required=True)
    released = ma.fields.List(ma.fields.String(), required=True)
    withheld = ma.fields.List(
        ma.fields.Nested(BriefWithheldSchema),
        required=True,
        metadata={"description": "Fields the agreement did not let go, with the reason code"},
    )
    not_shared = ma.fields.List(ma.fields.Nested(NotSharedSchema), required=True)


class MeetingSchema(ma.Schema):
    id = ma.fields.String(required=True)
    marac_id = ma.fields.String(required=True)
    held_on = ma.fields.String(required=True, metadata=_DATE)
    research_due = ma.fields.String(required=True, metadata=_DATE)
    status = ma.fields.String(required=True, metadata={"enum": list(MEETING_STATUSES)})
    signed = ma.fields.Boolean(
        required=True, metadata={"description": "Whether the caller's agency signed"}
    )


class MeetingListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MeetingSchema), required=True)


class SignatureSchema(ma.Schema):
    meeting_id = ma.fields.String(required=True)
    agency = ma.fields.String(required=True)
    signed_by = ma.fields.String(required=True, metadata={"description": "Pseudonym or client"})
    signed_at = ma.fields.String(required=True, metadata=_TIME)
    statement_digest = ma.fields.String(required=True)
    statement = ma.fields.String(required=True, metadata={"description": "What was signed"})


class ActionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    marac_id = ma.fields.String(required=True)
    meeting_id = ma.fields.String(required=True, metadata={"description": "Agreed at"})
    case_number = ma.fields.String(required=True)
    owner_agency = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    due = ma.fields.String(required=True, metadata=_DATE)
    status = ma.fields.String(required=True, metadata={"enum": list(ACTION_STATUSES)})
    reported_on = ma.fields.String(required=True, allow_none=True, metadata=_DATE)
    note = ma.fields.String(required=True, allow_none=True)
    overdue = ma.fields.Boolean(required=True)
    update_ledger_index = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "The latest report's entry"}
    )


class ActionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ActionSchema), required=True)


class ActionArgs(ma.Schema):
    meeting_id = identifier(metadata={"description": "Only actions agreed at this meeting"})
    status = ma.fields.String(validate=ma.validate.OneOf(ACTION_STATUSES))


class ActionUpdateSchema(ma.Schema):
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(ACTION_STATUSES),
        metadata={
            "description": "not_done and circumstances_changed are carried to the next "
            "meeting, as is open"
        },
    )
    note = ma.fields.String(
        validate=ma.validate.Length(1, 1000),
        metadata={"description": "What was done; sent to the co-ordinator as outcome_summary"},
    )


def _context() -> Any:
    return current_app.extensions["hub.sharing"]


def _who() -> marac.MaracActor:
    return marac.MaracActor.from_client(current_partner_id())


def _request(row: marac.ResearchRequestRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "meeting_id": row.meeting_id,
        "marac_id": row.marac_id,
        "case_number": row.case_number,
        "agency": row.agency_id,
        "member_kind": row.member_kind,
        "status": row.status,
        "circulation_id": row.circulation_id,
        "circulation_ledger_index": row.circulation_index,
        "circulated_fields": list(row.fields),
        "research_due": row.research_due.isoformat(),
        "returned_at": row.returned_at.isoformat() if row.returned_at else None,
        "return_id": row.return_id,
    }


def _action(row: marac.ActionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "marac_id": row.marac_id,
        "meeting_id": row.meeting_id,
        "case_number": row.case_number,
        "owner_agency": row.owner_agency,
        "text": row.text,
        "due": row.due.isoformat(),
        "status": row.status,
        "reported_on": row.reported_on.isoformat() if row.reported_on else None,
        "note": row.note,
        "overdue": row.overdue,
        "update_ledger_index": row.update_index,
    }


@blp.route("/marac/research-requests")
class ResearchRequests(MethodView):
    @requires("marac:research")
    @blp.arguments(ResearchRequestArgs, location="query")
    @blp.response(200, ResearchRequestListSchema, example=examples.RESEARCH_REQUESTS)
    @blp.doc(operationId="listMaracResearchRequests")
    @problems(404, 422)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The research the caller's agency has been asked for, oldest first.

        Each item names the case by number only; the circulated case itself is a disclosure
        to read at `GET /api/v1/referrals/{circulation_id}` (a logged consultation). Empty
        for an agency that is in no MARAC, or is perpetrator-facing.
        """
        rows = marac.research_requests(db.session(), _who(), args.get("meeting_id"))
        return {"items": [_request(r) for r in rows]}


@blp.route("/marac/research-requests/<request_id>")
class ResearchRequestById(MethodView):
    @requires("marac:research")
    @blp.response(200, ResearchRequestSchema, example=examples.RESEARCH_REQUEST)
    @blp.doc(operationId="getMaracResearchRequest")
    @problems(404)
    def get(self, request_id: str) -> dict[str, Any]:
        """One research request sent to the caller's agency.

        Anyone else's, or one that does not exist, is 404: the same answer either way.
        """
        return _request(marac.research_request(db.session(), _who(), request_id))


@blp.route("/marac/research-requests/<request_id>/return")
class ResearchReturn(MethodView):
    @requires("marac:research")
    @blp.arguments(ResearchReturnBodySchema, example=examples.RESEARCH_RETURN)
    @blp.response(201, ResearchReturnSchema, example=examples.RESEARCH_RETURNED)
    @blp.doc(operationId="returnMaracResearch")
    @problems(*BODY, 404, 409, 422)
    def post(self, body: dict[str, Any], request_id: str) -> tuple[dict[str, Any], int]:
        """Return the agency's research, field by field.

        A disclosure to the co-ordinator under the MARAC agreement's return flow.
        `not_shared` records each field held back with a reason code and a short text
        (kept for the co-ordinator, never put on the ledger). Fields the agreement does
        not let go are listed in `withheld`; if nothing may go, a 403 `policy-refused`
        (recorded on the ledger) and the request stays open. Once only (409 after).
        """
        not_shared = [
            marac.NotShared(i["field"], i["reason"], i.get("detail", ""))
            for i in body.get("not_shared", [])
        ]
        with policy_request():
            row = marac.return_research(
                db.session(),
                _context(),
                _who(),
                request_id,
                body["data"],
                not_shared,
                consent=body.get("consent"),
            )
        if row.disclosure_id is None:
            raise PolicyRefused(
                "Nothing of this research may be shared with the co-ordinator; see reasons.",
                reasons=[
                    {"reason": r, "detail": "refused under the MARAC agreement's return flow"}
                    for r in row.refusal_reasons
                ],
                ledger_index=row.ledger_index,
            )
        return {
            "request_id": row.request_id,
            "status": row.status,
            "id": row.disclosure_id,
            "ledger_index": row.ledger_index,
            "released": list(row.released),
            "withheld": [{"field": f, "reason": r} for f, r in row.withheld],
            "not_shared": [
                {"field": n.field, "reason": n.reason, "detail": n.detail} for n in row.not_shared
            ],
        }, 201


@blp.route("/marac/meetings")
class Meetings(MethodView):
    @requires("marac:research")
    @blp.response(200, MeetingListSchema, example=examples.MEETINGS)
    @blp.doc(operationId="listMaracMeetings")
    def get(self) -> dict[str, Any]:
        """Meetings of the MARACs the caller's agency sits on.

        Soonest first, each with whether the agency has signed its confidentiality
        statement. Empty if the agency sits on none, or is perpetrator-facing.
        """
        session, who = db.session(), _who()
        items = []
        for summary in marac.maracs_for(session, who):
            for meeting in marac.meetings(session, who, summary.id):
                signed = {s.partner_id for s in marac.signatures(session, who, meeting.id)}
                items.append(
                    {
                        "id": meeting.id,
                        "marac_id": meeting.marac_id,
                        "held_on": meeting.held_on.isoformat(),
                        "research_due": meeting.research_due.isoformat(),
                        "status": meeting.status,
                        "signed": who.partner_id in signed,
                    }
                )
        return {"items": sorted(items, key=lambda m: (m["held_on"], m["id"]))}


@blp.route("/marac/meetings/<meeting_id>/statement")
class Statement(MethodView):
    @requires("marac:research")
    @blp.response(201, SignatureSchema, example=examples.SIGNATURE)
    @blp.doc(operationId="signMaracStatement")
    @problems(404)
    def post(self, meeting_id: str) -> tuple[dict[str, Any], int]:
        """Sign the meeting's confidentiality statement for the caller's agency.

        Until its agency has signed, nobody at the agency may open the meeting's case list
        or a case. Signing again answers the first signature.
        """
        row = marac.sign_statement(db.session(), _who(), meeting_id)
        return {
            "meeting_id": row.meeting_id,
            "agency": row.partner_id,
            "signed_by": row.signed_by,
            "signed_at": row.signed_at.isoformat(),
            "statement_digest": row.statement_digest,
            "statement": marac.STATEMENT_TEXT,
        }, 201


@blp.route("/marac/actions")
class Actions(MethodView):
    @requires("marac:actions")
    @blp.arguments(ActionArgs, location="query")
    @blp.response(200, ActionListSchema, example=examples.ACTIONS)
    @blp.doc(operationId="listMaracActions")
    @problems(404, 422)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The actions the caller's agency owns.

        By due date; `overdue` when past due and not done. Empty for an agency in no MARAC,
        or perpetrator-facing.
        """
        rows = marac.actions(db.session(), _who(), args.get("meeting_id"), own_only=True)
        status = args.get("status")
        return {"items": [_action(r) for r in rows if status is None or r.status == status]}


@blp.route("/marac/actions/<action_id>")
class ActionById(MethodView):
    @requires("marac:actions")
    @blp.response(200, ActionSchema, example=examples.ACTION)
    @blp.doc(operationId="getMaracAction")
    @problems(404)
    def get(self, action_id: str) -> dict[str, Any]:
        """One action the caller's agency owns.

        Anyone else's, or one that does not exist, is 404: the same answer either way.
        """
        return _action(marac.action(db.session(), _who(), action_id))


@blp.route("/marac/actions/<action_id>/update")
class ActionUpdate(MethodView):
    @requires("marac:actions")
    @blp.arguments(ActionUpdateSchema, example=examples.ACTION_UPDATE)
    @blp.response(200, ActionSchema, example=examples.ACTION_UPDATED)
    @blp.doc(operationId="updateMaracAction")
    @problems(*BODY, 404, 422)
    def post(self, body: dict[str, Any], action_id: str) -> dict[str, Any]:
        """Report on an action the caller's agency owns: a disclosure to the co-ordinator.

        Another member agency's action is 403 `forbidden`; an agency outside the MARAC (or
        perpetrator-facing) gets 404. If the agreement refuses the report, 403
        `policy-refused` (recorded) and the action is unchanged.
        """
        with policy_request():
            row = marac.update_action(
                db.session(), _context(), _who(), action_id, body["status"], body.get("note")
            )
        return _action(row)
