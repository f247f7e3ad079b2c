"""The MARAC console's agency pages: the statement, research returns, actions, the pack PDF.

Registered on :data:`hub.web.marac.bp`. An agency rep signs the confidentiality statement
for their agency, returns research field by field (recording what was not shared and why)
and reports on their own agency's actions; the services refuse another agency's action
(403) and answer a perpetrator-facing agency as if nothing existed (404).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hub import db
from hub import marac as services
from hub.audit.pdf import html_to_pdf
from hub.marac.errors import Invalid
from hub.marac.returns import return_fields
from hub.web.access import roles_required, safe_next
from hub.web.marac import MARAC_ROLES, STATUS_LABELS, actor, bp, render, sharing

# Reason codes for what an agency did not share (stored and shown; never personal data).
NOT_SHARED_REASONS = {"": "(shared)", **services.NOT_SHARED_REASONS}


# -- confidentiality statement -------------------------------------------------------------


@bp.post("/meetings/<meeting_id>/statement")
@roles_required(*MARAC_ROLES)
def statement_sign(meeting_id: str) -> BaseResponse:
    """Sign the meeting's confidentiality statement for the person's agency."""
    if request.form.get("agree") != "yes":
        raise Invalid("tick the box to confirm you have read the statement", pointer="#/agree")
    session = db.session()
    services.sign_statement(session, actor(), meeting_id)
    session.commit()
    return redirect(url_for("console.marac.meeting", meeting_id=meeting_id), code=303)


# -- research -------------------------------------------------------------------------------


@bp.get("/research")
@roles_required(*MARAC_ROLES, nav="MARAC research")
def research() -> tuple[str, int]:
    """The agency's research to do (co-ordinator: every request with its return status)."""
    rows = services.research_requests(db.session(), actor(), None)
    return render("marac/research.html", rows=rows)


@bp.get("/research/<request_id>")
@roles_required(*MARAC_ROLES)
def research_request(request_id: str) -> tuple[str, int]:
    """The return form: each field the agency may share, or a reason it did not."""
    row, fields = _request(request_id)
    circulated = None
    if row.agency_id == actor().partner_id and row.circulation_id is not None:
        circulated = services.research_case(db.session(), sharing(), actor(), request_id)
    return render("marac/research_return.html", row=row, fields=fields, circulated=circulated,
                  reasons=NOT_SHARED_REASONS, values={}, errors=[])  # fmt: skip


def _request(request_id: str) -> tuple[services.ResearchRequestRow, tuple[str, ...]]:
    """The request (404 unless the caller may know of it) and the fields it may return."""
    session, who = db.session(), actor()
    row = services.research_request(session, who, request_id)
    return row, return_fields(session, sharing(), who, request_id)


@bp.post("/research/<request_id>")
@roles_required(*MARAC_ROLES)
def research_return(request_id: str) -> BaseResponse | tuple[str, int]:
    """Return the research: shared fields as a disclosure, the rest with reasons."""
    row, fields = _request(request_id)
    data, not_shared = parse_return(request.form, fields)
    session = db.session()
    try:
        services.return_research(session, sharing(), actor(), request_id, data, not_shared)
    except Invalid as exc:
        session.rollback()
        return render("marac/research_return.html", 422, row=row, fields=fields, circulated=None,
                      reasons=NOT_SHARED_REASONS,
                      values=request.form, errors=exc.extensions.get("errors") or [
                          {"pointer": exc.extensions.get("pointer", ""), "detail": exc.detail}])
    session.commit()
    return redirect(url_for("console.marac.research"), code=303)


def parse_return(form: Any, fields: Any) -> tuple[dict[str, object], list[services.NotShared]]:
    """Each field either carries a value or a reason code (and for ``other``, a note)."""
    data: dict[str, object] = {}
    not_shared: list[services.NotShared] = []
    for name in fields:
        value = (form.get(f"value-{name}") or "").strip()
        reason = form.get(f"reason-{name}") or ""
        if reason not in NOT_SHARED_REASONS:
            raise Invalid("unknown reason", pointer=f"#/{name}")
        if reason:
            note = (form.get(f"note-{name}") or "").strip()[:200]
            if reason == "other" and not note:
                raise Invalid("say why the field was not shared", pointer=f"#/{name}")
            not_shared.append(services.NotShared(field=name, reason=reason,
                                                 detail=note or NOT_SHARED_REASONS[reason]))
        elif value:
            data[name] = value
    return data, not_shared


# -- actions --------------------------------------------------------------------------------


@bp.get("/actions")
@roles_required(*MARAC_ROLES, nav="MARAC actions")
def actions() -> tuple[str, int]:
    """Actions: a rep's own agency's; the co-ordinator's, every action in its MARACs."""
    who = actor()
    own_only = "marac_coordinator" not in who.roles or request.args.get("own") == "1"
    rows = services.actions(db.session(), who, None, own_only=own_only)
    return render("marac/actions.html", rows=rows, own_only=own_only,
                  partner_id=who.partner_id)  # fmt: skip


@bp.post("/actions/<action_id>")
@roles_required(*MARAC_ROLES)
def action_update(action_id: str) -> BaseResponse:
    """Report an action's status (only the owner agency, or the co-ordinator)."""
    status = request.form.get("status", "")
    if status not in STATUS_LABELS:
        raise Invalid("choose a status", pointer="#/status")
    session = db.session()
    services.update_action(session, sharing(), actor(), action_id, status,
                           (request.form.get("note") or "").strip() or None)  # fmt: skip
    session.commit()
    back = safe_next(request.form.get("back"))
    if back and back.startswith("/console/marac/"):
        return redirect(back, code=303)
    return redirect(url_for("console.marac.actions"), code=303)


# -- the meeting pack and minutes -----------------------------------------------------------


def _static_dir() -> Path:
    return Path(__file__).parent / "static"


@bp.get("/meetings/<meeting_id>/pack.pdf")
@roles_required(*MARAC_ROLES)
def pack_pdf(meeting_id: str) -> Response:
    """The meeting pack: statement, signatures, agenda, research as this agency may see it."""
    return _pdf(meeting_id, "Meeting pack", "meeting-pack")


@bp.get("/meetings/<meeting_id>/minutes.pdf")
@roles_required(*MARAC_ROLES)
def minutes_pdf(meeting_id: str) -> Response:
    """The minutes: who signed, the agenda as held and the actions agreed with their status."""
    return _pdf(meeting_id, "Minutes", "minutes")


def _pdf(meeting_id: str, title: str, name: str) -> Response:
    session = db.session()
    pack = services.meeting_pack(session, sharing(), actor(), meeting_id)
    session.commit()
    html = render_template("marac/pack_pdf.html", pack=pack, title=title,
                           status_labels=STATUS_LABELS, minutes=name == "minutes")  # fmt: skip
    return Response(html_to_pdf(html, base_url=_static_dir()), mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="{name}-{meeting_id}.pdf"'})  # fmt: skip
