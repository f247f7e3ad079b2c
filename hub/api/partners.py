"""``/api/v1/partners``: who am I, as the hub sees me."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from hub import db
from hub.api.guards import Blueprint
from hub.oauth.protector import current_partner_id, requires
from hub.partners import services

blp = Blueprint("partners", __name__, description="Partner registry")


class PartnerSchema(ma.Schema):
    """A partner's public registration (no keys' private parts exist here)."""

    id = ma.fields.String()
    name = ma.fields.String()
    type = ma.fields.String()
    relevant_authority = ma.fields.Boolean(metadata={"description": "s115 CDA 1998"})
    competent_authority = ma.fields.Boolean(metadata={"description": "DPA 2018 Part 3"})
    public_authority = ma.fields.Boolean()
    webhook_url = ma.fields.String(allow_none=True)
    scopes = ma.fields.List(ma.fields.String())
    key_ids = ma.fields.List(ma.fields.String())


@blp.route("/partners/me")
class PartnerMe(MethodView):
    @requires("partners:read")
    @blp.response(200, PartnerSchema)
    def get(self) -> dict[str, Any]:
        """The calling partner's registration."""
        partner = services.get_partner(db.session(), current_partner_id())
        return services.describe(partner)
