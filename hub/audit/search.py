"""Disclosure search: every ledger event the viewer may see, filtered, newest first.

Reads only the audit projection, with keyset pagination on the ledger index (``before``), so
each page is an index range scan whatever the ledger's size. Filters mirror what DPOs use in
Apache Ranger's audit tab and ECINS: from/to agency, agreement and version, purpose, basis,
event type, result and date range.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session

from hub.audit.scope import Viewer, in_scope
from hub.errors import ValidationFailed
from hub.ledger.events import EVENT_TYPES
from hub.ledger.projection import RESULT_PARTIAL, RESULT_REFUSED, RESULT_SHARED
from hub.ledger.projection import events_table as ev
from hub.ledger.projection import recipients_table as rc

PAGE_SIZE = 50
MAX_EXPORT = 100_000
RESULTS = (RESULT_SHARED, RESULT_PARTIAL, RESULT_REFUSED)
_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
FILTER_NAMES = (
    "from_partner", "to_partner", "agreement", "version", "purpose", "basis",
    "type", "result", "date_from", "date_to",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Filters:
    """Validated search filters; ``None`` means "any"."""

    from_partner: str | None = None
    to_partner: str | None = None
    agreement: str | None = None
    version: str | None = None
    purpose: str | None = None
    basis: str | None = None
    type: str | None = None
    result: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values (for links to the next page and the CSV)."""
        return {
            name: value.isoformat() if isinstance(value, dt.date) else str(value)
            for name in FILTER_NAMES
            if (value := getattr(self, name)) is not None
        }


@dataclasses.dataclass(frozen=True)
class Row:
    """One search result: the projection's metadata of one entry."""

    index: int
    type: str
    time: dt.datetime
    actor_partner: str
    actor_user: str | None
    recipients: tuple[str, ...]
    agreement_id: str | None
    agreement_version: str | None
    purpose: str | None
    basis: tuple[str, ...]
    kind: str | None
    result: str | None
    reasons: tuple[str, ...]
    ref: str | None
    about_entry: int | None


@dataclasses.dataclass(frozen=True)
class Page:
    """A page of rows and the cursor of the next (older) page, if any."""

    rows: list[Row]
    next_before: int | None


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Validate query-string filters; a bad value is a 422 naming the parameter."""
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}

    def fail(name: str, detail: str) -> None:
        errors.append({"pointer": f"#/{name}", "code": "invalid", "detail": detail})

    for name in FILTER_NAMES:
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        if name in ("date_from", "date_to"):
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                fail(name, "must be a date YYYY-MM-DD")
        elif name == "type" and raw not in EVENT_TYPES:
            fail(name, f"must be one of {', '.join(EVENT_TYPES)}")
        elif name == "result" and raw not in RESULTS:
            fail(name, f"must be one of {', '.join(RESULTS)}")
        elif name in ("from_partner", "to_partner", "agreement", "version") and not (
            _IDENT.fullmatch(raw)
        ):
            fail(name, "must be an identifier")
        elif name in ("purpose", "basis") and not _CODE.fullmatch(raw):
            fail(name, "must be a code")
        else:
            values[name] = raw
    if errors:
        raise ValidationFailed("Some search filters are not valid; see errors.", errors=errors)
    return Filters(**values)


def parse_cursor(raw: str | None) -> int | None:
    """The ``before`` cursor: a ledger index, or 422."""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(
            "The page cursor is not valid.",
            errors=[{"pointer": "#/before", "code": "invalid", "detail": "must be an index"}],
        )
    return int(raw)


def _query(viewer: Viewer, filters: Filters) -> Select[Any]:
    query = select(ev)
    scope = in_scope(viewer)
    if scope is not None:
        query = query.where(scope)
    if filters.from_partner:
        query = query.where(ev.c.actor_partner == filters.from_partner)
    if filters.to_partner:
        query = query.where(
            exists(
                select(rc.c.idx).where(
                    and_(rc.c.idx == ev.c.idx, rc.c.partner == filters.to_partner)
                )
            )
        )
    if filters.agreement:
        query = query.where(ev.c.agreement_id == filters.agreement)
    if filters.version:
        query = query.where(ev.c.agreement_version == filters.version)
    if filters.purpose:
        query = query.where(ev.c.purpose == filters.purpose)
    if filters.basis:
        query = query.where(ev.c.basis.contains(f" {filters.basis} ", autoescape=True))
    if filters.type:
        query = query.where(ev.c.type == filters.type)
    if filters.result:
        query = query.where(ev.c.result == filters.result)
    if filters.date_from:
        query = query.where(ev.c.time >= _midnight(filters.date_from))
    if filters.date_to:
        query = query.where(ev.c.time < _midnight(filters.date_to + dt.timedelta(days=1)))
    return query


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def rows_for(session: Session, records: Sequence[Any], viewer: Viewer) -> list[Row]:
    """Projection records as rows, with their recipients (one extra query per page)."""
    indexes = [int(r.idx) for r in records]
    recipients: dict[int, list[str]] = {}
    if indexes:
        query = select(rc.c.idx, rc.c.partner).where(rc.c.idx.in_(indexes))
        for index, partner in session.execute(query):
            recipients.setdefault(int(index), []).append(partner)
    return [
        Row(
            index=int(r.idx),
            type=r.type,
            time=r.time,
            actor_partner=r.actor_partner,
            actor_user=r.actor_user if viewer.sees_bodies else None,
            recipients=tuple(sorted(recipients.get(int(r.idx), ()))),
            agreement_id=r.agreement_id,
            agreement_version=r.agreement_version,
            purpose=r.purpose,
            basis=_codes(r.basis),
            kind=r.kind,
            result=r.result,
            reasons=_codes(r.reasons),
            ref=r.ref if viewer.sees_bodies else None,
            about_entry=r.about_entry,
        )
        for r in records
    ]


def search(
    session: Session,
    viewer: Viewer,
    filters: Filters,
    *,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of matching entries, newest first. Records nothing (see the caller)."""
    query = _query(viewer, filters)
    if before is not None:
        query = query.where(ev.c.idx < before)
    records = list(session.execute(query.order_by(ev.c.idx.desc()).limit(limit + 1)))
    more = len(records) > limit
    rows = rows_for(session, records[:limit], viewer)
    return Page(rows, rows[-1].index if more and rows else None)


CSV_HEADER = (
    "index", "time", "type", "result", "from", "user", "recipients", "agreement", "version",
    "purpose", "basis", "kind", "reasons",
)  # fmt: skip


def export_csv(session: Session, viewer: Viewer, filters: Filters) -> Iterator[str]:
    """Every matching row as CSV lines (header first), in pages of 1,000, newest first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    before: int | None = None
    written = 0
    while True:
        page = search(session, viewer, filters, before=before, limit=1000)
        for row in page.rows:
            writer.writerow(
                [
                    row.index, row.time.isoformat(), row.type, row.result or "",
                    row.actor_partner, row.actor_user or "", " ".join(row.recipients),
                    row.agreement_id or "", row.agreement_version or "", row.purpose or "",
                    " ".join(row.basis), row.kind or "", " ".join(row.reasons),
                ]
            )  # fmt: skip
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        written += len(page.rows)
        if page.next_before is None or written >= MAX_EXPORT:
            return
        before = page.next_before
