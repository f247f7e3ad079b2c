"""The DPO console's pages: thin views over :mod:`hub.audit` (search, entry, subject access).

Each view turns the signed-in person into a :class:`~hub.audit.scope.Viewer`, calls one
service, records the view as a ``consultation`` ledger entry in the same transaction
(DPA 2018 s62: searching is a consultation too), commits and renders. Every route declares
its roles; the console blueprint refuses any endpoint that does not. Reports, the register,
the map, the charts and ledger health live in :mod:`hub.web.dpo_reports`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from hub import db
from hub.audit import consultations, entries, search
from hub.audit import notices as art19
from hub.audit import subject_access as sars
from hub.audit.models import SAR_STATUSES
from hub.audit.scope import Viewer
from hub.errors import HubError, NotFound, ValidationFailed
from hub.ledger.events import EVENT_TYPES
from hub.partners.models import Partner
from hub.web import bp as console
from hub.web.access import current_person, roles_required

# Nested in the console blueprint: its deny-by-default guard, CSP and CSRF apply here too,
# and endpoints read ``console.dpo.<view>``.
bp = Blueprint("dpo", __name__, url_prefix="/dpo")

DPO_ROLES = ("dpo", "hub_dpo")
AUDIT_ROLES = ("dpo", "hub_dpo", "auditor")


def viewer() -> Viewer:
    """The signed-in person as the audit services see them."""
    person = current_person()
    return Viewer(partner_id=person.partner_id, roles=person.roles, pseudonym=person.pseudonym)


def verifier_key() -> str:
    """The hub's published note verifier key (what a partner would verify with)."""
    from hub.ledger.service import log_verifier_key

    key = current_app.extensions["hub.signing_key"]
    if key is None:
        raise NotFound("the hub has no signing key yet: run hub init")
    return log_verifier_key(key, current_app.config["HUB_SETTINGS"].log_origin)


def consult(purpose: str, *, subjects: list[str] | None = None, entry: int | None = None) -> None:
    """Record this view on the ledger and commit (with whatever the view changed)."""
    session = db.session()
    consultations.record_consultation(
        session, viewer(), purpose, subjects=subjects or (), entry=entry
    )
    session.commit()


@bp.errorhandler(HubError)
def _problem(error: HubError) -> tuple[str, int]:
    """Domain errors as a console page with the same status the API would give."""
    db.session().rollback()
    titles = {404: "Not found", 403: "Not allowed", 409: "Not possible", 422: "Not valid"}
    page = render_template(
        "dpo/problem.html",
        viewer=viewer(),
        title=titles.get(error.status, "Error"),
        detail=error.detail,
        errors=error.extensions.get("errors") or [],
    )
    return page, error.status


# -- disclosure search and entries ----------------------------------------------------------


def _partners() -> list[str]:
    return sorted(db.session().scalars(select(Partner.id)))


@bp.get("/disclosures")
@roles_required(*AUDIT_ROLES, nav="Disclosures")
def disclosures() -> str | tuple[str, int]:
    """Disclosure search; an htmx request gets the results table only."""
    who = viewer()
    errors: list[dict[str, str]] = []
    try:
        filters = search.parse_filters(request.args)
        before = search.parse_cursor(request.args.get("before"))
    except ValidationFailed as exc:
        filters, before, errors = search.Filters(), None, exc.extensions["errors"]
    page = search.search(db.session(), who, filters, before=before)
    consult(consultations.DISCLOSURE_SEARCH)
    context: dict[str, Any] = {
        "viewer": who, "page": page, "query": filters.as_query(), "errors": errors,
        "event_types": EVENT_TYPES, "results": search.RESULTS,
    }  # fmt: skip
    status = 422 if errors else 200
    if request.headers.get("HX-Request"):
        return render_template("dpo/_results.html", **context), status
    return render_template("dpo/disclosures.html", partners=_partners(), **context), status


@bp.get("/disclosures.csv")
@roles_required(*AUDIT_ROLES)
def disclosures_csv() -> Response:
    """Every matching row as CSV (the export is recorded like any other search).

    Built in memory (at most ``search.MAX_EXPORT`` rows) rather than streamed, so no
    transaction stays open while a slow client reads.
    """
    who = viewer()
    filters = search.parse_filters(request.args)
    body = "".join(search.export_csv(db.session(), who, filters))
    consult(consultations.EXPORT)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="disclosures-{stamp}.csv"'},
    )


@bp.get("/entries")
@roles_required(*AUDIT_ROLES)
def entry_lookup() -> BaseResponse:
    """The "open entry by index" box on the search page."""
    raw = (request.args.get("index") or "").strip()
    if not raw:
        return redirect(url_for("console.dpo.disclosures"))
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(
            "A ledger index is a whole number.",
            errors=[{"pointer": "#/index", "code": "invalid", "detail": "not an index"}],
        )
    return redirect(url_for("console.dpo.entry", index=int(raw)))


@bp.get("/entries/<int:index>")
@roles_required(*AUDIT_ROLES)
def entry(index: int) -> str:
    """One entry: metadata, body (DPOs), leaf hash, proof and server-side verification."""
    who = viewer()
    if index >= 2**63:
        raise NotFound("no ledger entry with that index that you may see")
    view = entries.entry_view(db.session(), who, index, verifier_key())
    subjects = list(view.body.get("subjects") or ()) if view.body else []
    consult(consultations.ENTRY_VIEW, subjects=subjects[:16], entry=index)
    return render_template("dpo/entry.html", viewer=who, view=view)


