"""Flows and refusals over time: weekly counts per flow, refusals by reason, drawn as SVG.

Counts are grouped by the database (per day, type, sender and recipient) over the
projection, then folded into ISO weeks here, so the work is bounded by days x flows and not
by the number of entries. Pictures are SVG documents served to an ``<img>`` (the CSP forbids
inline SVG styling); every colour is a presentation attribute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from xml.sax.saxutils import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.audit.scope import Viewer, in_scope
from hub.ledger.projection import events_table as ev
from hub.ledger.projection import recipients_table as rc

DISCLOSURE_COLOUR, REFUSAL_COLOUR = "#1d6fb8", "#c62828"


@dataclasses.dataclass(frozen=True)
class Activity:
    """Weekly counts and refusal reasons for the chosen period."""

    weeks: list[dt.date]  # Mondays, oldest first
    disclosures: list[int]
    refusals: list[int]
    by_flow: dict[str, list[tuple[int, int]]]  # "from -> to": (disclosures, refusals) per week
    reasons: list[tuple[str, int]]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def activity(session: Session, viewer: Viewer, weeks: int, today: dt.date) -> Activity:
    """Disclosures and refusals per week (per flow) and refusals by reason code."""
    first = _monday(today) - dt.timedelta(weeks=weeks - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    day = func.date(ev.c.time)
    query = (
        select(day, ev.c.type, ev.c.actor_partner, rc.c.partner, func.count())
        .select_from(ev.outerjoin(rc, rc.c.idx == ev.c.idx))
        .where(ev.c.type.in_(("disclosure", "refusal")), ev.c.time >= start)
        .group_by(day, ev.c.type, ev.c.actor_partner, rc.c.partner)
    )
    scope = in_scope(viewer)
    if scope is not None:
        query = query.where(scope)
    mondays = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    position = {monday: i for i, monday in enumerate(mondays)}
    shared, refused = [0] * weeks, [0] * weeks
    by_flow: dict[str, list[list[int]]] = {}
    for when, kind, sender, recipient, count in session.execute(query):
        day_value = when if isinstance(when, dt.date) else dt.date.fromisoformat(str(when))
        week = position.get(_monday(day_value))
        if week is None:
            continue
        flow = by_flow.setdefault(f"{sender} -> {recipient or '?'}", [[0, 0] for _ in mondays])
        column = 0 if kind == "disclosure" else 1
        flow[week][column] += count
        (shared if column == 0 else refused)[week] += count
    reasons: Counter[str] = Counter()
    reason_query = (
        select(ev.c.reasons, func.count())
        .where(ev.c.type == "refusal", ev.c.time >= start)
        .group_by(ev.c.reasons)
    )
    if scope is not None:
        reason_query = reason_query.where(scope)
    for codes, count in session.execute(reason_query):
        for code in (codes or "unknown").split():
            reasons[code] += count
    return Activity(
        mondays,
        shared,
        refused,
        {name: [(a, b) for a, b in weeks_] for name, weeks_ in sorted(by_flow.items())},
        reasons.most_common(),
    )


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
            f"<title>{escape(label)}</title>",
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
            *body,
            "</svg>",
        ]
    )


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family="sans-serif" '
        f'font-size="{size}" fill="#222222">{escape(text)}</text>'
    )


def weekly_svg(data: Activity) -> str:
    """Grouped bars: disclosures and refusals per week."""
    width, height, left, bottom, top = 900, 320, 50, 50, 40
    peak = max([1, *data.disclosures, *data.refusals])
    plot_h, slot = height - bottom - top, (width - left - 20) / max(len(data.weeks), 1)
    body = [
        _text(left, 20, "Disclosures and refusals per week", size=14),
        f'<rect x="{width - 250}" y="10" width="12" height="12" fill="{DISCLOSURE_COLOUR}"/>',
        _text(width - 232, 21, "disclosures"),
        f'<rect x="{width - 140}" y="10" width="12" height="12" fill="{REFUSAL_COLOUR}"/>',
        _text(width - 122, 21, "refusals"),
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        'stroke="#888888"/>',
        _text(left - 6, top + 4, str(peak), "end"),
        _text(left - 6, height - bottom, "0", "end"),
    ]
    bar = slot * 0.38
    for i, monday in enumerate(data.weeks):
        x = left + i * slot + slot * 0.1
        for offset, value, colour in (
            (0, data.disclosures[i], DISCLOSURE_COLOUR),
            (bar, data.refusals[i], REFUSAL_COLOUR),
        ):
            h = plot_h * value / peak
            body.append(
                f'<rect x="{x + offset:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{value}</title></rect>'
            )
        body.append(_text(x + bar, height - bottom + 16, monday.strftime("%d %b"), "middle", 10))
    return _svg(width, height, "Disclosures and refusals per week", body)


def reasons_svg(reasons: Sequence[tuple[str, int]]) -> str:
    """Horizontal bars: refusals by reason code."""
    rows = list(reasons)[:12] or [("no refusals in this period", 0)]
    width, line = 900, 26
    height = 50 + line * len(rows)
    peak = max([1, *(count for _, count in rows)])
    body = [_text(10, 20, "Refusals by reason", size=14)]
    for i, (code, count) in enumerate(rows):
        y = 40 + i * line
        w = 560 * count / peak
        body += [
            _text(250, y + 14, code, "end"),
            f'<rect x="260" y="{y}" width="{w:.1f}" height="18" fill="{REFUSAL_COLOUR}"/>',
            _text(266 + w, y + 14, str(count)),
        ]
    return _svg(width, height, "Refusals by reason", body)
