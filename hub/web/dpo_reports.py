"""DPO console reports: agreement register and map, record of processing, charts, ledger health.

Registered on :data:`hub.web.dpo.bp`. Pictures (the data-sharing map and the charts) are SVG
documents served to ``<img>`` elements: the console's CSP forbids inline SVG styling.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hub import db
from hub.audit import charts as activity_charts
from hub.audit import health, register
from hub.audit import processing as art30
from hub.audit import sharing_map as maps
from hub.audit.pdf import html_to_pdf
from hub.web.access import roles_required
from hub.web.dpo import AUDIT_ROLES, _static_dir, bp, consult, verifier_key, viewer

SVG = "image/svg+xml"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _register() -> list[register.RegisterRow]:
    return register.agreement_register(
        db.session(), current_app.extensions["hub.catalogues"], _now()
    )


@bp.get("/agreements")
@roles_required(*AUDIT_ROLES, nav="Agreements")
def agreements() -> str:
    """Every agreement with status, signatures, dates and review light; the map above it."""
    rows = _register()
    consult("dpo_agreement_register")
    return render_template("dpo/agreements.html", viewer=viewer(), register=rows)


@bp.get("/agreements/map.svg")
@roles_required(*AUDIT_ROLES)
def sharing_map() -> Response:
    """The data-sharing map: partners as nodes, flows as arrows coloured by status."""
    svg = maps.render_map(_register(), register.partner_names(db.session()))
    db.session().rollback()
    return Response(svg, mimetype=SVG)


def _processing_rows() -> list[art30.ProcessingRow]:
    return art30.processing_record(
        _register(), current_app.extensions["hub.catalogues"],
        register.partner_names(db.session()),
    )  # fmt: skip


@bp.get("/processing")
@roles_required(*AUDIT_ROLES)
def processing() -> str:
    """The Art 30 / s61 record generated from the agreements in force."""
    rows = _processing_rows()
    consult("dpo_processing_record")
    return render_template("dpo/processing.html", viewer=viewer(), rows=rows,
                           produced=_now().strftime("%Y-%m-%d %H:%M"))  # fmt: skip


@bp.get("/processing.csv")
@roles_required(*AUDIT_ROLES)
def processing_csv() -> Response:
    """The record as CSV."""
    rows = _processing_rows()
    consult("dpo_processing_record")
    return Response(art30.processing_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="record-of-processing.csv"'})  # fmt: skip


@bp.get("/processing.pdf")
@roles_required(*AUDIT_ROLES)
def processing_pdf() -> Response:
    """The record as PDF, from the same template body as the screen."""
    rows = _processing_rows()
    consult("dpo_processing_record")
    html = render_template("dpo/processing_pdf.html", rows=rows,
                           produced=_now().strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    return Response(html_to_pdf(html, base_url=_static_dir()), mimetype="application/pdf",
                    headers={"Content-Disposition":
                             'attachment; filename="record-of-processing.pdf"'})  # fmt: skip


def _weeks() -> int:
    raw = request.args.get("weeks", "12")
    return min(max(int(raw), 1), 104) if raw.isdigit() and len(raw) < 4 else 12


def _activity() -> activity_charts.Activity:
    return activity_charts.activity(db.session(), viewer(), _weeks(), _now().date())


@bp.get("/charts")
@roles_required(*AUDIT_ROLES)
def charts() -> str:
    """Disclosures and refusals per week by flow, and refusals by reason."""
    data = _activity()
    consult("dpo_flow_charts")
    return render_template("dpo/charts.html", viewer=viewer(), data=data, weeks=_weeks())


@bp.get("/charts/weekly.svg")
@roles_required(*AUDIT_ROLES)
def chart_weekly() -> Response:
    svg = activity_charts.weekly_svg(_activity())
    db.session().rollback()
    return Response(svg, mimetype=SVG)


@bp.get("/charts/reasons.svg")
@roles_required(*AUDIT_ROLES)
def chart_reasons() -> Response:
    svg = activity_charts.reasons_svg(_activity().reasons)
    db.session().rollback()
    return Response(svg, mimetype=SVG)


def _intervals() -> dict[str, int]:
    settings = current_app.config["HUB_SETTINGS"]
    return {
        "checkpoint": settings.checkpoint_interval,
        "consistency": settings.consistency_interval,
        "verify": settings.verify_interval,
    }


@bp.get("/ledger")
@roles_required(*AUDIT_ROLES, nav="Ledger health")
def ledger() -> str:
    """Diagnostics lights for the checkpoint, consistency check and full verification."""
    intervals = _intervals()
    settings = current_app.config["HUB_SETTINGS"]
    witnesses = health.WitnessPolicy(
        tuple(w.name for w in settings.witnesses), settings.witness_quorum_needed
    )
    report = health.ledger_health(
        db.session(), verifier_key(), checkpoint_interval=intervals["checkpoint"],
        consistency_interval=intervals["consistency"], verify_interval=intervals["verify"],
        witnesses=witnesses,
    )  # fmt: skip
    consult("dpo_ledger_health")
    who = viewer()
    return render_template("dpo/ledger.html", viewer=who, health=report, intervals=intervals,
                           can_verify=who.scope == "all")  # fmt: skip


@bp.post("/ledger/verify")
@roles_required("hub_dpo")
def ledger_verify() -> BaseResponse:
    """Run a full verification now (recorded like the worker's) and show the result."""
    session = db.session()
    key = verifier_key()
    health.run_consistency_check(session, key, "console")
    health.run_full_verification(session, key, "console")
    session.commit()
    return redirect(url_for("console.dpo.ledger"), code=303)