# -- subject access ------------------------------------------------------------------------


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@bp.route("/subject-access", methods=["GET", "POST"])
@roles_required(*DPO_ROLES, nav="Subject access")
def subject_access() -> str | BaseResponse | tuple[str, int]:
    """The register and the search form; a search registers the request if it is new."""
    who = viewer()
    session = db.session()
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        form = request.form
        try:
            identifiers = sars.identifiers_from(form)
            secret = current_app.extensions["hub.sharing"].subject_secret
            commitments = sars.commitments_for(secret, identifiers)
            if form.get("request_id"):
                sar = sars.get_request(session, who, int(form["request_id"]))
            else:
                reference = form.get("reference") or f"SAR {_today().isoformat()}"
                sar = sars.register_request(
                    session, who, reference, form.get("received_on") or _today().isoformat(),
                    form.get("identity_checked") == "yes",
                )  # fmt: skip
            sars.attach_subjects(sar, commitments)
            session.commit()
            return redirect(url_for("console.dpo.subject_report", request_id=sar.id), code=303)
        except (ValidationFailed, ValueError) as exc:
            session.rollback()
            errors = exc.extensions["errors"] if isinstance(exc, ValidationFailed) else [
                {"pointer": "#/request_id", "detail": "not a request"}]  # fmt: skip
    requests = sars.list_requests(session, who)
    consult(consultations.SUBJECT_ACCESS)
    page = render_template(
        "dpo/subject_access.html", viewer=who, requests=requests, errors=errors,
        form=request.form if request.method == "POST" else {}, today=_today().isoformat(),
        today_date=_today(),
    )  # fmt: skip
    return (page, 422) if errors else page


@bp.get("/subject-access/requests/<int:request_id>")
@roles_required(*DPO_ROLES)
def subject_request(request_id: int) -> str:
    """One request of the register: dates, extension, status."""
    who = viewer()
    sar = sars.get_request(db.session(), who, request_id)
    consult(consultations.SUBJECT_ACCESS)
    return render_template("dpo/subject_request.html", viewer=who, request_=sar,
                           statuses=SAR_STATUSES, errors=[])  # fmt: skip


@bp.post("/subject-access/requests/<int:request_id>/extend")
@roles_required(*DPO_ROLES)
def subject_request_extend(request_id: int) -> BaseResponse:
    """Extend once by two months, with the reason recorded (ICO: within month one)."""
    session = db.session()
    sars.extend_request(session, viewer(), request_id, request.form.get("reason", ""),
                                  _today())  # fmt: skip
    session.commit()
    return redirect(url_for("console.dpo.subject_request", request_id=request_id), code=303)


@bp.post("/subject-access/requests/<int:request_id>/status")
@roles_required(*DPO_ROLES)
def subject_request_status(request_id: int) -> BaseResponse:
    """Move the request along its statuses."""
    session = db.session()
    sars.set_status(session, viewer(), request_id, request.form.get("status", ""))
    session.commit()
    return redirect(url_for("console.dpo.subject_request", request_id=request_id), code=303)


def _report(request_id: int) -> dict[str, Any]:
    who = viewer()
    session = db.session()
    sar = sars.get_request(session, who, request_id)
    if not sar.subjects:
        raise NotFound("this request has not been searched yet")
    report = sars.subject_report(session, who, list(sar.subjects))
    consult(consultations.SUBJECT_ACCESS, subjects=list(sar.subjects)[:16])
    produced = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    return {"viewer": who, "request_": sar, "report": report, "produced": produced}


@bp.get("/subject-access/requests/<int:request_id>/report")
@roles_required(*DPO_ROLES)
def subject_report(request_id: int) -> str:
    """The Art 15 report on screen, with its PDF linked as "Download PDF"."""
    return render_template("dpo/subject_report.html", **_report(request_id))


@bp.get("/subject-access/requests/<int:request_id>/report.pdf")
@roles_required(*DPO_ROLES)
def subject_report_pdf(request_id: int) -> Response:
    """The same report as a PDF, from the same template body."""
    from hub.audit.pdf import html_to_pdf

    html = render_template("dpo/subject_report_pdf.html", **_report(request_id))
    pdf = html_to_pdf(html, base_url=_static_dir())
    name = f"subject-access-{request_id}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _static_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent / "static"


# -- Art 19 notices --------------------------------------------------------------------------


@bp.get("/notices")
@roles_required(*DPO_ROLES)
def notices() -> str:
    """Corrections and erasures, each linking to its recipients. notices."""
    who = viewer()
    rows = art19.changes(db.session(), who)
    consult(consultations.NOTICES_VIEW)
    return render_template("dpo/notices.html", viewer=who, rows=rows)


@bp.get("/notices/<int:index>")
@roles_required(*DPO_ROLES)
def notice(index: int) -> str:
    """Each recipient of one correction or erasure and the state of its notice."""
    who = viewer()
    view = art19.notice_view(db.session(), who, index)
    consult(consultations.NOTICES_VIEW, entry=index)
    return render_template("dpo/notice.html", viewer=who, view=view, errors=[])


@bp.post("/notices/<int:index>/decision")
@roles_required(*DPO_ROLES)
def notice_decision(index: int) -> BaseResponse:
    """Record a "disproportionate effort" decision, with its reason."""
    session = db.session()
    art19.record_decision(session, viewer(), index, request.form.get("recipient", ""),
                            request.form.get("reason", ""))  # fmt: skip
    session.commit()
    return redirect(url_for("console.dpo.notice", index=index), code=303)


from hub.web import dpo_reports, security_trail  # noqa: E402,F401 - register routes on bp

console.register_blueprint(bp)
