"""The data-sharing map as an SVG picture: partners as nodes, flows as edges by status.

Rendered server-side and served as ``image/svg+xml`` for an ``<img>``: the console's CSP
allows no inline SVG styling, so colours are presentation attributes, never ``style``.
Partners sit on a circle (a layout every reader can follow without a graph library); an
edge is a curved arrow from sender to recipient, its colour the register's light.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from hub.audit.register import RegisterRow

COLOURS = {"green": "#2e7d32", "amber": "#d18b00", "red": "#c62828"}
WIDTH, HEIGHT, RADIUS = 1000, 820, 300


def render_map(rows: Sequence[RegisterRow], names: Mapping[str, str]) -> str:
    """The SVG document for the register's agreements (latest version of each id)."""
    latest: dict[str, RegisterRow] = {}
    for row in rows:
        if row.id not in latest or row.version > latest[row.id].version:
            latest[row.id] = row
    edges: dict[tuple[str, str], str] = {}
    rank = {"red": 0, "amber": 1, "green": 2}
    for row in latest.values():
        for flow in row.flows:
            key = (flow.sender, flow.recipient)
            # Where two agreements cover one direction, show the best-standing one.
            if key not in edges or rank[row.light] > rank[edges[key]]:
                edges[key] = row.light
    nodes = sorted({p for key in edges for p in key})
    cx, cy = WIDTH / 2, HEIGHT / 2 + 30
    where = {
        node: (
            cx + RADIUS * math.cos(2 * math.pi * i / max(len(nodes), 1) - math.pi / 2),
            cy + RADIUS * math.sin(2 * math.pi * i / max(len(nodes), 1) - math.pi / 2),
        )
        for i, node in enumerate(nodes)
    }
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Data-sharing map">',
        "<title>Data-sharing map: partners and the flows between them</title>",
        "<defs>",
        *(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
            for name, colour in COLOURS.items()
        ),
        "</defs>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for (sender, recipient), light in sorted(edges.items()):
        (x1, y1), (x2, y2) = where[sender], where[recipient]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        # Stop short of the node circles and bend to one side so A->B and B->A both show.
        sx, sy = x1 + dx / length * 22, y1 + dy / length * 22
        ex, ey = x2 - dx / length * 22, y2 - dy / length * 22
        mx, my = (sx + ex) / 2 - dy / length * 30, (sy + ey) / 2 + dx / length * 30
        parts.append(
            f'<path d="M {sx:.1f} {sy:.1f} Q {mx:.1f} {my:.1f} {ex:.1f} {ey:.1f}" fill="none" '
            f'stroke="{COLOURS[light]}" stroke-width="2.5" marker-end="url(#arrow-{light})">'
            f"<title>{escape(sender)} to {escape(recipient)}: {light}</title></path>"
        )
    for node in nodes:
        x, y = where[node]
        name = escape(names.get(node, node))
        anchor = "middle" if abs(x - cx) < 60 else ("start" if x > cx else "end")
        lx = x + (0 if anchor == "middle" else (26 if anchor == "start" else -26))
        ly = (y + 36 if y > cy else y - 28) if anchor == "middle" else y + 5
        parts += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="18" fill="#e8eef7" stroke="#1d3f72" '
            f'stroke-width="2"><title>{name}</title></circle>',
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-family="sans-serif" '
            f'font-size="14" fill="#111111">{escape(node)}<title>{name}</title></text>',
        ]
    legend = [("green", "in force"), ("amber", "review due within 3 months"),
              ("red", "not in force or review overdue")]  # fmt: skip
    for i, (light, text) in enumerate(legend):
        y = 24 + i * 22
        parts += [
            f'<line x1="16" y1="{y}" x2="56" y2="{y}" stroke="{COLOURS[light]}" stroke-width="3"/>',
            f'<text x="64" y="{y + 5}" font-family="sans-serif" font-size="13" fill="#111111">'
            f"{escape(text)}</text>",
        ]
    if not nodes:
        parts.append(
            f'<text x="{cx}" y="{cy}" text-anchor="middle" font-family="sans-serif" '
            'font-size="16" fill="#555555">No agreements loaded: run hub sync</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
