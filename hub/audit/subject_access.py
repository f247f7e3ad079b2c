"""Subject access (UK GDPR Art 15): the request register and the report about one person.

The DPO types the person's identifiers; the hub turns them into subject commitments with its
own secret (the same HMAC as every disclosure), looks the commitments up in the projection's
indexed ``audit_subjects`` table and reads only the matching entries. The identifiers are
never stored or logged; the register keeps the commitments and the DPO's case reference.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import deadlines
from hub.audit.models import SAR_STATUSES, SubjectAccessRequest
from hub.audit.scope import Viewer, in_scope
from hub.audit.search import Row, rows_for
from hub.errors import Conflict, NotFound, ValidationFailed
from hub.ledger.models import LedgerEntry
from hub.ledger.projection import event_of
from hub.ledger.projection import events_table as ev
from hub.ledger.projection import subjects_table as sj
from hub.sharing.subjects import subject_commitments

IDENTIFIER_FIELDS = ("given_name", "family_name", "date_of_birth", "pnc_id", "nhs_number")
REPORT_TYPES = ("disclosure", "refusal", "consultation", "correction", "erasure")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _./\-]{0,63}")


def _invalid(pointer: str, detail: str) -> ValidationFailed:
    return ValidationFailed(
        "The request is not valid; see errors.",
        errors=[{"pointer": f"#/{pointer}", "code": "invalid", "detail": detail}],
    )


# -- the register ---------------------------------------------------------------------


def register_request(
    session: Session,
    viewer: Viewer,
    reference: str,
    received_on: str,
    identity_checked: bool,
) -> SubjectAccessRequest:
    """Add a request to the register with its ICO due date (flushes, never commits)."""
    viewer.require_bodies()
    reference = reference.strip()
    if not _REFERENCE.fullmatch(reference):
        raise _invalid("reference", "a case reference of letters, digits, spaces, _ . / -")
    try:
        received = dt.date.fromisoformat(received_on)
    except ValueError:
        raise _invalid("received_on", "must be a date YYYY-MM-DD") from None
    request = SubjectAccessRequest(
        partner_id=viewer.partner_id,
        reference=reference,
        received_on=received,
        identity_checked=identity_checked,
        due_on=deadlines.due_date(received),
        status="identity_checked" if identity_checked else "received",
        subjects=[],
        created_by=viewer.pseudonym,
    )
    session.add(request)
    session.flush()
    return request


def list_requests(session: Session, viewer: Viewer) -> list[SubjectAccessRequest]:
    """The register: the agency's own requests (every request for the hub DPO)."""
    viewer.require_bodies()
    query = select(SubjectAccessRequest).order_by(SubjectAccessRequest.id.desc())
    if viewer.scope != "all":
        query = query.where(SubjectAccessRequest.partner_id == viewer.partner_id)
    return list(session.scalars(query))


def get_request(session: Session, viewer: Viewer, request_id: int) -> SubjectAccessRequest:
    """One request of the register, or 404."""
    viewer.require_bodies()
    request = session.get(SubjectAccessRequest, request_id)
    if request is None or (viewer.scope != "all" and request.partner_id != viewer.partner_id):
        raise NotFound("no such subject access request in your register")
    return request


def extend_request(
    session: Session, viewer: Viewer, request_id: int, reason: str, today: dt.date
) -> SubjectAccessRequest:
    """Extend by two months (complex request), once, within month one, with a reason."""
    request = get_request(session, viewer, request_id)
    reason = " ".join(reason.split())[:500]
    try:
        extended = deadlines.check_extension(
            request.received_on, today, reason, request.extended_to is not None
        )
    except deadlines.ExtensionRefused as exc:
        raise Conflict(str(exc)) from None
    request.extended_to, request.extension_reason, request.extended_on = extended, reason, today
    session.flush()
    return request


