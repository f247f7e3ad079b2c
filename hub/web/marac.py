"""The MARAC console (``/console/marac/...``): thin views over :mod:`hub.marac`.

Each view turns the signed-in person into a :class:`~hub.marac.MaracActor`, calls one
service (which enforces who may do it, runs each sharing step through ``decide()`` and the
ledger, and records each list/case/agenda/pack view as a ``consultation`` entry), commits
and renders. A perpetrator-facing agency's people get the same 404 as for a missing id and
empty lists: the services answer them as if no MARAC case existed. Agency reps' pages
(statement, research returns, own actions) and the meeting pack PDF live in
:mod:`hub.web.marac_agency`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hub import db
from hub import marac as services
from hub.errors import HubError
from hub.marac.errors import Invalid, NotFound, NotSigned
from hub.sharing.context import SharingContext
from hub.web import bp as console
from hub.web.access import current_person, roles_required

# Nested in the console blueprint: its deny-by-default guard, CSP and CSRF apply here too,
# and endpoints read ``console.marac.<view>``.
bp = Blueprint("marac", __name__, url_prefix="/marac")

MARAC_ROLES = ("marac_coordinator", "agency_rep")
COORDINATOR = "marac_coordinator"
STATUS_LABELS = {
    "open": "Open",
    "done": "Done",
    "not_done": "Not done (agency did not act)",
    "circumstances_changed": "Circumstances changed",
}
CRITERIA = ("visible_high_risk", "professional_judgement", "potential_escalation", "repeat")


def actor() -> services.MaracActor:
    """The signed-in person as the MARAC services see them."""
    return services.MaracActor.from_person(current_person())


def sharing() -> SharingContext:
    return current_app.extensions["hub.sharing"]  # type: ignore[no-any-return]


def is_coordinator() -> bool:
    return COORDINATOR in current_person().roles


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """Render after the view's changes (and its consultation entry) are committed."""
    db.session().commit()
    return render_template(
        template, coordinator=is_coordinator(), status_labels=STATUS_LABELS, **context
    ), status


@bp.errorhandler(HubError)
def _problem(error: HubError) -> tuple[str, int]:
    """Domain errors as a page with the API's status; nothing the view did is kept."""
    db.session().rollback()
    if isinstance(error, NotSigned):
        meeting_id = getattr(error, "meeting_id", None) or (request.view_args or {}).get(
            "meeting_id")
        return render_template(
            "marac/not_signed.html", detail=error.detail, meeting_id=meeting_id,
            coordinator=is_coordinator(),
        ), 403
    titles = {404: "Not found", 403: "Not allowed", 409: "Not possible", 422: "Not valid"}
    return render_template(
        "marac/problem.html", title=titles.get(error.status, "Error"), detail=error.detail,
        errors=error.extensions.get("errors") or [], coordinator=is_coordinator(),
    ), error.status


def _date(raw: str | None, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name} must be a date (YYYY-MM-DD)", pointer=f"#/{name}") from None


def _month(raw: str | None) -> dt.date:
    if not raw:
        return dt.datetime.now(dt.UTC).date().replace(day=1)
    try:
        return dt.date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise Invalid("month must be YYYY-MM", pointer="#/month") from None


# -- MARACs and their calendars -------------------------------------------------------------


@bp.get("/")
@roles_required(*MARAC_ROLES, nav="MARAC")
def index() -> tuple[str, int]:
    """The MARACs the person's agency belongs to, its research to do and its actions."""
    session = db.session()
    who = actor()
    maracs = services.maracs_for(session, who)
    research = services.research_requests(session, who, None) if maracs else []
    own = services.actions(session, who, None, own_only=True) if maracs else []
    return render("marac/index.html", maracs=maracs, research=research, actions=own)


@bp.get("/<marac_id>/")
@roles_required(*MARAC_ROLES)
def marac(marac_id: str) -> tuple[str, int]:
    """One MARAC's meeting calendar."""
    session = db.session()
    who = actor()
    summary = _summary(session, who, marac_id)
    calendar = services.meetings(session, who, marac_id)
    return render("marac/marac.html", marac=summary, meetings=calendar,
                  today=dt.datetime.now(dt.UTC).date())  # fmt: skip


def _summary(session: Any, who: services.MaracActor, marac_id: str) -> Any:
    for summary in services.maracs_for(session, who):
        if summary.id == marac_id:
            return summary
    raise NotFound("no such MARAC")


def find_meeting(session: Any, who: services.MaracActor, meeting_id: str) -> tuple[Any, Any]:
    """The meeting and its MARAC, among those the caller may know of (else 404)."""
    found = services.meeting(session, who, meeting_id)
    return _summary(session, who, found.marac_id), found


@bp.post("/<marac_id>/meetings")
@roles_required(COORDINATOR)
def meeting_create(marac_id: str) -> BaseResponse:
    held_on = _date(request.form.get("held_on"), "held_on")
    if held_on is None:
        raise Invalid("choose the meeting's date", pointer="#/held_on")
    session = db.session()
    made = services.create_meeting(session, actor(), marac_id, held_on)
    session.commit()
    return redirect(url_for("console.marac.meeting", meeting_id=made.id), code=303)


