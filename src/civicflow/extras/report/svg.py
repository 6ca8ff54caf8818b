"""Charts drawn on the server as inline SVG: no script, no library, nothing to fetch.

Each chart is a small ``<svg class="chart" data-chart=KIND>`` of rectangles and
lines; its words (N, the rate, a legend) are HTML beside it, so they take the
page's fonts and print sharp. A suppressed figure draws a hatched bar, never an
empty or zero one.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import Decimal

from civicflow.views import Satisfaction

COLOURS = {
    "satisfied": "#2e7d32",
    "basically_satisfied": "#9ccc65",
    "dissatisfied": "#e53935",
    "planned": "#90a4ae",
    "spent": "#1565c0",
    "line": "#1565c0",
    "empty": "#eceff1",
}
STAGE_COLOURS = {
    "asked": "#b0bec5",
    "discussing": "#80deea",
    "doing": "#ffb74d",
    "done": "#ffe082",
    "rating": "#9575cd",
    "rejected": "#a1887f",
    "closed": "#66bb6a",
    "withdrawn": "#e0e0e0",
}
LEVELS = ("satisfied", "basically_satisfied", "dissatisfied")

# Defined once per page; every hatched bar refers to it.
DEFS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#78909c" stroke-width="3"/></pattern>'
    "</defs></svg>"
)


def _svg(kind: str, width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg class="chart" data-chart="{kind}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img">'
        f"<title>{html.escape(label)}</title>{body}</svg>"
    )


def _rect(x: float, width: float, height: int, fill: str, part: str = "") -> str:
    data = f' data-part="{part}"' if part else ""
    return f'<rect x="{x:.1f}" width="{width:.1f}" height="{height}" fill="{fill}"{data}/>'


def levels(figure: Satisfaction | None, label: str, width: int = 160, height: int = 14) -> str:
    """Satisfied / basically satisfied / dissatisfied as one stacked bar."""
    if figure is None or figure.suppressed or not figure.n:
        fill = "url(#hatch)" if figure is not None and figure.suppressed else COLOURS["empty"]
        part = "suppressed" if figure is not None and figure.suppressed else "none"
        return _svg("levels", width, height, label, _rect(0, width, height, fill, part))
    x, body = 0.0, []
    for level in LEVELS:
        count = getattr(figure, level) or 0
        share = width * count / figure.n
        if share:
            body.append(_rect(x, share, height, COLOURS[level], level))
        x += share
    return _svg("levels", width, height, label, "".join(body))


def trend(rates: Sequence[Decimal | None], label: str, width: int = 90, height: int = 24) -> str:
    """A rate over the quarters: a dot for each shown one (none where hidden or
    unrated), joined by a line."""
    step = (width - 8) / max(1, len(rates) - 1)

    def y(rate: Decimal) -> float:
        return height - 3 - float(rate) * (height - 6)

    points = [(4 + i * step, y(r)) for i, r in enumerate(rates) if r is not None]
    base = f'<line x1="0" y1="{height - 1}" x2="{width}" y2="{height - 1}" stroke="#cfd8dc"/>'
    line = ""
    if len(points) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        line = f'<polyline points="{path}" fill="none" stroke="{COLOURS["line"]}"/>'
    # Each dot a zero-length stroke with round caps: one short path for all of them.
    moves = "".join(f"M{px:.1f} {py:.1f}h0" for px, py in points)
    dots = f'<path d="{moves}" stroke="{COLOURS["line"]}" stroke-width="5" stroke-linecap="round"/>'
    dots = dots if points else ""
    return _svg("trend", width, height, label, base + line + dots)


def stages(counts: dict[str, int], order: Sequence[str], label: str, width: int = 240) -> str:
    """Proposals per stage as one stacked bar."""
    height, total = 14, sum(counts.values())
    if not total:
        return _svg("stages", width, height, label, _rect(0, width, height, COLOURS["empty"]))
    x, body = 0.0, []
    for stage in (*order, *sorted(set(counts) - set(order))):
        share = width * counts.get(stage, 0) / total
        if share:
            body.append(_rect(x, share, height, STAGE_COLOURS.get(stage, "#bdbdbd"), stage))
        x += share
    return _svg("stages", width, height, label, "".join(body))


def spending(planned: Decimal | None, spent: Decimal, most: Decimal, label: str) -> str:
    """Planned (grey) above spent (blue), on one scale for the whole table."""
    width, height = 160, 16
    scale = width / float(most) if most else 0.0
    top = _bar(0, float(planned or 0) * scale, COLOURS["planned"], "planned")
    bottom = _bar(8, float(spent) * scale, COLOURS["spent"], "spent")
    return _svg("money", width, height, label, top + bottom)


def _bar(y: int, width: float, fill: str, part: str) -> str:
    return (
        f'<rect y="{y}" width="{max(width, 1.0):.1f}" height="7" fill="{fill}" data-part="{part}"/>'
    )


def swatch(colour: str) -> str:
    """A small square of a legend."""
    return (
        f'<svg class="swatch" width="10" height="10" aria-hidden="true">'
        f'<rect width="10" height="10" fill="{colour}"/></svg>'
    )
