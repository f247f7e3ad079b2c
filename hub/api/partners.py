"""``/api/v1/partners``: who am I, as the hub sees me."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from hub import db
from hub.api import examples
from hub.api.guards import Blueprint
from hub.oauth.protector import current_partner_id, requires
from hub.partners import services

blp = Blueprint("partners", __name__, description="Partner registry")


class PartnerSchema(ma.Schema):
    """A partner's public registration (no keys' private parts exist here)."""

    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    relevant_authority = ma.fields.Boolean(required=True, metadata={"description": "s115 CDA 1998"})
    competent_authority = ma.fields.Boolean(
        required=True, metadata={"description": "DPA 2018 Part 3"}
    )
    public_authority = ma.fields.Boolean(required=True)
    webhook_url = ma.fields.String(required=True, allow_none=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    key_ids = ma.fields.List(ma.fields.String(), required=True)


@blp.route("/partners/me")
class PartnerMe(MethodView):
    @requires("partners:read")
    @blp.response(200, PartnerSchema, example=examples.PARTNER)
    @blp.doc(operationId="getCurrentPartner")
    def get(self) -> dict[str, Any]:
        """The calling partner's registration.

        As loaded by `hub sync` from its partner file: legal flags the policy engine
        reasons with, its webhook, the scopes it may ask for and its key ids.
        """
        partner = services.get_partner(db.session(), current_partner_id())
        return services.describe(partner)