@bp.get("/<marac_id>/referrals")
@roles_required(COORDINATOR)
def referrals(marac_id: str) -> tuple[str, int]:
    """Referrals and alerts, filtered by criterion, agency, date and status; htmx swaps rows."""
    session = db.session()
    who = actor()
    summary = _summary(session, who, marac_id)
    args = request.args
    criterion = args.get("criterion") or None
    if criterion and criterion not in CRITERIA:
        raise Invalid("unknown criterion", pointer="#/criterion")
    agency, status = args.get("agency") or None, args.get("status") or None
    since, until = _date(args.get("since"), "since"), _date(args.get("until"), "until")
    rows = services.referrals(session, who, marac_id, criterion=criterion, agency=agency,
                              since=since, until=until, status=status)  # fmt: skip
    query = {"criterion": criterion, "agency": agency, "status": status,
             "since": since.isoformat() if since else None,
             "until": until.isoformat() if until else None}  # fmt: skip
    template = "marac/_referral_rows.html" if request.headers.get("HX-Request") else (
        "marac/referrals.html")
    return render(template, marac=summary, rows=rows, query=query, criteria=CRITERIA)


@bp.get("/<marac_id>/lapsed")
@roles_required(COORDINATOR)
def lapsed(marac_id: str) -> tuple[str, int]:
    """Cases whose 12 months since the last referral lapse in the month chosen."""
    session = db.session()
    who = actor()
    summary = _summary(session, who, marac_id)
    month = _month(request.args.get("month"))
    rows = services.lapsed(session, who, marac_id, month)
    return render("marac/lapsed.html", marac=summary, rows=rows, month=month)


# -- a meeting ------------------------------------------------------------------------------


@bp.get("/meetings/<meeting_id>")
@roles_required(*MARAC_ROLES)
def meeting(meeting_id: str) -> tuple[str, int]:
    """Research circulation and returns, who has signed, links to the agenda and the pack."""
    session = db.session()
    who = actor()
    summary, found = find_meeting(session, who, meeting_id)
    research = services.research_requests(session, who, meeting_id)
    signed = services.signatures(session, who, meeting_id)
    referred: dict[str, str] = {}
    if COORDINATOR in who.roles and summary.role == "coordinator" and found.status != "held":
        referred = {r.case_id: r.case_number
                    for r in services.referrals(session, who, summary.id)}  # fmt: skip
    return render(
        "marac/meeting.html", marac=summary, meeting=found, research=research,
        signatures=signed, referred=sorted(referred.items(), key=lambda item: item[1]),
        own_signed=any(s.partner_id == who.partner_id for s in signed),
        statement=services.STATEMENT_TEXT,
    )


@bp.post("/meetings/<meeting_id>/cases")
@roles_required(COORDINATOR)
def meeting_case_add(meeting_id: str) -> BaseResponse:
    """List a referred case for the meeting (referrals before a meeting are listed anyway)."""
    session = db.session()
    services.add_case_to_meeting(session, actor(), meeting_id, request.form.get("case_id", ""))
    session.commit()
    return redirect(url_for("console.marac.meeting", meeting_id=meeting_id), code=303)


@bp.post("/meetings/<meeting_id>/finish")
@roles_required(COORDINATOR)
def meeting_finish(meeting_id: str) -> BaseResponse:
    """Mark the meeting held: its referrals are heard, open actions carry to the next one."""
    session = db.session()
    services.finish_meeting(session, actor(), meeting_id)
    session.commit()
    return redirect(url_for("console.marac.meeting", meeting_id=meeting_id), code=303)


@bp.post("/meetings/<meeting_id>/circulate")
@roles_required(COORDINATOR)
def circulate(meeting_id: str) -> tuple[str, int]:
    """Send the research list: one disclosure (or refusal) per case per member agency."""
    session = db.session()
    who = actor()
    rows = services.circulate_research(session, sharing(), who, meeting_id)
    summary, found = find_meeting(session, who, meeting_id)
    return render("marac/circulated.html", marac=summary, meeting=found, rows=rows)


@bp.get("/meetings/<meeting_id>/agenda")
@roles_required(*MARAC_ROLES)
def agenda(meeting_id: str) -> tuple[str, int]:
    """The agenda in the SafeLives order (refused until the agency has signed)."""
    session = db.session()
    who = actor()
    summary, found = find_meeting(session, who, meeting_id)
    items = services.agenda(session, who, meeting_id)
    return render("marac/agenda.html", marac=summary, meeting=found, agenda=items)


@bp.get("/cases/<case_id>")
@roles_required(*MARAC_ROLES)
def case(case_id: str) -> tuple[str, int]:
    """The case by number: each agency's contribution, fact apart from opinion; actions."""
    session = db.session()
    who = actor()
    meeting_id = request.args.get("meeting") or None
    view = services.case_view(session, sharing(), who, case_id, meeting_id)
    return render("marac/case.html", case=view, meeting_id=meeting_id,
                  members=_members(session, who, view), today=dt.datetime.now(dt.UTC).date())


def _members(session: Any, who: services.MaracActor, view: Any) -> list[str]:
    if COORDINATOR not in who.roles:
        return []
    for summary in services.maracs_for(session, who):
        if summary.id == view.marac_id:
            return sorted(partner for partner, _kind in summary.members)
    return []


@bp.post("/meetings/<meeting_id>/cases/<case_id>/actions")
@roles_required(COORDINATOR)
def action_add(meeting_id: str, case_id: str) -> BaseResponse:
    """Agree an action with an owner agency and a due date."""
    form = request.form
    due = _date(form.get("due"), "due")
    if due is None:
        raise Invalid("choose a due date", pointer="#/due")
    session = db.session()
    services.add_action(session, sharing(), actor(), meeting_id, case_id,
                        form.get("owner_agency", ""), form.get("text", ""), due)  # fmt: skip
    session.commit()
    return redirect(url_for("console.marac.case", case_id=case_id, meeting=meeting_id), code=303)


console.register_blueprint(bp)