def set_status(
    session: Session, viewer: Viewer, request_id: int, status: str
) -> SubjectAccessRequest:
    """Move a request along (identity checked, completed, withdrawn)."""
    request = get_request(session, viewer, request_id)
    if status not in SAR_STATUSES:
        raise _invalid("status", f"must be one of {', '.join(SAR_STATUSES)}")
    request.status = status
    if status == "identity_checked":
        request.identity_checked = True
    session.flush()
    return request


# -- the report -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReportItem:
    """One entry about the person: who got what, when, under which agreement and basis."""

    row: Row
    fields_released: tuple[str, ...]
    fields_withheld: tuple[str, ...]
    viewed_entry: int | None


@dataclasses.dataclass(frozen=True)
class SubjectReport:
    """Everything the ledger holds about one person, grouped by kind."""

    commitments: tuple[str, ...]
    identifiers_used: tuple[str, ...]  # field names only, never the values
    disclosures: list[ReportItem]
    refusals: list[ReportItem]
    views: list[ReportItem]
    changes: list[ReportItem]  # corrections and erasures

    @property
    def total(self) -> int:
        return len(self.disclosures) + len(self.refusals) + len(self.views) + len(self.changes)


def identifiers_from(form: Mapping[str, str]) -> dict[str, str]:
    """The non-empty identifiers typed in, validated (422 on a malformed date of birth)."""
    values = {name: (form.get(name) or "").strip() for name in IDENTIFIER_FIELDS}
    values = {name: value[:200] for name, value in values.items() if value}
    if "date_of_birth" in values:
        try:
            dt.date.fromisoformat(values["date_of_birth"])
        except ValueError:
            raise _invalid("date_of_birth", "must be a date YYYY-MM-DD") from None
    if not values:
        raise _invalid("given_name", "give at least one identifier")
    return values


def commitments_for(secret: bytes, identifiers: Mapping[str, str]) -> list[str]:
    """The commitments the hub would have written for these identifiers (or 422 if none).

    A name commits only together with family name and date of birth, as in every message.
    """
    found = subject_commitments(secret, identifiers)
    if not found:
        raise _invalid(
            "given_name",
            "name search needs given name, family name and date of birth together; "
            "or give a PNC id or NHS number",
        )
    return found


def subject_report(session: Session, viewer: Viewer, commitments: list[str]) -> SubjectReport:
    """Every disclosure, refusal, view and change naming any of ``commitments``.

    Two indexed reads (the subject index, then the projection rows by primary key) and one
    read of the matching entries by primary key for the field names; no scan.
    """
    viewer.require_bodies()
    matching = select(sj.c.idx).where(sj.c.commitment.in_(commitments)).distinct()
    query = select(ev).where(ev.c.idx.in_(matching), ev.c.type.in_(REPORT_TYPES))
    scope = in_scope(viewer)
    if scope is not None:
        query = query.where(scope)
    records = list(session.execute(query.order_by(ev.c.idx)))
    rows = rows_for(session, records, viewer)
    bodies = _bodies(session, [row.index for row in rows])
    report = SubjectReport(tuple(commitments), (), [], [], [], [])
    for row in rows:
        body = bodies.get(row.index, {})
        item = ReportItem(
            row,
            tuple(body.get("fields_released") or body.get("fields") or ()),
            tuple(w["field"] for w in body.get("fields_withheld") or ()),
            body.get("entry") if row.type == "consultation" else None,
        )
        {
            "disclosure": report.disclosures,
            "refusal": report.refusals,
            "consultation": report.views,
        }.get(row.type, report.changes).append(item)
    return report


def _bodies(session: Session, indexes: list[int]) -> dict[int, dict[str, Any]]:
    if not indexes:
        return {}
    query = select(LedgerEntry.index, LedgerEntry.entry).where(LedgerEntry.index.in_(indexes))
    return {int(i): event_of(bytes(blob)) for i, blob in session.execute(query)}


def attach_subjects(request: SubjectAccessRequest, commitments: list[str]) -> None:
    """Remember which commitments a registered request searched (not the identifiers)."""
    request.subjects = sorted(set(request.subjects) | set(commitments))
    if request.status in ("received", "identity_checked"):
        request.status = "searching"
