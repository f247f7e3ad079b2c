"""The console's security audit trail, for the hub DPO: sign-ins, failures, refused pages.

Registered on :data:`hub.web.dpo.bp`. The trail is written by :mod:`hub.people.audit` (every
sign-in, failed sign-in, lockout, refused page, sign-out and account change); like Egress's
and Ranger's audit tabs it keeps every denied access, and only the whole partnership's DPO
reads it: it names the pseudonyms of staff at every agency.
"""

from __future__ import annotations

from flask import render_template, request

from hub import db
from hub.people.audit import EVENT_KINDS, security_events
from hub.web.access import roles_required
from hub.web.dpo import bp, viewer

PAGE = 100


@bp.get("/security")
@roles_required("hub_dpo", nav="Security trail")
def security_trail() -> str:
    """Newest first, filtered by kind and agency; 100 lines a page."""
    kind = request.args.get("kind", "")
    partner = request.args.get("partner", "").strip()
    page = request.args.get("page", "0")
    offset = int(page) * PAGE if page.isdigit() and len(page) < 7 else 0
    rows = security_events(
        db.session(),
        kinds=[kind] if kind in EVENT_KINDS else None,
        partner_id=partner or None,
        limit=PAGE + 1,
        offset=offset,
    )
    return render_template(
        "dpo/security.html",
        viewer=viewer(),
        rows=rows[:PAGE],
        more=len(rows) > PAGE,
        kinds=EVENT_KINDS,
        kind=kind if kind in EVENT_KINDS else "",
        partner=partner,
        page=offset // PAGE,
    )
